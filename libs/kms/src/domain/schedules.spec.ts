import { describe, expect, it } from 'vitest';
import { addMonthsUtc, AUTO_PURGE_AFTER_MS, autoPurgeAt, nextRotationAt, rescheduled, type RotationSchedule } from './schedules.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('addMonthsUtc', () => {
  it.each([
    ['2026-01-15T10:20:30.456Z', 1, '2026-02-15T10:20:30.456Z'],
    ['2026-01-31T00:00:00.000Z', 1, '2026-02-28T00:00:00.000Z'],
    ['2028-01-31T23:59:59.999Z', 1, '2028-02-29T23:59:59.999Z'],
    ['2026-03-31T12:00:00.000Z', 1, '2026-04-30T12:00:00.000Z'],
    ['2026-11-30T00:00:00.000Z', 3, '2027-02-28T00:00:00.000Z'],
    ['2026-12-31T08:00:00.000Z', 12, '2027-12-31T08:00:00.000Z'],
    ['2026-05-01T00:00:00.000Z', 0, '2026-05-01T00:00:00.000Z'],
  ])('%s + %i month(s) = %s (calendar months, UTC, the last day when the month is shorter)', (from, months, expected) => {
    expect(iso(addMonthsUtc(at(from), months))).toBe(expected);
  });
});

describe('nextRotationAt', () => {
  const key: RotationSchedule = {
    state: 1,
    imported: false,
    extractable: false,
    rotationEnabled: true,
    rotationIntervalMonth: 2,
    createdAt: at('2026-01-10T00:00:00.000Z'),
    rotatedAt: null,
  };

  it('is the creation plus the interval for a key never rotated, the last rotation plus the interval after', () => {
    expect(iso(nextRotationAt(key))).toBe('2026-03-10T00:00:00.000Z');
    expect(iso(nextRotationAt({ ...key, rotatedAt: at('2026-02-01T06:00:00.000Z') }))).toBe('2026-04-01T06:00:00.000Z');
  });

  it('keeps the schedule of a disabled (suspended) key: it rotates once enabled', () => {
    expect(nextRotationAt({ ...key, state: 2 })).toBe(nextRotationAt(key));
  });

  it.each<[string, Partial<RotationSchedule>]>([
    ['without an enabled policy', { rotationEnabled: false }],
    ['without an interval', { rotationIntervalMonth: null }],
    ['for an imported root key (no new material)', { imported: true }],
    ['for a standard key', { extractable: true }],
    ['for a deleted key', { state: 5 }],
  ])('is never (null) %s', (_, change) => {
    expect(nextRotationAt({ ...key, ...change })).toBeNull();
  });

  it('reschedules with the changes applied', () => {
    const rotatedAt = at('2026-03-10T00:00:00.000Z');
    expect(rescheduled(key, { rotatedAt })).toEqual({ rotatedAt, nextRotationAt: at('2026-05-10T00:00:00.000Z') });
    expect(rescheduled(key, { state: 5 })).toEqual({ state: 5, nextRotationAt: null });
    expect(rescheduled({ ...key, state: 5 }, { state: 1 }).nextRotationAt).toBe(at('2026-03-10T00:00:00.000Z'));
  });
});

describe('automatic purge', () => {
  it('is due 90 days after the deletion', () => {
    expect(AUTO_PURGE_AFTER_MS).toBe(90 * 24 * 3_600_000);
    expect(iso(autoPurgeAt(at('2026-01-01T00:00:00.000Z')))).toBe('2026-04-01T00:00:00.000Z');
  });
});
