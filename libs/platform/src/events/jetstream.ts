import { JetStreamApiError, jetstream, jetstreamManager, StorageType, type JetStreamClient, type StreamInfo } from '@nats-io/jetstream';
import { connect, nanos, NoRespondersError, RequestError, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type CloudEvent } from '@sealbox/contracts';
import type { Logger } from 'pino';
import type { NatsConnectionConfig } from '../config/fragments.js';
import { natsConnectionOptions } from '../rpc/nats.js';
import type { EventPublisher } from './publisher.js';

/** How the events stream is kept; every service reconciles the stream to these settings at start. */
export interface EventsStreamSettings {
  /** Copies of the stream on the cluster's JetStream nodes; `auto`: 3 when the cluster has 3 or more servers, else 1. */
  readonly replicas: number | 'auto';
  readonly storage: 'file' | 'memory';
  /** Events older than this are dropped from the stream (0: kept until max bytes). */
  readonly maxAgeMs: number;
  /** The stream's size cap in bytes, oldest events dropped first (-1: no cap). */
  readonly maxBytes: number;
  /** A republish of the same event id within this window is dropped (the outbox relay's exactly-once). */
  readonly duplicateWindowMs: number;
}

export const DEFAULT_EVENTS_STREAM: EventsStreamSettings = {
  replicas: 'auto',
  storage: 'file',
  maxAgeMs: 0,
  maxBytes: -1,
  duplicateWindowMs: 2 * 60_000,
};

/** A setting the stream has and the configuration wants otherwise, that JetStream cannot change in place. */
export class StreamSettingsError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}. Fix: ${fix}`);
    this.name = 'StreamSettingsError';
  }
}

/** `auto` replicas from the servers the connected server knows in its cluster (itself included). */
export function replicasFor(settings: Pick<EventsStreamSettings, 'replicas'>, clusterServers: number): number {
  if (settings.replicas !== 'auto') return settings.replicas;
  return clusterServers >= 3 ? 3 : 1;
}

/**
 * Make sure the events stream exists with the configured settings (safe for every service to call at
 * start, concurrently): created when missing, updated when its replicas, age, size or duplicate window
 * differ. Its storage type cannot change in place: that is a StreamSettingsError naming both values.
 */
export async function ensureEventsStream(nc: NatsConnection, settings: EventsStreamSettings = DEFAULT_EVENTS_STREAM): Promise<void> {
  const manager = await jetstreamManager(nc);
  const servers = new Set(nc.info?.connect_urls ?? []).size;
  const wanted = {
    num_replicas: replicasFor(settings, Math.max(1, servers)),
    max_age: nanos(settings.maxAgeMs),
    max_bytes: settings.maxBytes,
    duplicate_window: nanos(settings.duplicateWindowMs),
  };
  const storage = settings.storage === 'memory' ? StorageType.Memory : StorageType.File;
  let current: StreamInfo | undefined;
  try {
    current = await manager.streams.info(EVENTS_STREAM);
  } catch {
    try {
      await manager.streams.add({ name: EVENTS_STREAM, subjects: [`${EVENTS_SUBJECT_PREFIX}.>`], storage, ...wanted });
      return;
    } catch (error) {
      // Another service created it in between: reconcile with what it made.
      current = await manager.streams.info(EVENTS_STREAM).catch(() => {
        throw error;
      });
    }
  }
  if (current.config.storage !== storage) {
    throw new StreamSettingsError(
      `the event stream ${EVENTS_STREAM} is stored in ${current.config.storage}, the configuration asks for ${settings.storage}, and JetStream cannot change that in place`,
      `set SEALBOX_EVENTS_STREAM_STORAGE=${current.config.storage}, or move the events to a new stream first`,
    );
  }
  const differs = (Object.keys(wanted) as (keyof typeof wanted)[]).some((key) => current.config[key] !== wanted[key]);
  if (differs) await manager.streams.update(EVENTS_STREAM, { ...current.config, ...wanted });
}

/** What a failed publish means, in words an operator can act on (nats.js says "jetstream is not enabled" for a stream without a leader). */
export function describePublishFailure(error: unknown): string {
  if (streamUnavailable(error)) {
    return `the event stream ${EVENTS_STREAM} is unavailable (no JetStream server or stream leader answers; a cluster elects a new leader within seconds)`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Nobody answered for the stream: no responders (nats.js reports a publish that met none as
 * "jetstream is not enabled", with the no-responders error as its cause) or a 503 from the JetStream
 * API. Told by the errors' types along the cause chain, never by their text.
 */
function streamUnavailable(error: unknown, depth = 0): boolean {
  if (error instanceof NoRespondersError) return true;
  if (error instanceof RequestError && error.isNoResponders()) return true;
  if (error instanceof JetStreamApiError && error.status === 503) return true;
  return depth < 5 && error instanceof Error && error.cause !== undefined && streamUnavailable(error.cause, depth + 1);
}

/**
 * Publishes outbox events to JetStream, waiting for the stream's acknowledgement; `msgID` is the
 * event id, so a republish after a crash is dropped as a duplicate.
 */
export class JetStreamPublisher implements EventPublisher {
  private connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  private readonly reachable = new Set<() => void>();
  /** How to fail each publish waiting for its acknowledgement (when the connection drops). */
  private readonly awaitingAck = new Set<(error: Error) => void>();

  constructor(
    private readonly nats: NatsConnectionConfig,
    private readonly name: string,
    private readonly logger: Logger,
    private readonly stream: EventsStreamSettings = DEFAULT_EVENTS_STREAM,
  ) {}

  /**
   * Publish and wait for the stream's acknowledgement (5 s at most). A publish in flight when the
   * connection drops fails at once: its acknowledgement could only come on that connection. The
   * caller publishes again (the relay does, once reconnected), and the stream drops the duplicate.
   */
  async publish(subject: string, event: CloudEvent): Promise<void> {
    const { js } = await this.connect();
    let fail: (error: Error) => void = () => undefined;
    const dropped = new Promise<never>((_resolve, reject) => {
      fail = reject;
    });
    this.awaitingAck.add(fail);
    try {
      await Promise.race([js.publish(subject, JSON.stringify(event), { msgID: event.id, timeout: 5000 }), dropped]);
    } finally {
      this.awaitingAck.delete(fail);
    }
  }

  onReachable(listener: () => void): () => void {
    this.reachable.add(listener);
    return () => this.reachable.delete(listener);
  }

  /**
   * Connect and reconcile the stream now (at start): a StreamSettingsError is thrown (the start should
   * fail with it); any other failure is logged and left to the first publish, which retries.
   */
  async prepare(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      if (error instanceof StreamSettingsError) throw error;
      this.logger.warn({ reason: describePublishFailure(error) }, 'the event stream cannot be prepared yet; publishing will retry');
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await (await connection.catch(() => undefined))?.nc.close();
  }

  private async followReconnects(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        const error = new Error('the NATS connection dropped before the stream acknowledged the event');
        for (const fail of this.awaitingAck) fail(error);
        this.awaitingAck.clear();
      }
      if (status.type === 'reconnect') for (const listener of this.reachable) listener();
    }
  }

  private connect(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    this.connection ??= (async () => {
      const nc = await connect(natsConnectionOptions(this.nats, `${this.name}-events`));
      await ensureEventsStream(nc, this.stream);
      this.logger.info('connected to the event stream');
      void this.followReconnects(nc);
      for (const listener of this.reachable) listener();
      return { nc, js: jetstream(nc) };
    })().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }
}
