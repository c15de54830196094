import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { RpcHeaders, type RequestOf, type ResponseOf, type Subject } from '@sealbox/contracts';
import type { Logger } from 'pino';
import type { NatsConnectionConfig } from '../config/fragments.js';
import { fromWireError } from '../errors/index.js';
import { rootLogger } from '../logging/logger.js';
import { decodeReply, encodeRequest } from './codec.js';
import { LagWatchdog } from './lag-watchdog.js';
import type { HeaderMap } from './headers.js';
import { RpcServerStrategy, RpcTransportError, type RpcTransportClient } from './transport.js';
import type { TransportStatus } from './transport-status.js';
import { ReplyInbox } from './reply-inbox.js';
import { TurnBatch } from './turn-batch.js';
import { retry, type BackoffOptions } from '../time/backoff.js';

/** How every Sealbox NATS connection is opened (RPC, events): credentials, endless reconnects, no per-request traces. */
export function natsConnectionOptions(config: NatsConnectionConfig, name: string) {
  return {
    servers: config.servers,
    name,
    ...(config.user ? { user: config.user } : {}),
    ...(config.pass ? { pass: config.pass } : {}),
    ...(config.tls ? { tls: { ...config.tls } } : {}),
    ...(config.inboxPrefix ? { inboxPrefix: config.inboxPrefix } : {}),
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // nats.js adds up to 1 s of random delay to each reconnect attempt over TLS (100 ms without): after
    // an outage the last service back decided the recovery. A handful of connections per process need
    // no more spreading than plain TCP does.
    reconnectJitter: 100,
    reconnectJitterTLS: 100,
    // Otherwise every request builds two Error objects up front (for stack traces of failures): a
    // cost on every call for a nicer trace of the rare one that fails, which says what it needs anyway.
    noAsyncTraces: true,
  };
}

/**
 * One NATS connection, opened on first use (and again after a failed attempt), with its status
 * followed for readiness: `connected`, `disconnected`, `reconnecting`, `closed`.
 */
class NatsLink implements TransportStatus {
  private connection: Promise<NatsConnection> | undefined;
  private state = 'not connected';
  private readonly disconnectListeners: (() => void)[] = [];

  constructor(
    private readonly config: NatsConnectionConfig,
    private readonly name: string,
  ) {}

  open(): Promise<NatsConnection> {
    this.connection ??= connect(natsConnectionOptions(this.config, this.name)).then(
      (nc) => {
        this.state = 'connected';
        void this.follow(nc);
        return nc;
      },
      (error: unknown) => {
        this.connection = undefined;
        throw error;
      },
    );
    return this.connection;
  }

  private async follow(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.state = 'disconnected';
        for (const listener of this.disconnectListeners) listener();
      }
      else if (status.type === 'reconnecting') this.state = 'reconnecting';
      else if (status.type === 'reconnect') this.state = 'connected';
    }
    this.state = 'closed';
  }

  isConnected(): boolean {
    return this.state === 'connected';
  }

  /** Called each time the connection drops (before it reconnects). */
  onDisconnect(listener: () => void): void {
    this.disconnectListeners.push(listener);
  }

  describe(): string {
    return `nats ${this.state}`;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    const nc = await connection?.catch(() => undefined);
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}

/** The NATS transport's client: request/reply on the connection's shared reply subscription. */
export class NatsRpcClient implements RpcTransportClient, TransportStatus {
  private readonly link: NatsLink;
  /** The requests of one event-loop turn leave in one socket write. */
  private readonly batch = new TurnBatch();
  private inbox: { readonly nc: NatsConnection; readonly inbox: ReplyInbox } | undefined;

  constructor(
    private readonly config: NatsConnectionConfig,
    name: string,
  ) {
    this.link = new NatsLink(config, `sealbox-${name}-client`);
    // A reply to a request sent on a connection that dropped may never come: fail those requests now,
    // not at their deadline (RpcClient sends a retry-safe one again, on the new connection).
    this.link.onDisconnect(() => this.inbox?.inbox.failAll(new Error('the NATS connection dropped'), 'disconnected'));
  }

  /** Connect now (otherwise the first request does). */
  async connect(): Promise<void> {
    await this.link.open();
  }

  async request(subject: string, frame: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    let nc: NatsConnection;
    try {
      nc = await this.link.open();
    } catch (error) {
      throw new RpcTransportError('unreachable', `NATS cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (this.inbox?.nc !== nc) this.inbox = { nc, inbox: new ReplyInbox(nc, this.batch, this.config.inboxPrefix) };
    return this.inbox.inbox.request(subject, frame, timeoutMs);
  }

  isConnected(): boolean {
    return this.link.isConnected();
  }

  describe(): string {
    return this.link.describe();
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

/**
 * The NATS transport's server for one service: ONE subscription to `<service>.>` in the service's
 * queue group (replicas share the load; each request goes to one of them), every message handed to
 * `dispatch`. Closing drains: requests already received are answered before the connection goes.
 * While the event loop keeps running late (LagWatchdog) the replica leaves the queue group, so the
 * other replicas take its share, and joins again once it is on time.
 */
export class NatsRpcServer extends RpcServerStrategy {
  private readonly link: NatsLink;
  private subscription: Subscription | undefined;
  /** The replies of one event-loop turn leave in one socket write. */
  private readonly replies = new TurnBatch();
  private readonly watchdog: LagWatchdog | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    config: NatsConnectionConfig,
    private readonly service: string,
  ) {
    super();
    this.link = new NatsLink(config, `sealbox-${service}`);
    this.watchdog = config.leaveOnLagMs === undefined ? undefined : this.watchQueueGroup(config.leaveOnLagMs);
  }

  /** Leave the queue group while the event loop runs late; join again once it is on time. */
  private watchQueueGroup(thresholdMs: number): LagWatchdog {
    return new LagWatchdog(
      (lagMs) => {
        rootLogger().warn({ service: this.service, lagMs: Math.round(lagMs) }, 'the event loop is running late: leaving the queue group');
        const subscription = this.subscription;
        this.subscription = undefined;
        void subscription?.drain().catch(() => undefined);
      },
      () => {
        rootLogger().info({ service: this.service }, 'the event loop is on time again: rejoining the queue group');
        void this.link.open().then(
          (nc) => this.subscribe(nc),
          () => undefined,
        );
      },
      { thresholdMs },
    );
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.link.open().then(
      (nc) => {
        this.subscribe(nc);
        this.watchdog?.start();
        callback();
      },
      (error: unknown) => callback(error),
    );
  }

  private subscribe(nc: NatsConnection): void {
    if (this.subscription || nc.isClosed()) return;
    this.subscription = nc.subscribe(`${this.service}.>`, {
      queue: this.service,
      callback: (error, message) => {
        if (error) {
          rootLogger().warn({ reason: error.message, service: this.service }, 'the RPC subscription failed');
          return;
        }
        const work = this.dispatch(message.subject, message.data)
          .then(
            (reply) =>
              new Promise<void>((sent) => {
                if (!message.reply) return sent();
                // The replies of one event-loop turn leave in one socket write; the work ends once sent.
                this.replies.defer(() => {
                  try {
                    message.respond(reply);
                  } finally {
                    sent();
                  }
                });
              }),
          )
          // The connection closed under the reply: the caller times out, as for a lost message.
          .catch(() => undefined);
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      },
    });
  }

  /** Stop taking requests, answer those already received (SIGTERM drains), then disconnect. */
  async close(): Promise<void> {
    this.watchdog?.stop();
    await this.subscription?.drain().catch(() => undefined);
    this.subscription = undefined;
    await Promise.allSettled([...this.inFlight]);
    await this.link.close();
  }

  unwrap<T>(): T {
    return this.link as T;
  }
}

/** The server of one service in its queue group, so replicas share the load. */
export function natsServer(config: NatsConnectionConfig, service: string): NatsRpcServer {
  return new NatsRpcServer(config, service);
}

export function natsClient(config: NatsConnectionConfig, name: string): NatsRpcClient {
  return new NatsRpcClient(config, name);
}

/**
 * How long a process waits between tries while NATS does not answer. No jitter: a deployment is a
 * handful of processes, and the log (`retryInMs`) shows an operator the wait growing.
 */
export const NATS_WAIT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 5000, jitter: 'none' };

/**
 * Wait until NATS answers, retrying with exponential backoff (250 ms doubling to 5 s) and one log line
 * per failed attempt. Resolves true when a connection succeeded, false when `signal` aborts.
 */
export async function waitForNats(config: NatsConnectionConfig, logger: Logger, signal?: AbortSignal): Promise<boolean> {
  try {
    await retry(
      async (attempt) => {
        const probe = await connect({ ...natsConnectionOptions(config, 'sealbox-probe'), reconnect: false, timeout: 2000 });
        await probe.close();
        if (attempt > 1) logger.info({ servers: config.servers }, 'NATS is reachable');
      },
      {
        ...NATS_WAIT_BACKOFF,
        signal,
        onRetry: (error, attempt, retryInMs) =>
          logger.warn(
            { servers: config.servers, attempt, retryInMs, reason: error instanceof Error ? error.message : String(error) },
            'NATS is unreachable; retrying',
          ),
      },
    );
    return true;
  } catch (error) {
    if (signal?.aborted) return false;
    throw error;
  }
}

/**
 * One typed request on a NATS connection of the caller's own, in the services' protocol (for tools
 * and tests that talk to services directly): the response, or the DomainError the service answered.
 */
export async function requestOverNats<S extends Subject>(
  nc: NatsConnection,
  subject: S,
  data: RequestOf<S>,
  timeoutMs: number,
  headers: HeaderMap = {},
): Promise<ResponseOf<S>> {
  const message = await nc.request(subject, encodeRequest({ [RpcHeaders.deadline]: String(Date.now() + timeoutMs), ...headers }, data), { timeout: timeoutMs });
  const reply = decodeReply(message.data);
  if ('err' in reply) throw fromWireError(reply.err);
  return reply.ok as ResponseOf<S>;
}
