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

  it('keeps running the others when one task throws, and schedules again after a flush', async () => {
    const batch = new TurnBatch();
    const ran: string[] = [];
    batch.defer(() => {
      throw new Error('first');
    });
    batch.defer(() => ran.push('second'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['second']);
    batch.defer(() => ran.push('next turn'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['second', 'next turn']);
  });
});
