/** Rotation policies: when a secret rotates next, and a policy after a merge patch. */
import { SecretsWire } from '@sealbox/contracts';
import { mergePatch } from './merge-patch.js';
import { parseOrFail } from './validation.js';

type RotationPolicy = SecretsWire.RotationPolicy;

export const NO_ROTATION: RotationPolicy = { auto_rotate: false };

/** The rotation policy recorded in a secret's details (the types that rotate keep it under `rotation`). */
export function rotationOf(details: Record<string, unknown>): RotationPolicy | undefined {
  return details['rotation'] as RotationPolicy | undefined;
}

/** When a secret with `policy` rotates next, counted from `fromMs` (a version's creation, or the policy change); null when it does not. */
export function nextRotationAt(policy: RotationPolicy | undefined, fromMs: number): number | null {
  if (!policy?.auto_rotate || policy.interval === undefined || policy.unit === undefined) return null;
  if (policy.unit === 'day') return fromMs + policy.interval * 86_400_000;
  const date = new Date(fromMs);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + policy.interval);
  // The same day of the month, or the month's last day (Jan 31 + 1 month = Feb 28/29).
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return date.getTime();
}

/** A rotation policy after a merge patch, checked again as a whole (`rotation.interval` is required with auto_rotate). */
export function patchedRotation(current: RotationPolicy | undefined, patch: Record<string, unknown>): RotationPolicy {
  const merged = mergePatch(current ?? NO_ROTATION, patch);
  return parseOrFail(SecretsWire.RotationPolicy, merged, 'rotation');
}
