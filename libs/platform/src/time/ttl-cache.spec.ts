import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { EventClearedCache, TtlCache, type ClearingEvents } from './ttl-cache.js';

describe('TtlCache', () => {
  it('keeps an entry strictly less than its ttl on the injected clock', () => {
    const clock = new ManualClock(1_000);
    const cache = new TtlCache<string>(clock, 500, 10);
    cache.set('a', 'A');
    clock.advance(499);
    expect(cache.get('a')).toBe('A');
    clock.advance(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('restarts the ttl when an entry is set again', () => {
    const clock = new ManualClock(0);
    const cache = new TtlCache<number>(clock, 100, 10);
    cache.set('a', 1); // at 0: a clock that starts at 0 expires entries too
    clock.advance(100);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 1);
    clock.advance(90);
    cache.set('a', 2);
    clock.advance(90);
    expect(cache.get('a')).toBe(2);
  });

  it('evicts the least recently used entry when full (a read counts as a use)', () => {
    const cache = new TtlCache<number>(new ManualClock(0), 60_000, 2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('keeps nothing with a ttl of 0, and clear() empties it', () => {
    const none = new TtlCache<number>(new ManualClock(0), 0, 10);
    none.set('a', 1);
    expect(none.get('a')).toBeUndefined();
    const cache = new TtlCache<number>(new ManualClock(0), 1_000, 10);
    cache.set('a', 1);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('EventClearedCache', () => {
  it('empties itself when a matching event arrives, and stops listening once disposed', () => {
    const listeners = new Map<string, () => void>();
    const events: ClearingEvents = {
      subscribe: (pattern, listener) => {
        listeners.set(pattern, listener);
        return () => listeners.delete(pattern);
      },
    };
    const cache = new EventClearedCache<number>(new ManualClock(0), 60_000, 10, events, ['events.iam.policy.>']);
    cache.set('a', 1);
    listeners.get('events.iam.policy.>')?.();
    expect(cache.get('a')).toBeUndefined();
    cache.dispose();
    expect(listeners.size).toBe(0);
  });
});
