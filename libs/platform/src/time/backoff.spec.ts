import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff, retry, sleep, type Sleep } from './backoff.js';
import { ManualClock } from './clock.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A wait that takes no time: it records the delay and moves a manual clock by it. */
function fakeSleep(clock = new ManualClock(0)): { sleep: Sleep; waits: number[]; clock: ManualClock } {
  const waits: number[] = [];
  return {
    waits,
    clock,
    sleep: async (ms) => {
      waits.push(ms);
      clock.advance(ms);
    },
  };
}

describe('Backoff', () => {
  it('doubles from the initial wait up to the cap, counting failures', () => {
    const backoff = new Backoff({ initialMs: 250, maxMs: 5000, jitter: 'none' });
    expect(backoff.peek()).toBe(250);
    const waits = Array.from({ length: 8 }, () => backoff.next());
    expect(waits).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    expect(backoff.failures).toBe(8);
    expect(backoff.peek()).toBe(5000);
  });

  it('starts over after a reset', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 5000, jitter: 'none' });
    backoff.next();
    backoff.next();
    expect(backoff.next()).toBe(2000);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.peek()).toBe(500);
    expect([backoff.next(), backoff.next()]).toEqual([500, 1000]);
  });

  it('takes another factor, and stays at the cap however long the outage (no overflow)', () => {
    const tripling = new Backoff({ initialMs: 100, maxMs: 1000, factor: 3, jitter: 'none' });
    expect(Array.from({ length: 4 }, () => tripling.next())).toEqual([100, 300, 900, 1000]);
    const long = new Backoff({ initialMs: 1, maxMs: 60_000, jitter: 'none' });
    for (let failure = 0; failure < 5000; failure++) long.next();
    expect(long.next()).toBe(60_000);
  });

  it('with full jitter draws each wait between 0 and the computed one', () => {
    const draws = [0, 0.5, 0.999_999, 0.25];
    const backoff = new Backoff({ initialMs: 100, maxMs: 400, jitter: 'full', random: () => draws.shift() ?? 0 });
    // Computed: 100, 200, 400, 400.
    expect(Array.from({ length: 4 }, () => backoff.next())).toEqual([0, 100, 400, 100]);
  });

  it('with full jitter and node:crypto randomness stays within the bounds and varies', () => {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 'full' });
    const waits = Array.from({ length: 500 }, () => backoff.next());
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1000);
    expect(new Set(waits).size).toBeGreaterThan(100);
  });

  it('refuses nonsensical settings', () => {
    expect(() => new Backoff({ initialMs: 500, maxMs: 100, jitter: 'none' })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: -1, maxMs: 100, jitter: 'none' })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 1, maxMs: 100, factor: 0.5, jitter: 'none' })).toThrow(RangeError);
  });
});

describe('retry', () => {
  it('tries until the attempt resolves, waiting by the backoff between failures (fake clock)', async () => {
    const fake = fakeSleep();
    const retried: [string, number, number][] = [];
    let calls = 0;
    const value = await retry(
      async (attempt) => {
        calls++;
        expect(attempt).toBe(calls);
        if (calls < 5) throw new Error(`down ${calls}`);
        return 'up';
      },
      {
        initialMs: 250,
        maxMs: 1000,
        jitter: 'none',
        sleep: fake.sleep,
        onRetry: (error, attempt, delayMs) => retried.push([(error as Error).message, attempt, delayMs]),
      },
    );
    expect(value).toBe('up');
    expect(fake.waits).toEqual([250, 500, 1000, 1000]);
    expect(fake.clock.nowMs()).toBe(2750);
    expect(retried).toEqual([
      ['down 1', 1, 250],
      ['down 2', 2, 500],
      ['down 3', 3, 1000],
      ['down 4', 4, 1000],
    ]);
  });

  it('does not wait when the first attempt succeeds', async () => {
    const fake = fakeSleep();
    expect(await retry(async () => 42, { initialMs: 250, maxMs: 1000, jitter: 'full', sleep: fake.sleep })).toBe(42);
    expect(fake.waits).toEqual([]);
  });

  it('stops when aborted during a wait: rejects with the reason and tries no more', async () => {
    const aborting = new AbortController();
    const fake = fakeSleep();
    let calls = 0;
    const waited = retry(
      async () => {
        calls++;
        throw new Error('down');
      },
      {
        initialMs: 100,
        maxMs: 1000,
        jitter: 'none',
        signal: aborting.signal,
        sleep: async (ms, options) => {
          await fake.sleep(ms, options);
          if (fake.waits.length === 2) aborting.abort(new Error('shutting down'));
        },
      },
    );
    await expect(waited).rejects.toThrow('shutting down');
    expect(calls).toBe(2);
    expect(fake.waits).toEqual([100, 200]);
  });

  it('tries nothing once aborted', async () => {
    const attempt = vi.fn(async () => 'never');
    await expect(retry(attempt, { initialMs: 1, maxMs: 1, jitter: 'none', signal: AbortSignal.abort(new Error('stopped')) })).rejects.toThrow('stopped');
    expect(attempt).not.toHaveBeenCalled();
  });

  it('waits on real timers by default', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const done = retry(
      async () => {
        if (++calls < 3) throw new Error('down');
        return calls;
      },
      { initialMs: 1000, maxMs: 1000, jitter: 'none' },
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await done).toBe(3);
  });
});

describe('sleep', () => {
  it('resolves after the delay, not before', async () => {
    vi.useFakeTimers();
    let resolved = false;
    void sleep(500).then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(resolved).toBe(true);
  });

  it('ends at once when aborted, and does not start when already aborted', async () => {
    vi.useFakeTimers();
    const aborting = new AbortController();
    let resolved = false;
    void sleep(60_000, { signal: aborting.signal }).then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(resolved).toBe(false);
    aborting.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(resolved).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await sleep(60_000, { signal: aborting.signal });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets the process exit during an unref wait', async () => {
    const unref = vi.spyOn(globalThis, 'setTimeout');
    await sleep(1, { unref: true });
    const timer = unref.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    unref.mockRestore();
  });
});
