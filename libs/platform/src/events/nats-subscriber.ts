import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CloudEvent } from '@sealbox/contracts';
import type { Logger } from 'pino';
import type { NatsConnectionConfig } from '../config/fragments.js';
import { natsConnectionOptions } from '../rpc/nats.js';
import type { EventListener, EventSubscriber } from './publisher.js';

/**
 * Core NATS subscriptions on event subjects: at-most-once, for reactions that are safe to miss now
 * and then (cache invalidation bounded by a TTL), or that reconcile when told they may have missed
 * some (`onResume`: each subscription once the server has it, and every reconnect). Durable
 * processing uses a JetStream consumer.
 */
export class NatsEventSubscriber implements EventSubscriber {
  private connection: Promise<NatsConnection> | undefined;
  private closed = false;
  private readonly resumeListeners = new Set<() => void>();

  constructor(
    private readonly nats: NatsConnectionConfig,
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  subscribe(pattern: string, listener: EventListener): () => void {
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    void this.connect()
      .then((nc) => {
        if (cancelled) return;
        const subscription = nc.subscribe(pattern, {
          callback: (error, message) => {
            if (error) return;
            try {
              const event = CloudEvent.parse(message.json());
              void Promise.resolve(listener(message.subject, event)).catch((reason: unknown) =>
                this.logger.warn({ reason: String(reason), subject: message.subject }, 'event listener failed'),
              );
            } catch {
              this.logger.warn({ subject: message.subject }, 'ignoring a message that is not a CloudEvent');
            }
          },
        });
        unsubscribe = () => subscription.unsubscribe();
        // Once the server has the subscription, nothing published from now on is missed.
        return nc.flush().then(() => this.resumed());
      })
      .catch((error: unknown) => this.logger.warn({ reason: String(error), pattern }, 'cannot subscribe to events'));
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
  }

  onResume(listener: () => void): () => void {
    this.resumeListeners.add(listener);
    return () => this.resumeListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await (await connection.catch(() => undefined))?.close();
  }

  private connect(): Promise<NatsConnection> {
    if (this.closed) return Promise.reject(new Error('closed'));
    this.connection ??= connect({ ...natsConnectionOptions(this.nats, `${this.name}-events-sub`), waitOnFirstConnect: true }).then(
      (nc) => {
        void this.followReconnects(nc);
        return nc;
      },
      (error: unknown) => {
        this.connection = undefined;
        throw error;
      },
    );
    return this.connection;
  }

  /**
   * The client resubscribes by itself after a reconnect; what was published while it was away is lost.
   * Listeners hear of it once the server has the subscriptions again (a flush after the reconnect).
   */
  private async followReconnects(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'reconnect') void nc.flush().then(() => this.resumed(), () => undefined);
    }
  }

  private resumed(): void {
    for (const listener of this.resumeListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.warn({ reason: String(error) }, 'an event resume listener failed');
      }
    }
  }
}
