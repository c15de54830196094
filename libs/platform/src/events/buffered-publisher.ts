import type { CloudEvent } from '@sealbox/contracts';
import type { Logger } from 'pino';
import type { EventPublisher } from './publisher.js';
import { Backoff, sleep } from '../time/backoff.js';

interface Queued {
  readonly subject: string;
  readonly event: CloudEvent;
}

/**
 * For processes without a database (the gateway's audit trail): events queue in memory and a loop
 * publishes them, up to `window` at a time (one broker round trip is not paid per event), retrying
 * failed ones first, with backoff, while the broker is away. The queue of waiting events is bounded;
 * when it is full the oldest waiting event is dropped and counted in a warning. A crash loses what is
 * queued, so state changes use the transactional outbox instead.
 */
export class BufferedEventPublisher {
  private queue: Queued[] = [];
  private inFlight = 0;
  private running = false;
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly capacity = 10_000,
    private readonly window = 64,
  ) {}

  enqueue(subject: string, event: CloudEvent): void {
    if (this.stopped) return;
    if (this.queue.length >= this.capacity) {
      this.queue.shift();
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.logger.warn({ dropped: this.dropped }, 'event buffer full: dropping the oldest events');
      }
    }
    this.queue.push({ subject, event });
    if (!this.running) {
      // Started after the current task: events enqueued together leave together.
      this.running = true;
      queueMicrotask(() => void this.run());
    }
  }

  /** Events not yet stored by the broker (waiting or on their way). */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Try to publish what is queued (bounded wait), then stop accepting. */
  async close(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    this.stopped = true;
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 'none' });
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const batch = this.queue.splice(0, this.window);
        this.inFlight = batch.length;
        const results = await Promise.allSettled(batch.map((item) => this.publisher.publish(item.subject, item.event)));
        this.inFlight = 0;
        const failed = batch.filter((_, index) => results[index]?.status === 'rejected');
        if (failed.length === 0) {
          backoff.reset();
          continue;
        }
        // Failed events go back to the head, in their order, ahead of newer ones (room permitting).
        this.queue = [...failed, ...this.queue].slice(0, Math.max(this.capacity, failed.length));
        const reason = results.find((result) => result.status === 'rejected')?.reason as unknown;
        this.logger.warn({ reason: reason instanceof Error ? reason.message : String(reason), pending: this.queue.length }, 'could not publish events; will retry');
        await sleep(backoff.next());
      }
    } finally {
      this.running = false;
    }
  }
}
