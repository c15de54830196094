import { SecretsWire } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import type { ResolvedVersion } from '../ports.js';
import {
  assertLockable,
  containsPattern,
  groupNames,
  lockListLinkQuery,
  lockOrderBy,
  orphanSecretLocks,
  planLockList,
  planLockUpsert,
  secretsLocksLinkQuery,
  toWireLock,
  toWireSecretLocks,
  versionBefore,
  type StoredLock,
} from './rules.js';

const GROUP = '0b5571f7-21e6-42b7-91c5-3f5ac9793a46';

const version = (versionId: string, alias?: SecretsWire.VersionAlias, payloadAvailable = true): ResolvedVersion => ({
  secretId: 's1',
  secretGroupId: 'default',
  secretType: 'arbitrary',
  secretName: 'db-password',
  versionId,
  ...(alias ? { alias } : {}),
  payloadAvailable,
  createdAt: 0,
});

const lock = (overrides: Partial<StoredLock> = {}): StoredLock => ({
  secretId: 's1',
  versionId: 'v1',
  secretGroupId: 'g1',
  name: 'app',
  description: null,
  attributes: null,
  createdAt: Date.UTC(2025, 0, 1),
  createdBy: 'IBMid-1',
  updatedAt: Date.UTC(2025, 0, 2),
  ...overrides,
});

describe('planLockUpsert', () => {
  it('splits the requested locks into new names and replacements', () => {
    expect(planLockUpsert(['a1', 'b1'], [{ name: 'b1' }, { name: 'c1' }])).toEqual({ inserted: ['c1'], replaced: ['b1'] });
    expect(planLockUpsert([], [{ name: 'a1' }])).toEqual({ inserted: ['a1'], replaced: [] });
  });

  it('refuses more than MAX_LOCKS_PER_VERSION locks on a version with CONFLICT, counting only new names', () => {
    const full = Array.from({ length: SecretsWire.MAX_LOCKS_PER_VERSION }, (_, index) => `lock${index}`);
    const error = (() => {
      try {
        planLockUpsert(full, [{ name: 'one-more' }]);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('CONFLICT');
    expect((error as DomainError).message).toContain(String(SecretsWire.MAX_LOCKS_PER_VERSION));
    // Replacing locks the version already holds is not growth.
    expect(planLockUpsert(full, [{ name: 'lock0' }, { name: 'lock999' }])).toEqual({ inserted: [], replaced: ['lock0', 'lock999'] });
    expect(planLockUpsert(full.slice(1), [{ name: 'lock0' }]).inserted).toEqual(['lock0']);
  });
});

describe('assertLockable', () => {
  it('accepts a version with data and refuses one whose data was deleted with CONFLICT', () => {
    expect(() => assertLockable(version('v1'))).not.toThrow();
    expect(() => assertLockable(version('v1', undefined, false))).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
  });
});

describe('versionBefore', () => {
  const versions = [version('v3', 'current'), version('v2', 'previous'), version('v1')];
  it('is the version created just before the target (newest first)', () => {
    expect(versionBefore(versions, 'v3')?.versionId).toBe('v2');
    expect(versionBefore(versions, 'v2')?.versionId).toBe('v1');
  });
  it('is absent for the oldest version and for an unknown one', () => {
    expect(versionBefore(versions, 'v1')).toBeUndefined();
    expect(versionBefore(versions, 'nope')).toBeUndefined();
  });
});

describe('lock listing', () => {
  it('orders by the sort column, then name and version id in the same direction', () => {
    expect(lockOrderBy()).toEqual([
      { column: 'createdAt', direction: 'asc' },
      { column: 'name', direction: 'asc' },
      { column: 'versionId', direction: 'asc' },
    ]);
    expect(lockOrderBy('-updated_at')).toEqual([
      { column: 'updatedAt', direction: 'desc' },
      { column: 'name', direction: 'desc' },
      { column: 'versionId', direction: 'desc' },
    ]);
    expect(lockOrderBy('name')).toEqual([
      { column: 'name', direction: 'asc' },
      { column: 'versionId', direction: 'asc' },
    ]);
  });

  it('plans a validated query and repeats sort, search and groups in the links', () => {
    const query = SecretsWire.ListLocksQuery.parse({ offset: '5', limit: '2', sort: '-name', search: 'App' });
    expect(planLockList(query)).toEqual({
      offset: 5,
      limit: 2,
      orderBy: [
        { column: 'name', direction: 'desc' },
        { column: 'versionId', direction: 'desc' },
      ],
      search: 'App',
    });
    expect(planLockList(SecretsWire.ListLocksQuery.parse({}))).toMatchObject({ offset: 0, limit: SecretsWire.LIST_LOCKS_DEFAULT_LIMIT });
    expect(planLockList(SecretsWire.ListLocksQuery.parse({}))).not.toHaveProperty('search');
    expect(lockListLinkQuery(query)).toEqual({ sort: '-name', search: 'App' });
    expect(secretsLocksLinkQuery(SecretsWire.ListSecretsLocksQuery.parse({ groups: `default,${GROUP}`, search: 'a' }))).toEqual({
      search: 'a',
      groups: ['default', GROUP],
    });
  });

  it('makes a case-insensitive substring pattern in which %, _ and \\ match themselves', () => {
    expect(containsPattern('App')).toBe('%app%');
    expect(containsPattern('a_b%c\\d')).toBe('%a\\_b\\%c\\\\d%');
  });
});

describe('answers', () => {
  it('shows a lock with its version alias, description and attributes only when present', () => {
    expect(toWireLock(lock(), version('v1', 'current'))).toEqual({
      name: 'app',
      created_at: '2025-01-01T00:00:00.000Z',
      updated_at: '2025-01-02T00:00:00.000Z',
      created_by: 'IBMid-1',
      secret_group_id: 'default',
      secret_id: 's1',
      secret_version_id: 'v1',
      secret_version_alias: 'current',
    });
    const described = toWireLock(lock({ description: 'in use', attributes: '{"owner":"billing"}' }), version('v1'));
    expect(described).toMatchObject({ description: 'in use', attributes: { owner: 'billing' } });
    expect(described).not.toHaveProperty('secret_version_alias');
    expect(toWireLock(lock(), undefined).secret_group_id).toBe('g1');
  });

  it('lists the shown versions and every locked version, newest first, with sorted names', () => {
    const versions = [version('v3', 'current'), version('v2', 'previous', false), version('v1')];
    const locks = groupNames([
      { versionId: 'v1', name: 'zeta' },
      { versionId: 'v1', name: 'alpha' },
      { versionId: 'v3', name: 'app' },
    ]);
    expect(toWireSecretLocks(versions, locks, new Set(['v2']))).toEqual({
      secret_id: 's1',
      secret_group_id: 'default',
      secret_type: 'arbitrary',
      secret_name: 'db-password',
      versions: [
        { version_id: 'v3', version_alias: 'current', locks: ['app'], payload_available: true },
        { version_id: 'v2', version_alias: 'previous', locks: [], payload_available: false },
        { version_id: 'v1', locks: ['alpha', 'zeta'], payload_available: true },
      ],
    });
    expect(toWireSecretLocks(versions, new Map()).versions).toEqual([]);
    expect(() => toWireSecretLocks([], new Map())).toThrow();
  });

  it('describes locks whose secret the secrets store does not know from the lock rows alone', () => {
    expect(orphanSecretLocks('s9', [lock({ secretId: 's9', versionId: 'v2', name: 'b1' }), lock({ secretId: 's9', versionId: 'v1', name: 'a1' })])).toEqual({
      secret_id: 's9',
      secret_group_id: 'g1',
      versions: [
        { version_id: 'v1', locks: ['a1'] },
        { version_id: 'v2', locks: ['b1'] },
      ],
    });
  });
});
