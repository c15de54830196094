import { fillRandom } from '../random/random-batch.js';

let lastMs = 0;
let sequence = 0;

const ID_BYTES = 16;

/**
 * A UUIDv7 (RFC 9562) that sorts in creation order within this process: 48 bits of milliseconds,
 * then a 12-bit sequence for ids of the same millisecond (RFC 9562 method 1; on overflow the
 * timestamp moves one millisecond ahead), then 62 random bits. Ids never go backwards, even when
 * `nowMs` does (a test clock set back).
 *
 * The outbox relay publishes rows ordered by (created_at, id): with random v4 ids, several events
 * recorded in the same millisecond (one transaction, or an injected clock) came out in random order.
 */
export function orderedEventId(nowMs: number): string {
  let ms = Math.max(0, Math.floor(nowMs));
  if (ms <= lastMs) {
    ms = lastMs;
    sequence++;
    if (sequence > 0xfff) {
      ms++;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  lastMs = ms;
  // From the shared CSPRNG batch: one draw per id costs more than the rest of it.
  const bytes = fillRandom(Buffer.allocUnsafe(ID_BYTES));
  bytes.writeUIntBE(ms % 2 ** 48, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
