import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type CloudEvent } from '@sealbox/contracts';
import type { Logger } from 'pino';
import type { NatsConnectionConfig } from '../config/fragments.js';
import { natsConnectionOptions } from '../rpc/nats.js';
import type { EventPublisher } from './publisher.js';

const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** Make sure the events stream exists (idempotent; safe for every service to call at start). */
export async function ensureEventsStream(nc: NatsConnection): Promise<void> {
  const manager = await jetstreamManager(nc);
  const config = {
    name: EVENTS_STREAM,
    subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  try {
    await manager.streams.info(EVENTS_STREAM);
  } catch {
    try {
      await manager.streams.add(config);
    } catch (error) {
      // Another service created it in between.
      await manager.streams.info(EVENTS_STREAM).catch(() => {
        throw error;
      });
    }
  }
}

/**
 * Publishes outbox events to JetStream, waiting for the stream's acknowledgement; `msgID` is the
 * event id, so a republish after a crash is dropped as a duplicate.
 */
export class JetStreamPublisher implements EventPublisher {
  private connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;

  constructor(
    private readonly nats: NatsConnectionConfig,
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  async publish(subject: string, event: CloudEvent): Promise<void> {
    const { js } = await this.connect();
    await js.publish(subject, JSON.stringify(event), { msgID: event.id, timeout: 5000 });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await (await connection.catch(() => undefined))?.nc.close();
  }

  private connect(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    this.connection ??= (async () => {
      const nc = await connect(natsConnectionOptions(this.nats, `${this.name}-events`));
      await ensureEventsStream(nc);
      this.logger.info('connected to the event stream');
      return { nc, js: jetstream(nc) };
    })().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }
}
