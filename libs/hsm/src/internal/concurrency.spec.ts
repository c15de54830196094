import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';
import { Semaphore } from './semaphore.js';
import { SerialQueue } from './serial-queue.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedLock', () => {
  it('runs tasks of one key one at a time in order, other keys alongside, and forgets idle keys', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    const task = (name: string) => async () => {
      events.push(`${name}+`);
      await tick();
      events.push(`${name}-`);
    };
    await Promise.all([lock.run('a', task('a1')), lock.run('a', task('a2')), lock.run('b', task('b1'))]);
    expect(events.indexOf('a1-')).toBeLessThan(events.indexOf('a2+'));
    expect(events.indexOf('b1+')).toBeLessThan(events.indexOf('a1-'));
    await tick();
    expect(lock.size).toBe(0);
  });

  it('goes on after a failed task', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('a', async () => 'next')).resolves.toBe('next');
  });
});

describe('Semaphore', () => {
  it('admits at most its permits, then waiters in arrival order', async () => {
    const semaphore = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, index) => {
        await semaphore.acquire();
        order.push(index);
        active += 1;
        peak = Math.max(peak, active);
        await tick();
        active -= 1;
        semaphore.release();
      }),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('SerialQueue', () => {
  it('runs tasks one after the other and drains', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    const first = queue.run(async () => {
      await tick();
      events.push('first');
      throw new Error('first failed');
    });
    const second = queue.run(async () => {
      events.push('second');
      return 2;
    });
    await expect(first).rejects.toThrow('first failed');
    await expect(second).resolves.toBe(2);
    await queue.drain();
    expect(events).toEqual(['first', 'second']);
  });
});
