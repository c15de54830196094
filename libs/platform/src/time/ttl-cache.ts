import type { Clock } from './clock.js';

/** A bounded map whose entries expire: least recently used entries go first when full. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.nowMs()) {
      this.entries.delete(key);
      return undefined;
    }
    // Refresh recency.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.clock.nowMs() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The part of an event subscriber a cache needs. */
export interface ClearingEvents {
  subscribe(pattern: string, listener: () => void): () => void;
}

/**
 * A TtlCache emptied at once whenever an event matching one of `patterns` arrives (e.g. any
 * `events.iam.policy.>` for cached authorization decisions). `events` may be absent (no subscriber in
 * the process): then only the TTL bounds staleness. Call `dispose()` on shutdown.
 */
export class EventClearedCache<V> extends TtlCache<V> {
  private readonly unsubscribes: (() => void)[];

  constructor(clock: Clock, ttlMs: number, maxEntries: number, events: ClearingEvents | null, patterns: readonly string[]) {
    super(clock, ttlMs, maxEntries);
    this.unsubscribes = events ? patterns.map((pattern) => events.subscribe(pattern, () => this.clear())) : [];
  }

  dispose(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}
