/** Version ids: UUID v7, which carry their creation time. */
import { randomBytes } from 'node:crypto';

/**
 * A UUID version 7: the first 48 bits are `nowMs`, the rest random (node:crypto). Version ids carry
 * their creation time this way, so the orphan sweep can tell an object being created (younger than
 * the grace age) from an orphan without asking the store for timestamps.
 */
export function uuidV7(nowMs: number): string {
  const bytes = randomBytes(16);
  const time = BigInt(Math.max(0, Math.floor(nowMs)));
  for (let index = 0; index < 6; index += 1) bytes[index] = Number((time >> BigInt(8 * (5 - index))) & 0xffn);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The creation time of a UUID v7, or undefined for any other id. */
export function uuidV7Time(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)) return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
