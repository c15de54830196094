import { randomFillSync } from 'node:crypto';

/**
 * CSPRNG bytes (node:crypto `randomFillSync`) drawn a batch at a time: a draw from the CSPRNG costs
 * about as much for 2 KiB as for 12 bytes (here ~10 µs either way), so one refill serves a hundred
 * nonces. Every byte is handed out once, copied into the caller's Buffer and zeroed in the batch as it
 * is taken; the batch holds at most `BATCH_BYTES` of randomness not yet used (no more than the CSPRNG's
 * own state in the process reveals).
 */
export class RandomBatch {
  static readonly BATCH_BYTES = 2048;
  private readonly batch = Buffer.alloc(RandomBatch.BATCH_BYTES);
  private offset = RandomBatch.BATCH_BYTES;

  /** Fill `target` with fresh random bytes and return it. */
  fill<T extends Buffer>(target: T): T {
    if (target.length > RandomBatch.BATCH_BYTES) return randomFillSync(target);
    if (this.offset + target.length > RandomBatch.BATCH_BYTES) {
      randomFillSync(this.batch);
      this.offset = 0;
    }
    const end = this.offset + target.length;
    this.batch.copy(target, 0, this.offset, end);
    this.batch.fill(0, this.offset, end);
    this.offset = end;
    return target;
  }
}

const shared = new RandomBatch();

/** `size` fresh CSPRNG bytes in a new Buffer (as `randomBytes(size)`), from the process's shared batch. */
export function batchedRandomBytes(size: number): Buffer {
  return shared.fill(Buffer.allocUnsafe(size));
}

/** Fill `target` with fresh CSPRNG bytes from the process's shared batch, and return it. */
export function fillRandom<T extends Buffer>(target: T): T {
  return shared.fill(target);
}
