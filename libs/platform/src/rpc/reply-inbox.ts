import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { RpcTransportError } from './transport.js';
import type { TurnBatch } from './turn-batch.js';

interface Pending {
  readonly subject: string;
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** NATS answers a request nobody serves with this status (when the client announced it handles headers). */
const NO_RESPONDERS = 503;

/**
 * Request/reply on one wildcard inbox subscription of a connection (`_INBOX.<nuid>.*`), each request
 * told apart by a short token, as nats.js's own `request` does — without its cost: every request it
 * answers also builds (and throws away) a `RequestError("cancelled")`, whose stack trace cost more than
 * the rest of the request here. A request ends on its reply, its timeout, a no-responders status, or the
 * connection closing for good; a late reply finds nothing and is dropped.
 */
export class ReplyInbox {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly subscription: Subscription;
  private sequence = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly batch: TurnBatch,
    inboxPrefix?: string,
  ) {
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.subscription = nc.subscribe(`${this.prefix}*`, { callback: (error, message) => (error ? this.failAll(error) : this.settle(message)) });
    void this.subscription.closed.then(() => this.failAll(new Error('connection closed')));
  }

  request(subject: string, frame: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const token = (this.sequence++).toString(36);
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new RpcTransportError('timeout', `no reply to ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
      // The publishes of one turn leave in one socket write.
      this.batch.defer(() => {
        try {
          this.nc.publish(subject, frame, { reply: this.prefix + token });
        } catch (error) {
          this.end(token)?.reject(new RpcTransportError('unreachable', `${subject}: ${error instanceof Error ? error.message : String(error)}`));
        }
      });
    });
  }

  private settle(message: Msg): void {
    const request = this.end(message.subject.slice(this.prefix.length));
    if (!request) return;
    const headers = message.headers;
    if (headers?.hasError && headers.code === NO_RESPONDERS) {
      request.reject(new RpcTransportError('unreachable', `${request.subject}: no service is serving it`));
      return;
    }
    request.resolve(message.data);
  }

  private end(token: string): Pending | undefined {
    const request = this.pending.get(token);
    if (!request) return undefined;
    this.pending.delete(token);
    clearTimeout(request.timer);
    return request;
  }

  /** Fail every request waiting for its reply (the connection closed, or dropped: `disconnected`). */
  failAll(error: Error, kind: RpcTransportError['kind'] = 'unreachable'): void {
    for (const token of [...this.pending.keys()]) {
      const request = this.end(token);
      request?.reject(new RpcTransportError(kind, `${request.subject}: ${error.message}`));
    }
  }
}
