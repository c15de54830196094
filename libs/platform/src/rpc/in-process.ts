import { AsyncResource } from 'node:async_hooks';
import { RpcServerStrategy, RpcTransportError, type RpcTransportClient } from './transport.js';

/**
 * The async context deliveries run in: the one of this module's loading, outside any request. Without
 * it, AsyncLocalStorage state (the active span, the deadline, anything request-scoped) would flow from
 * caller to handler, which NATS cannot do; only what the request frame carries may cross.
 */
const detachedScope = new AsyncResource('sealbox-in-process-delivery');

type Dispatch = (subject: string, frame: Uint8Array) => Promise<Uint8Array>;

/**
 * The broker of the in-process transport: subjects to the server that serves them, as NATS would
 * route them. Requests and replies cross it as encoded frames (the codec of NATS), so handler and
 * caller never share an object.
 */
export class InProcessBus {
  private readonly servers = new Map<string, Dispatch>();

  serve(subject: string, dispatch: Dispatch): void {
    this.servers.set(subject, dispatch);
  }

  /** Stop serving `subject` with `dispatch`, unless another server took the subject over since. */
  unserve(subject: string, dispatch: Dispatch): void {
    if (this.servers.get(subject) === dispatch) this.servers.delete(subject);
  }

  /** The reply of the server of `subject` (the caller's RpcClient keeps the deadline). */
  request(subject: string, frame: Uint8Array): Promise<Uint8Array> {
    const dispatch = this.servers.get(subject);
    // NATS answers a request nobody serves at once ("no responders"): so does the bus.
    if (!dispatch) return Promise.reject(new RpcTransportError('unreachable', `no server serves ${subject}`));
    return detachedScope.runInAsyncScope(() => dispatch(subject, frame));
  }
}

/** The in-process transport's server (a Nest transport strategy; apps/standalone and tests). */
export class InProcessServer extends RpcServerStrategy {
  private readonly served: string[] = [];
  private readonly deliver: Dispatch = (subject, frame) => this.dispatch(subject, frame);

  constructor(private readonly bus: InProcessBus) {
    super();
    this.transportId = Symbol('sealbox-in-process');
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    for (const subject of this.messageHandlers.keys()) {
      this.bus.serve(subject, this.deliver);
      this.served.push(subject);
    }
    callback();
  }

  /** Closing one server leaves the other services on the bus serving. */
  close(): void {
    for (const subject of this.served.splice(0)) this.bus.unserve(subject, this.deliver);
  }

  unwrap<T>(): T {
    return this.bus as T;
  }
}

/** The in-process transport's client. */
export class InProcessClient implements RpcTransportClient {
  constructor(private readonly bus: InProcessBus) {}

  request(subject: string, frame: Uint8Array): Promise<Uint8Array> {
    return this.bus.request(subject, frame);
  }

  close(): void {
    // Nothing held.
  }
}
