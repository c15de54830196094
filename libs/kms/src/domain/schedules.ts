import { KmsWire } from '@sealbox/contracts';

const DAY_MS = 24 * 3_600_000;

/** A key deleted (state 5) this long ago is purged by the purge scheduler (Key Protect: 90 days). */
export const AUTO_PURGE_AFTER_MS = 90 * DAY_MS;

/** When the purge scheduler purges a key deleted at `deletedAt`. */
export const autoPurgeAt = (deletedAt: number): number => deletedAt + AUTO_PURGE_AFTER_MS;

/**
 * `months` calendar months after `ms`, in UTC, at the same time of day; a day the target month does
 * not have becomes its last day (31 January + 1 month = 28 or 29 February).
 */
export function addMonthsUtc(ms: number, months: number): number {
  const at = new Date(ms);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(at.getUTCDate(), lastDay);
  return Date.UTC(year, month, day, at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), at.getUTCMilliseconds());
}

/** The fields of a key its rotation schedule depends on. */
export interface RotationSchedule {
  readonly state: number;
  readonly imported: boolean;
  readonly extractable: boolean;
  readonly rotationEnabled: boolean;
  readonly rotationIntervalMonth: number | null;
  readonly createdAt: number;
  readonly rotatedAt: number | null;
}

/**
 * When the rotation scheduler rotates the key next: its last rotation (or creation) plus the policy's
 * interval, or null when it is never rotated automatically: no enabled rotation policy, a deleted
 * key, a standard key (only root keys rotate), or an imported root key (rotating it needs new key
 * material from its owner, which a scheduler does not have).
 */
export function nextRotationAt(key: RotationSchedule): number | null {
  if (!key.rotationEnabled || key.rotationIntervalMonth === null) return null;
  if (key.imported || key.extractable || key.state === KmsWire.KEY_STATE_DESTROYED) return null;
  return addMonthsUtc(key.rotatedAt ?? key.createdAt, key.rotationIntervalMonth);
}

/** `changes` to a key, plus its rotation schedule as they leave it (every write that can move it). */
export function rescheduled<K extends RotationSchedule, C extends Partial<K>>(key: K, changes: C): C & { nextRotationAt: number | null } {
  return { ...changes, nextRotationAt: nextRotationAt({ ...key, ...changes }) };
}
