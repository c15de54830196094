import { describe, expect, it } from 'vitest';
import { batchedRandomBytes, RandomBatch } from './random-batch.js';

describe('RandomBatch', () => {
  it('hands every byte out once: consecutive draws never repeat, and the batch keeps zeros where it gave', () => {
    const batch = new RandomBatch();
    const draws = Array.from({ length: 400 }, () => batch.fill(Buffer.alloc(12)).toString('hex'));
    expect(new Set(draws).size).toBe(draws.length);
    const internal = (batch as unknown as { batch: Buffer; offset: number }).batch;
    const offset = (batch as unknown as { offset: number }).offset;
    expect(internal.subarray(0, offset).every((byte) => byte === 0)).toBe(true);
  });

  it('fills a target larger than the batch straight from the CSPRNG', () => {
    const large = new RandomBatch().fill(Buffer.alloc(RandomBatch.BATCH_BYTES + 1));
    expect(large.some((byte) => byte !== 0)).toBe(true);
  });

  it('batchedRandomBytes gives a new Buffer of the size asked each time', () => {
    const [a, b] = [batchedRandomBytes(12), batchedRandomBytes(12)];
    expect(a).toHaveLength(12);
    expect(a.equals(b)).toBe(false);
    expect(a.buffer === b.buffer && a.byteOffset === b.byteOffset).toBe(false);
  });
});
