import {
  ClientProxy,
  NatsContext,
  NatsRecord,
  Server,
  type CustomTransportStrategy,
  type ReadPacket,
  type WritePacket,
} from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { fromNatsHeaders, MapHeaders, type HeaderMap } from './headers.js';

type Delivery = (data: string, headers: HeaderMap, reply: (packet: string) => void) => void;

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

  unsubscribeAll(): void {
    this.subscribers.clear();
  }

  /** Returns false when nobody listens; like a NATS request with no responder, the caller then times out. */
  publish(subject: string, data: string, headers: HeaderMap, reply: (packet: string) => void): boolean {
    const deliver = this.subscribers.get(subject);
    if (!deliver) return false;
    // Deliver asynchronously, as a network hop would.
    setImmediate(() => deliver(data, { ...headers }, reply));
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
  constructor(private readonly bus: InProcessBus) {
    super();
    this.transportId = Symbol('sealbox-in-process');
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    for (const subject of this.messageHandlers.keys()) {
      this.bus.subscribe(subject, (data, headers, reply) => {
        void this.handleMessage(subject, data, headers, reply).catch((error: unknown) =>
          this.logger.error(error),
        );
      });
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
    this.bus.unsubscribeAll();
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
    this.bus.publish(subject, JSON.stringify({ id, pattern: subject, data }), headers, (raw) => {
      if (!active) return;
      const { err, response, isDisposed } = JSON.parse(raw) as WritePacket;
      callback(err || isDisposed ? { err, response, isDisposed: true } : { err, response });
    });
    return () => {
      active = false;
    };
  }

  protected async dispatchEvent<T = unknown>(): Promise<T> {
    throw new Error('Events travel through the outbox and the event bus, not through RPC');
  }
}
