import type { CloudEvent } from '@sealbox/contracts';
import type { Logger } from 'pino';
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  In,
  type DataSource,
  type EntitySubscriberInterface,
  type InsertEvent,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
import { OutboxEventEntity } from './outbox.entity.js';
import type { EventPublisher } from './publisher.js';

export interface RelayOptions {
  readonly batchSize: number;
  /** Poll interval when idle; a nudge from Outbox.record starts a drain at once. */
  readonly idleMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = { batchSize: 100, idleMs: 1000, maxBackoffMs: 30_000 };

/**
 * Publishes committed outbox rows in order and deletes each once the broker has taken it. A broker
 * outage only delays events: rows stay until published, with exponential backoff between attempts.
 * A crash between publish and delete republishes the event with the same id, which JetStream's
 * duplicate window (and any idempotent consumer) absorbs.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private again = false;
  private failures = 0;
  /**
   * Timers run in the context the relay was created in, not in the one of whoever nudged it: a drain
   * must not join a request's trace, nor be taken for part of the caller's open transaction.
   */
  private readonly detached = AsyncLocalStorage.snapshot();
  /** Transactions that recorded an event and have not ended yet. */
  private readonly recording = new WeakSet<QueryRunner>();
  /** Nudges the relay when a transaction that recorded an event commits, not before. */
  private readonly commitListener: EntitySubscriberInterface = {
    afterInsert: (event: InsertEvent<unknown>) => {
      if (event.metadata.target === OutboxEventEntity && event.queryRunner.isTransactionActive) {
        this.recording.add(event.queryRunner);
      }
    },
    afterTransactionCommit: (event: TransactionCommitEvent) => {
      if (event.queryRunner.isTransactionActive || !this.recording.has(event.queryRunner)) return;
      this.recording.delete(event.queryRunner);
      this.nudge();
    },
    afterTransactionRollback: (event: TransactionRollbackEvent) => {
      if (!event.queryRunner.isTransactionActive) this.recording.delete(event.queryRunner);
    },
  };

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly options: RelayOptions = DEFAULT_RELAY_OPTIONS,
  ) {}

  start(): void {
    this.stopped = false;
    if (!this.dataSource.subscribers.includes(this.commitListener)) this.dataSource.subscribers.push(this.commitListener);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const index = this.dataSource.subscribers.indexOf(this.commitListener);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Drain now (called after an event was recorded). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.failures === 0) this.schedule(0);
  }

  /**
   * Publish everything pending; resolves when the outbox is empty or the broker refused. Events go out
   * one after the other (each waits for the broker's acknowledgement, so the stream keeps their order);
   * the rows of a batch that were published are deleted together, not one statement per event.
   */
  async drain(): Promise<number> {
    const outbox = this.dataSource.getRepository(OutboxEventEntity);
    let published = 0;
    for (;;) {
      const batch = await outbox.find({ order: { createdAt: 'ASC', id: 'ASC' }, take: this.options.batchSize });
      const done: string[] = [];
      try {
        for (const row of batch) {
          try {
            await this.publisher.publish(row.subject, JSON.parse(row.envelope) as CloudEvent);
          } catch (error) {
            await outbox.increment({ id: row.id }, 'attempts', 1);
            throw error;
          }
          done.push(row.id);
        }
      } finally {
        if (done.length > 0) await outbox.delete({ id: In(done) });
        published += done.length;
      }
      if (batch.length < this.options.batchSize) return published;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.detached(() => setTimeout(() => void this.tick(), delayMs));
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    let done: () => void = () => undefined;
    this.running = new Promise((resolve) => (done = resolve));
    this.again = false;
    try {
      await this.drain();
      if (this.failures > 0) this.logger.info('event broker reachable again; outbox drained');
      this.failures = 0;
    } catch (error) {
      this.failures++;
      this.logger.warn(
        { err: error instanceof Error ? { name: error.name, message: error.message } : String(error), failures: this.failures },
        'could not publish outbox events; will retry',
      );
    } finally {
      this.running = undefined;
      done();
    }
    const delay =
      this.failures > 0
        ? Math.min(this.options.maxBackoffMs, 250 * 2 ** Math.min(this.failures, 10))
        : this.again
          ? 0
          : this.options.idleMs;
    this.schedule(delay);
  }
}
