import {
  ClientProxy,
  NatsContext,
  NatsRecord,
  Server,
  type CustomTransportStrategy,
  type ReadPacket,
  type WritePacket,
} from '@nestjs/microservices';
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { fromNatsHeaders, MapHeaders, type HeaderMap } from './headers.js';

type Delivery = (data: string, headers: HeaderMap, reply: (packet: string) => void) => void;

/**
 * The async context deliveries run in: the one of this module's loading, outside any request. Without
 * it, AsyncLocalStorage state (the active span, anything request-scoped) would flow from caller to
 * handler through setImmediate, which NATS cannot do; only what the headers carry may cross.
 */
const detachedScope = new AsyncResource('sealbox-in-process-delivery');

/**
 * The broker of the in-process transport: subjects to handlers, as NATS would route them.
 * Everything crossing it is a JSON string, so payloads go through the same serialization round trip
 * as on NATS (no shared object references, dates become strings, undefined fields vanish).
 */
export class InProcessBus {
  private readonly subscribers = new Map<string, Delivery>();

  subscribe(subject: string, deliver: Delivery): void {
    this.subscribers.set(subject, deliver);
  }

  /** Remove `deliver` from `subject`, unless another server took the subject over since. */
  unsubscribe(subject: string, deliver: Delivery): void {
    if (this.subscribers.get(subject) === deliver) this.subscribers.delete(subject);
  }

  unsubscribeAll(): void {
    this.subscribers.clear();
  }

  /**
   * Returns false when nobody listens. NATS answers such a request at once with a "no responders"
   * status, so the client reports that instead of waiting for its deadline.
   */
  publish(subject: string, data: string, headers: HeaderMap, reply: (packet: string) => void): boolean {
    const deliver = this.subscribers.get(subject);
    if (!deliver) return false;
    // Deliver asynchronously and outside the caller's async context, as a network hop would.
    detachedScope.runInAsyncScope(() => setImmediate(() => deliver(data, { ...headers }, reply)));
    return true;
  }
}

interface WirePacket {
  readonly id: string;
  readonly pattern: string;
  readonly data: unknown;
}

/** Nest transport strategy that serves handlers on an InProcessBus (used by apps/standalone). */
export class InProcessServer extends Server implements CustomTransportStrategy {
  /** This server's subscriptions: closing it must leave the other services on the bus serving. */
  private readonly subscriptions = new Map<string, Delivery>();

  constructor(private readonly bus: InProcessBus) {
    super();
    this.transportId = Symbol('sealbox-in-process');
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    for (const subject of this.messageHandlers.keys()) {
      const deliver: Delivery = (data, headers, reply) => {
        void this.handleMessage(subject, data, headers, reply).catch((error: unknown) =>
          this.logger.error(error),
        );
      };
      this.bus.subscribe(subject, deliver);
      this.subscriptions.set(subject, deliver);
    }
    callback();
  }

  private async handleMessage(
    subject: string,
    data: string,
    headers: HeaderMap,
    reply: (packet: string) => void,
  ): Promise<void> {
    const packet = JSON.parse(data) as WirePacket;
    const context = new NatsContext([subject, new MapHeaders(headers)]);
    const respond = (response: WritePacket) => reply(JSON.stringify({ ...response, id: packet.id }));
    const handler = this.getHandlerByPattern(subject);
    if (!handler) {
      respond({ err: 'There is no matching message handler defined in the remote service.', isDisposed: true });
      return;
    }
    this.handleRequest(context, async () => this.transformToObservable(await handler(packet.data, context)), respond);
  }

  close(): void {
    for (const [subject, deliver] of this.subscriptions) this.bus.unsubscribe(subject, deliver);
    this.subscriptions.clear();
  }

  on(): void {
    // The in-process bus has no connection events.
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}

/** Nest client proxy over an InProcessBus; understands NatsRecord so callers build one record type. */
export class InProcessClient extends ClientProxy {
  constructor(private readonly bus: InProcessBus) {
    super();
  }

  async connect(): Promise<void> {
    // Nothing to connect to.
  }

  close(): void {
    this.routingMap.clear();
  }

  override on(): void {
    // No connection events.
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  protected publish(partial: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const id = randomUUID();
    const record = partial.data instanceof NatsRecord ? (partial.data as NatsRecord) : undefined;
    const data = record ? record.data : partial.data;
    const headers = record ? fromNatsHeaders(record.headers) : {};
    const subject = this.normalizePattern(partial.pattern);
    let active = true;
    const delivered = this.bus.publish(subject, JSON.stringify({ id, pattern: subject, data }), headers, (raw) => {
      if (!active) return;
      const { err, response, isDisposed } = JSON.parse(raw) as WritePacket;
      callback(err || isDisposed ? { err, response, isDisposed: true } : { err, response });
    });
    if (!delivered) {
      // What Nest's NATS client reports for NATS's "no responders" status (an empty reply).
      const noResponders = new Error(`Empty response. There are no subscribers listening to that message ("${subject}")`);
      setImmediate(() => {
        if (active) callback({ err: noResponders, isDisposed: true });
      });
    }
    return () => {
      active = false;
    };
  }

  protected async dispatchEvent<T = unknown>(): Promise<T> {
    throw new Error('Events travel through the outbox and the event bus, not through RPC');
  }
}
