import { describe, expect, it } from 'vitest';
import { orderedEventId } from './event-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('orderedEventId', () => {
  it('makes UUIDv7s that sort in creation order, also within one millisecond and across the entropy pool refills', () => {
    const at = Date.UTC(2026, 11, 7);
    const ids = Array.from({ length: 1000 }, (_, index) => orderedEventId(at + Math.floor(index / 300)));
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The random tail differs between ids (it is not the pool's same bytes again).
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
    expect(Number.parseInt(ids[0]?.slice(0, 8) ?? '', 16) * 2 ** 16 + Number.parseInt(ids[0]?.slice(9, 13) ?? '', 16)).toBe(at);
  });

  it('never goes backwards when the clock does', () => {
    const later = orderedEventId(Date.UTC(2030, 0, 1));
    const earlier = orderedEventId(Date.UTC(2020, 0, 1));
    expect(earlier > later).toBe(true);
  });
});
