import { afterEach, describe, expect, it, vi } from 'vitest';
import { Clock, ManualClock, SystemClock } from './clock.js';

const DAY = 24 * 60 * 60 * 1000;

describe('ManualClock', () => {
  it('starts at 2026-01-01T00:00:00Z unless told otherwise', () => {
    expect(new ManualClock().now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(new ManualClock(new Date('2030-05-06T07:08:09.010Z')).now().toISOString()).toBe('2030-05-06T07:08:09.010Z');
    expect(new ManualClock(0).nowMs()).toBe(0);
  });

  it('stands still until advanced', () => {
    const clock = new ManualClock();
    const before = clock.nowMs();
    expect(clock.nowMs()).toBe(before);
    clock.advance(7 * DAY);
    expect(clock.now().toISOString()).toBe('2026-01-08T00:00:00.000Z');
    clock.advance(-DAY);
    expect(clock.now().toISOString()).toBe('2026-01-07T00:00:00.000Z');
  });

  it('jumps to a set instant', () => {
    const clock = new ManualClock();
    clock.set(new Date('2027-02-03T04:05:06.000Z'));
    expect(clock.nowMs()).toBe(Date.UTC(2027, 1, 3, 4, 5, 6));
  });

  it('hands out copies: mutating a returned Date does not move the clock', () => {
    const clock = new ManualClock();
    clock.now().setUTCFullYear(1999);
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('is a Clock, injectable where a Clock is asked for', () => {
    const clock: Clock = new ManualClock();
    expect(clock).toBeInstanceOf(Clock);
  });
});

describe('SystemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the system time', () => {
    vi.useFakeTimers({ now: new Date('2031-03-04T05:06:07.089Z') });
    const clock = new SystemClock();
    expect(clock.now().toISOString()).toBe('2031-03-04T05:06:07.089Z');
    expect(clock.nowMs()).toBe(Date.UTC(2031, 2, 4, 5, 6, 7, 89));
  });
});
