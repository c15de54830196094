import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.js';

/**
 * A bounded map whose entries expire: least recently used entries go first when full (lru-cache,
 * timed by the injected clock and reading it at every check, so a test clock's jumps count at once).
 * An entry lives strictly less than `ttlMs`: at `ttlMs` it is gone. A `ttlMs` of 0 keeps nothing.
 * (lru-cache reads a start time of 0 as "never expires", so its time base is the clock plus 1 ms:
 * ages are unchanged and a test clock may start at 0.)
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- lru-cache's own bound: any value but null and undefined
export class TtlCache<V extends {}> {
  private readonly entries: LRUCache<string, V> | undefined;

  constructor(clock: Clock, ttlMs: number, maxEntries: number) {
    this.entries = ttlMs > 0 ? new LRUCache<string, V>({ max: maxEntries, ttl: ttlMs, ttlResolution: 0, perf: { now: () => clock.nowMs() + 1 } }) : undefined;
  }

  get(key: string): V | undefined {
    if (!this.entries) return undefined;
    // lru-cache keeps an entry while its age is at most the ttl; here it ends when the age reaches it.
    if (this.entries.getRemainingTTL(key) <= 0) {
      this.entries.delete(key);
      return undefined;
    }
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries?.set(key, value);
  }

  clear(): void {
    this.entries?.clear();
  }

  get size(): number {
    return this.entries?.size ?? 0;
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
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- as TtlCache
export class EventClearedCache<V extends {}> extends TtlCache<V> {
  private readonly unsubscribes: (() => void)[];

  constructor(clock: Clock, ttlMs: number, maxEntries: number, events: ClearingEvents | null, patterns: readonly string[]) {
    super(clock, ttlMs, maxEntries);
    this.unsubscribes = events ? patterns.map((pattern) => events.subscribe(pattern, () => this.clear())) : [];
  }

  dispose(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}
