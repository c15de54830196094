import { KmsWire } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';
import { autoPurgeAt } from './schedules.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A deleted key can be restored for this long (Key Protect: 30 days). */
export const RESTORE_WINDOW_MS = 30 * DAY_MS;
/** A deleted key can be purged only this long after its deletion (Key Protect: 4 hours). */
export const PURGE_DELAY_MS = 4 * HOUR_MS;
/** A deletion authorization (dual authorization delete) is valid this long (Key Protect: 7 days). */
export const DUAL_AUTH_WINDOW_MS = 7 * DAY_MS;

/** Key Protect `nonactiveStateReason`: 1 = expired, 2 = disabled by a user. */
export const NONACTIVE_EXPIRED = 1;
export const NONACTIVE_DISABLED = 2;

const { KEY_STATE_ACTIVE: ACTIVE, KEY_STATE_SUSPENDED: SUSPENDED, KEY_STATE_DEACTIVATED: DEACTIVATED, KEY_STATE_DESTROYED: DESTROYED } = KmsWire;

/** The lifecycle fields of a root key, as stored (times in epoch ms). */
export interface KeyLifecycle {
  readonly id: string;
  readonly state: number;
  readonly imported: boolean;
  readonly expiresAt: number | null;
  readonly dualAuthDelete: boolean;
  readonly setForDeletionBy: string | null;
  readonly setForDeletionAt: number | null;
  readonly deletedAt: number | null;
  readonly deletedBy: string | null;
}

/** What a transition changes (only the fields named). */
export type KeyChange = Partial<Pick<KeyLifecycle, 'state' | 'setForDeletionBy' | 'setForDeletionAt' | 'deletedAt' | 'deletedBy'>> & {
  readonly nonactiveReason?: number | null;
};

/** The state a caller sees: an active key past its expiration date is deactivated (3). */
export function effectiveState(key: Pick<KeyLifecycle, 'state' | 'expiresAt'>, now: number): number {
  if (key.state === ACTIVE && key.expiresAt !== null && key.expiresAt <= now) return DEACTIVATED;
  return key.state;
}

export const keyDestroyed = (id: string) =>
  new DomainError('KEY_DESTROYED', `Key ${id} was deleted (state 5): restore it first, within 30 days of its deletion`);
const keyDisabled = (id: string) => new DomainError('KEY_DISABLED', `Key ${id} is disabled (state 2): enable it first`);
const keyDeactivated = (id: string) =>
  new DomainError('KEY_DISABLED', `Key ${id} is deactivated (state 3, past its expiration date): it can only unwrap`);

/** Wrap, rewrap and rotate need an active key. */
export function requireActive(key: KeyLifecycle, now: number): void {
  switch (effectiveState(key, now)) {
    case ACTIVE:
      return;
    case SUSPENDED:
      throw keyDisabled(key.id);
    case DESTROYED:
      throw keyDestroyed(key.id);
    default:
      throw keyDeactivated(key.id);
  }
}

/** Unwrap also works with a deactivated (expired) key, as Key Protect. */
export function requireUnwrappable(key: KeyLifecycle, now: number): void {
  const state = effectiveState(key, now);
  if (state === ACTIVE || state === DEACTIVATED) return;
  if (state === SUSPENDED) throw keyDisabled(key.id);
  throw keyDestroyed(key.id);
}

export function requireNotDestroyed(key: KeyLifecycle): void {
  if (key.state === DESTROYED) throw keyDestroyed(key.id);
}

/** Active → suspended. Disabling a disabled key changes nothing (null). */
export function disable(key: KeyLifecycle, now: number): KeyChange | null {
  const state = effectiveState(key, now);
  if (state === SUSPENDED) return null;
  if (state === DESTROYED) throw keyDestroyed(key.id);
  if (state !== ACTIVE) throw new DomainError('CONFLICT', `Key ${key.id} is deactivated (past its expiration date) and cannot be disabled`);
  return { state: SUSPENDED, nonactiveReason: NONACTIVE_DISABLED };
}

/** Suspended → active. Enabling an active key changes nothing (null). */
export function enable(key: KeyLifecycle, now: number): KeyChange | null {
  const state = effectiveState(key, now);
  if (state === ACTIVE) return null;
  if (state === DESTROYED) throw keyDestroyed(key.id);
  if (state !== SUSPENDED) throw new DomainError('CONFLICT', `Key ${key.id} is deactivated (past its expiration date) and cannot be enabled`);
  return { state: ACTIVE, nonactiveReason: null };
}

/** Dual authorization delete, first step: `actor` authorizes the deletion (valid 7 days) that ANOTHER identity then performs. */
export function setForDeletion(key: KeyLifecycle, actor: string, now: number): KeyChange {
  requireNotDestroyed(key);
  if (!key.dualAuthDelete) {
    throw new DomainError('CONFLICT', `Key ${key.id} has no dual authorization delete policy: delete it directly`);
  }
  return { setForDeletionBy: actor, setForDeletionAt: now };
}

export function unsetForDeletion(key: KeyLifecycle): KeyChange | null {
  requireNotDestroyed(key);
  if (key.setForDeletionBy === null) return null;
  return { setForDeletionBy: null, setForDeletionAt: null };
}

/** Whether a deletion authorization is in force (set, not expired). */
export function deletionAuthorized(key: KeyLifecycle, now: number): boolean {
  return key.setForDeletionBy !== null && key.setForDeletionAt !== null && now < key.setForDeletionAt + DUAL_AUTH_WINDOW_MS;
}

export interface DeleteContext {
  readonly actor: string;
  readonly now: number;
  readonly force: boolean;
  /** How many registrations of the key have `preventKeyDeletion`. */
  readonly preventingRegistrations: number;
}

/**
 * Any state but destroyed → destroyed (5). Refused while a registration prevents it (unless forced)
 * and, with a dual authorization delete policy, unless ANOTHER identity authorized it within 7 days.
 */
export function deleteKey(key: KeyLifecycle, context: DeleteContext): KeyChange {
  requireNotDestroyed(key);
  if (context.preventingRegistrations > 0 && !context.force) {
    throw new DomainError(
      'KEY_DELETION_PREVENTED',
      `Key ${key.id} protects ${context.preventingRegistrations} resource(s) whose registration prevents its deletion; delete with force=true to override`,
    );
  }
  if (key.dualAuthDelete) {
    if (!deletionAuthorized(key, context.now)) {
      throw new DomainError(
        'DUAL_AUTH_REQUIRED',
        `Key ${key.id} has a dual authorization delete policy: another identity must set it for deletion first (valid 7 days)`,
      );
    }
    if (key.setForDeletionBy === context.actor) {
      throw new DomainError('DUAL_AUTH_REQUIRED', `Key ${key.id} was set for deletion by you: a second identity must delete it`);
    }
  }
  return {
    state: DESTROYED,
    deletedAt: context.now,
    deletedBy: context.actor,
    setForDeletionBy: null,
    setForDeletionAt: null,
    nonactiveReason: null,
  };
}

/** Destroyed → active, within 30 days of the deletion. Imported keys also need their material (checked by the caller). */
export function restore(key: KeyLifecycle, now: number): KeyChange {
  if (key.state !== DESTROYED || key.deletedAt === null) {
    throw new DomainError('CONFLICT', `Key ${key.id} is not deleted: only a deleted key can be restored`);
  }
  if (now >= key.deletedAt + RESTORE_WINDOW_MS) {
    throw new DomainError('KEY_RESTORE_EXPIRED', `Key ${key.id} was deleted more than 30 days ago and can no longer be restored`);
  }
  return { state: ACTIVE, deletedAt: null, deletedBy: null, nonactiveReason: null };
}

/** Purge: only a destroyed key, and only 4 hours after its deletion. */
export function requirePurgeable(key: KeyLifecycle, now: number): void {
  if (key.state !== DESTROYED || key.deletedAt === null) {
    throw new DomainError('CONFLICT', `Key ${key.id} is not deleted: delete it first, then purge it at least 4 hours later`);
  }
  if (now < key.deletedAt + PURGE_DELAY_MS) {
    throw new DomainError(
      'REQ_TOO_EARLY_ERR',
      `Key ${key.id} can be purged from ${new Date(key.deletedAt + PURGE_DELAY_MS).toISOString()} (4 hours after its deletion)`,
    );
  }
}

/** The deletion fields Key Protect shows for a destroyed key (`purgeScheduledOn`: when the purge scheduler purges it). */
export function deletionInfo(key: KeyLifecycle, now: number) {
  if (key.state !== DESTROYED || key.deletedAt === null) return {};
  const restoreUntil = key.deletedAt + RESTORE_WINDOW_MS;
  const purgeFrom = key.deletedAt + PURGE_DELAY_MS;
  return {
    restoreAllowed: now < restoreUntil,
    restoreExpirationDate: new Date(restoreUntil).toISOString(),
    purgeAllowed: now >= purgeFrom,
    purgeAllowedFrom: new Date(purgeFrom).toISOString(),
    purgeScheduledOn: new Date(autoPurgeAt(key.deletedAt)).toISOString(),
  };
}
