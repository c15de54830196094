import type { CloudEvent } from '@sealbox/contracts';
import type { Logger } from 'pino';
import type { EventPublisher } from './publisher.js';

/**
 * For processes without a database (the gateway's audit trail): events queue in memory and a loop
 * publishes them in order, retrying with backoff while the broker is away. The queue is bounded; when
 * it is full the oldest event is dropped and counted in a warning. A crash loses what is queued, so
 * state changes use the transactional outbox instead.
 */
export class BufferedEventPublisher {
  private readonly queue: { subject: string; event: CloudEvent }[] = [];
  private running = false;
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly capacity = 10_000,
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
    if (!this.running) void this.run();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Try to publish what is queued (bounded wait), then stop accepting. */
  async close(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    this.stopped = true;
  }

  private async run(): Promise<void> {
    this.running = true;
    let delay = 250;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const next = this.queue[0];
        if (!next) break;
        try {
          await this.publisher.publish(next.subject, next.event);
          this.queue.shift();
          delay = 250;
        } catch (error) {
          this.logger.warn({ reason: error instanceof Error ? error.message : String(error), pending: this.queue.length }, 'could not publish events; will retry');
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 10_000);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
