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
import { describePublishFailure } from './jetstream.js';
import type { EventPublisher } from './publisher.js';
import { Backoff } from '../time/backoff.js';

export interface RelayOptions {
  readonly batchSize: number;
  /** Poll interval when idle; a nudge from Outbox.record starts a drain at once. */
  readonly idleMs: number;
  /** The wait after the first failed drain; it doubles with each failure up to maxBackoffMs. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = { batchSize: 100, idleMs: 1000, baseBackoffMs: 500, maxBackoffMs: 5_000 };

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
  /** Between failed drains; reset by a successful drain or by the publisher's word that the broker is back. */
  private readonly backoff: Backoff;
  private stopReachable: (() => void) | undefined;
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
  ) {
    // No jitter: one relay per service process, each retrying its own connection.
    this.backoff = new Backoff({ initialMs: options.baseBackoffMs, maxMs: options.maxBackoffMs, jitter: 'none' });
  }

  start(): void {
    this.stopped = false;
    // The broker is back: no need to wait out the backoff.
    this.stopReachable ??= this.publisher.onReachable?.(() => {
      if (this.backoff.failures === 0 || this.stopped) return;
      this.backoff.reset();
      this.schedule(0);
    });
    if (!this.dataSource.subscribers.includes(this.commitListener)) this.dataSource.subscribers.push(this.commitListener);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopReachable?.();
    this.stopReachable = undefined;
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
    if (this.backoff.failures === 0) this.schedule(0);
  }

  /**
   * Publish everything pending; resolves when the outbox is empty, rejects when the broker refused.
   * The events of a batch go out back to back on one connection, without waiting for each other's
   * acknowledgement (the stream stores them in the order they were sent, so an aggregate's events stay
   * in order), and are acknowledged together; the published rows are deleted in one statement. When
   * some fail, the others are deleted and the failed ones stay for the next attempt: a failure without
   * the message stored means the connection dropped, and then every later one of the batch failed too;
   * one stored whose acknowledgement was lost is dropped as a duplicate when sent again.
   */
  async drain(): Promise<number> {
    const outbox = this.dataSource.getRepository(OutboxEventEntity);
    let published = 0;
    for (;;) {
      const batch = await outbox.find({ order: { createdAt: 'ASC', id: 'ASC' }, take: this.options.batchSize });
      const results = await Promise.allSettled(batch.map((row) => this.publisher.publish(row.subject, JSON.parse(row.envelope) as CloudEvent)));
      const done = batch.filter((_row, index) => results[index]?.status === 'fulfilled').map((row) => row.id);
      const failed = batch.filter((_row, index) => results[index]?.status === 'rejected').map((row) => row.id);
      if (done.length > 0) await outbox.delete({ id: In(done) });
      published += done.length;
      if (failed.length > 0) {
        await outbox.increment({ id: In(failed) }, 'attempts', 1);
        throw (results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason;
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
    let retryInMs: number | undefined;
    try {
      await this.drain();
      if (this.backoff.failures > 0) this.logger.info('event broker reachable again; outbox drained');
      this.backoff.reset();
    } catch (error) {
      retryInMs = this.backoff.next();
      this.logger.warn({ reason: describePublishFailure(error), failures: this.backoff.failures, retryInMs }, 'could not publish outbox events; will retry');
    } finally {
      this.running = undefined;
      done();
    }
    this.schedule(retryInMs ?? (this.again ? 0 : this.options.idleMs));
  }
}
