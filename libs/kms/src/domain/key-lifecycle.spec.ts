import { ManualClock } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { thrown } from '../testing/expect-code.js';
import {
  deleteKey,
  deletionAuthorized,
  deletionInfo,
  disable,
  DUAL_AUTH_WINDOW_MS,
  effectiveState,
  enable,
  PURGE_DELAY_MS,
  requireActive,
  requirePurgeable,
  requireUnwrappable,
  restore,
  RESTORE_WINDOW_MS,
  setForDeletion,
  unsetForDeletion,
  type KeyChange,
  type KeyLifecycle,
} from './key-lifecycle.js';

const HOUR = 3_600_000;

function activeKey(overrides: Partial<KeyLifecycle> = {}): KeyLifecycle {
  return {
    id: 'k1',
    state: 1,
    imported: false,
    expiresAt: null,
    dualAuthDelete: false,
    setForDeletionBy: null,
    setForDeletionAt: null,
    deletedAt: null,
    deletedBy: null,
    ...overrides,
  };
}

const apply = (key: KeyLifecycle, change: KeyChange | null): KeyLifecycle => ({ ...key, ...(change ?? {}) });

describe('key state machine: disable / enable', () => {
  const now = Date.UTC(2026, 0, 1);

  it('disables an active key (state 2, reason 2) and enables it again (state 1)', () => {
    const disabled = apply(activeKey(), disable(activeKey(), now));
    expect(disabled.state).toBe(2);
    expect(disable(activeKey(), now)).toMatchObject({ nonactiveReason: 2 });
    expect(apply(disabled, enable(disabled, now)).state).toBe(1);
  });

  it('treats disabling a disabled key and enabling an active key as no change', () => {
    expect(disable(activeKey({ state: 2 }), now)).toBeNull();
    expect(enable(activeKey(), now)).toBeNull();
  });

  it('refuses wrap and unwrap on a disabled key with 409 KEY_DISABLED, at once', () => {
    const disabled = activeKey({ state: 2 });
    expect(thrown(() => requireActive(disabled, now), 'KEY_DISABLED').message).toContain('disabled');
    thrown(() => requireUnwrappable(disabled, now), 'KEY_DISABLED');
  });

  it('refuses every transition of a destroyed key with 410 KEY_DESTROYED', () => {
    const destroyed = activeKey({ state: 5, deletedAt: now });
    thrown(() => disable(destroyed, now), 'KEY_DESTROYED');
    thrown(() => enable(destroyed, now), 'KEY_DESTROYED');
    thrown(() => requireActive(destroyed, now), 'KEY_DESTROYED');
    thrown(() => requireUnwrappable(destroyed, now), 'KEY_DESTROYED');
    thrown(() => setForDeletion({ ...destroyed, dualAuthDelete: true }, 'u1', now), 'KEY_DESTROYED');
    thrown(() => deleteKey(destroyed, { actor: 'u1', now, force: false, preventingRegistrations: 0 }), 'KEY_DESTROYED');
  });

  it('shows an active key past its expiration date as deactivated (3): it unwraps but does not wrap', () => {
    const clock = new ManualClock(now);
    const key = activeKey({ expiresAt: now + HOUR });
    expect(effectiveState(key, clock.nowMs())).toBe(1);
    clock.advance(HOUR);
    expect(effectiveState(key, clock.nowMs())).toBe(3);
    thrown(() => requireActive(key, clock.nowMs()), 'KEY_DISABLED');
    expect(() => requireUnwrappable(key, clock.nowMs())).not.toThrow();
    thrown(() => disable(key, clock.nowMs()), 'CONFLICT');
    thrown(() => enable(key, clock.nowMs()), 'CONFLICT');
  });
});

describe('key state machine: delete, restore, purge', () => {
  it('deletes to state 5 recording when and by whom', () => {
    const clock = new ManualClock();
    const change = deleteKey(activeKey(), { actor: 'IBMid-a', now: clock.nowMs(), force: false, preventingRegistrations: 0 });
    expect(change).toMatchObject({ state: 5, deletedAt: clock.nowMs(), deletedBy: 'IBMid-a' });
  });

  it('a registration with preventKeyDeletion blocks delete with 409 KEY_DELETION_PREVENTED, unless forced', () => {
    const context = { actor: 'u1', now: 0, force: false, preventingRegistrations: 2 };
    expect(thrown(() => deleteKey(activeKey(), context), 'KEY_DELETION_PREVENTED').message).toContain('force=true');
    expect(deleteKey(activeKey(), { ...context, force: true }).state).toBe(5);
  });

  it('restores within 30 days of the deletion, and not a moment later (410 KEY_RESTORE_EXPIRED)', () => {
    const clock = new ManualClock();
    const deleted = apply(activeKey(), deleteKey(activeKey(), { actor: 'u1', now: clock.nowMs(), force: false, preventingRegistrations: 0 }));
    clock.advance(RESTORE_WINDOW_MS - 1);
    expect(apply(deleted, restore(deleted, clock.nowMs()))).toMatchObject({ state: 1, deletedAt: null, deletedBy: null });
    clock.advance(1);
    thrown(() => restore(deleted, clock.nowMs()), 'KEY_RESTORE_EXPIRED');
  });

  it('restores only a deleted key (409 CONFLICT otherwise)', () => {
    expect(thrown(() => restore(activeKey(), 0), 'CONFLICT').message).toContain('not deleted');
  });

  it('purges only a deleted key, and only 4 h after its deletion (409 REQ_TOO_EARLY_ERR before)', () => {
    const clock = new ManualClock();
    thrown(() => requirePurgeable(activeKey(), clock.nowMs()), 'CONFLICT');
    const deleted = activeKey({ state: 5, deletedAt: clock.nowMs() });
    clock.advance(PURGE_DELAY_MS - 1);
    expect(thrown(() => requirePurgeable(deleted, clock.nowMs()), 'REQ_TOO_EARLY_ERR').message).toContain('4 hours');
    clock.advance(1);
    expect(() => requirePurgeable(deleted, clock.nowMs())).not.toThrow();
  });

  it('shows when restore and purge are allowed, and when the purge scheduler purges the key (90 days)', () => {
    const deletedAt = Date.UTC(2026, 0, 1);
    const deleted = activeKey({ state: 5, deletedAt });
    expect(deletionInfo(deleted, deletedAt + HOUR)).toEqual({
      restoreAllowed: true,
      restoreExpirationDate: new Date(deletedAt + RESTORE_WINDOW_MS).toISOString(),
      purgeAllowed: false,
      purgeAllowedFrom: new Date(deletedAt + PURGE_DELAY_MS).toISOString(),
      purgeScheduledOn: '2026-04-01T00:00:00.000Z',
    });
    expect(deletionInfo(deleted, deletedAt + RESTORE_WINDOW_MS)).toMatchObject({ restoreAllowed: false, purgeAllowed: true });
    expect(deletionInfo(activeKey(), 0)).toEqual({});
  });
});

describe('key state machine: dual authorization delete', () => {
  const dual = activeKey({ dualAuthDelete: true });

  it('without a policy, setting a key for deletion is refused (409 CONFLICT) and delete needs no second identity', () => {
    thrown(() => setForDeletion(activeKey(), 'u1', 0), 'CONFLICT');
    expect(deleteKey(activeKey(), { actor: 'u1', now: 0, force: false, preventingRegistrations: 0 }).state).toBe(5);
  });

  it('refuses delete until another identity set the key for deletion (409 DUAL_AUTH_REQUIRED)', () => {
    const clock = new ManualClock();
    thrown(() => deleteKey(dual, { actor: 'u2', now: clock.nowMs(), force: false, preventingRegistrations: 0 }), 'DUAL_AUTH_REQUIRED');
    const set = apply(dual, setForDeletion(dual, 'u1', clock.nowMs()));
    expect(deletionAuthorized(set, clock.nowMs())).toBe(true);
    // The identity that authorized it cannot be the second one.
    expect(thrown(() => deleteKey(set, { actor: 'u1', now: clock.nowMs(), force: false, preventingRegistrations: 0 }), 'DUAL_AUTH_REQUIRED').message).toContain(
      'second identity',
    );
    const deleted = deleteKey(set, { actor: 'u2', now: clock.nowMs(), force: false, preventingRegistrations: 0 });
    expect(deleted).toMatchObject({ state: 5, deletedBy: 'u2', setForDeletionBy: null, setForDeletionAt: null });
  });

  it('a deletion authorization lasts 7 days', () => {
    const clock = new ManualClock();
    const set = apply(dual, setForDeletion(dual, 'u1', clock.nowMs()));
    clock.advance(DUAL_AUTH_WINDOW_MS - 1);
    expect(deleteKey(set, { actor: 'u2', now: clock.nowMs(), force: false, preventingRegistrations: 0 }).state).toBe(5);
    clock.advance(1);
    expect(deletionAuthorized(set, clock.nowMs())).toBe(false);
    thrown(() => deleteKey(set, { actor: 'u2', now: clock.nowMs(), force: false, preventingRegistrations: 0 }), 'DUAL_AUTH_REQUIRED');
  });

  it('unsetting cancels the authorization; unsetting nothing changes nothing', () => {
    const set = apply(dual, setForDeletion(dual, 'u1', 0));
    const unset = apply(set, unsetForDeletion(set));
    expect(unset.setForDeletionBy).toBeNull();
    thrown(() => deleteKey(unset, { actor: 'u2', now: 1, force: false, preventingRegistrations: 0 }), 'DUAL_AUTH_REQUIRED');
    expect(unsetForDeletion(unset)).toBeNull();
  });

  it('registrations are checked before the dual authorization', () => {
    const set = apply(dual, setForDeletion(dual, 'u1', 0));
    thrown(() => deleteKey(set, { actor: 'u2', now: 1, force: false, preventingRegistrations: 1 }), 'KEY_DELETION_PREVENTED');
  });
});
