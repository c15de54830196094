import { describe, expect, it } from 'vitest';
import { GroupSync } from './group-sync.js';

/** An fsync the test finishes by hand; records when each began. */
class ManualFsync {
  readonly started: number[] = [];
  private finishers: (() => void)[] = [];
  clock = 0;

  readonly fsync = () =>
    new Promise<void>((resolve) => {
      this.started.push(this.clock);
      this.finishers.push(resolve);
    });

  async finishOne(): Promise<void> {
    this.finishers.shift()?.();
    for (let turn = 0; turn < 5; turn++) await Promise.resolve();
  }
}

describe('GroupSync', () => {
  it('starts a flush for a caller when none runs, and gives every caller a flush that began after its call', async () => {
    const disk = new ManualFsync();
    const sync = new GroupSync(disk.fsync);
    const done: string[] = [];
    disk.clock = 1;
    void sync.durable().then(() => done.push('a'));
    expect(disk.started).toEqual([1]);
    // Callers during the running flush wait for the next one, which they share.
    disk.clock = 2;
    void sync.durable().then(() => done.push('b'));
    disk.clock = 3;
    void sync.durable().then(() => done.push('c'));
    expect(disk.started).toEqual([1]);
    await disk.finishOne();
    expect(done).toEqual(['a']);
    expect(disk.started).toEqual([1, 3]);
    await disk.finishOne();
    expect(done).toEqual(['a', 'b', 'c']);
    expect(sync.idle).toBe(true);
    // Idle again: the next caller starts its own.
    disk.clock = 4;
    void sync.durable().then(() => done.push('d'));
    expect(disk.started).toEqual([1, 3, 4]);
    await disk.finishOne();
    expect(done).toEqual(['a', 'b', 'c', 'd']);
  });

  it('fails the callers a flush failed for, and the next caller tries again', async () => {
    let fail = true;
    const sync = new GroupSync(async () => {
      if (fail) throw new Error('EIO');
    });
    await expect(sync.durable()).rejects.toThrow('EIO');
    fail = false;
    await expect(sync.durable()).resolves.toBeUndefined();
  });
});
