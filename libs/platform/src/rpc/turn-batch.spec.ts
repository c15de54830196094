import { describe, expect, it } from 'vitest';
import { TurnBatch } from './turn-batch.js';

describe('TurnBatch', () => {
  it('runs the tasks of one turn together, after the microtasks of that turn, in order', async () => {
    const batch = new TurnBatch();
    const ran: string[] = [];
    batch.defer(() => ran.push('a'));
    await Promise.resolve();
    batch.defer(() => ran.push('b'));
    queueMicrotask(() => ran.push('microtask'));
    expect(ran).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['microtask', 'a', 'b']);
  });

  it('keeps running the others when one task throws, and reports a start that throws as a rejection', async () => {
    const batch = new TurnBatch();
    const ran: string[] = [];
    batch.defer(() => {
      throw new Error('first');
    });
    batch.defer(() => ran.push('second'));
    const failed = batch.later(() => {
      throw new Error('synchronously');
    });
    await expect(failed).rejects.toThrow('synchronously');
    await expect(batch.later(async () => 42)).resolves.toBe(42);
    expect(ran).toEqual(['second']);
  });
});
