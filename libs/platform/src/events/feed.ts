import { EVENTS_SUBJECT_PREFIX, type CloudEvent } from '@sealbox/contracts';
import type { EventSubscriber } from './publisher.js';

/** One event of a feed, with the cursor a follower resumes after. */
export interface FedEvent {
  /** Opaque: pass it back as `after` to resume after this event. */
  readonly cursor: string;
  readonly subject: string;
  readonly event: CloudEvent;
}

export interface FollowOptions {
  /** Resume after this cursor; absent: only events from now on. */
  readonly after?: string;
  /** Ends the iteration. */
  readonly signal: AbortSignal;
}

/**
 * Port: every event of the system, in the order the broker took them, for a follower that comes and
 * goes (the gateway's `GET /v1/events`). JetStream when distributed, recent events in memory in standalone.
 */
export interface EventFeed {
  /**
   * Start following: resolves once events are being kept for the follower (from then on, or after
   * `options.after`), rejects when the feed cannot be read. The iteration ends when `options.signal` aborts.
   */
  open(options: FollowOptions): Promise<AsyncIterable<FedEvent>>;
  close(): Promise<void>;
}

export const RECENT_EVENTS_CAPACITY = 10_000;

/**
 * The in-process feed (standalone): subscribes to every event at construction and keeps the last
 * `capacity` in memory. Cursors are `<run>-<sequence>`: a follower resumes after its sequence within
 * this run; a cursor of another run (the process restarted) or one too old resumes at the oldest
 * event kept.
 */
export class RecentEventsFeed implements EventFeed {
  private readonly run = Date.now().toString(36);
  /** Sequence of the last event received (the first is 1). */
  private last = 0;
  private readonly kept: { readonly sequence: number; readonly fed: FedEvent }[] = [];
  private readonly waiting = new Set<() => void>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    subscriber: EventSubscriber,
    private readonly capacity = RECENT_EVENTS_CAPACITY,
  ) {
    this.unsubscribe = subscriber.subscribe(`${EVENTS_SUBJECT_PREFIX}.>`, (subject, event) => this.receive(subject, event));
  }

  async open(options: FollowOptions): Promise<AsyncIterable<FedEvent>> {
    return this.follow(this.firstAfter(options.after), options.signal);
  }

  private async *follow(first: number, signal: AbortSignal): AsyncGenerator<FedEvent> {
    let next = first;
    while (!signal.aborted && !this.closed) {
      if (next > this.last) {
        await this.arrival(signal);
        continue;
      }
      // A slow follower may have fallen behind the oldest event kept: it goes on from there.
      const oldest = this.kept[0]?.sequence ?? next;
      const ready = this.kept.slice(Math.max(0, next - oldest));
      for (const { sequence, fed } of ready) {
        if (signal.aborted) return;
        next = sequence + 1;
        yield fed;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    for (const wake of this.waiting) wake();
  }

  private receive(subject: string, event: CloudEvent): void {
    this.last += 1;
    this.kept.push({ sequence: this.last, fed: { cursor: `${this.run}-${this.last}`, subject, event } });
    // Trimmed in steps, not one shift per event.
    if (this.kept.length > this.capacity + 1024) this.kept.splice(0, this.kept.length - this.capacity);
    const waking = [...this.waiting];
    this.waiting.clear();
    for (const wake of waking) wake();
  }

  /** The sequence of the first event to deliver. */
  private firstAfter(cursor: string | undefined): number {
    if (cursor === undefined) return this.last + 1;
    const match = /^([0-9a-z]+)-([0-9]{1,15})$/.exec(cursor);
    if (match?.[1] === this.run) return Math.min(Number(match[2]) + 1, this.last + 1);
    return this.kept[0]?.sequence ?? this.last + 1;
  }

  private arrival(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.waiting.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiting.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
