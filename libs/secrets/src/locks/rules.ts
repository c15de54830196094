/**
 * Pure rules of secret locks: no database, no clock.
 */
import { SecretsWire } from '@sealbox/contracts';
import { conflict } from '@sealbox/platform';
import type { QueryValue } from '../domain/listing.js';
import type { ResolvedVersion } from '../ports.js';

// ---------- creating ----------

export interface LockUpsert {
  /** Names new to the version. */
  readonly inserted: readonly string[];
  /** Names the version already holds: their description and attributes are replaced. */
  readonly replaced: readonly string[];
}

/**
 * Which requested locks are new to the version and which replace a lock of the same name. A version
 * holds at most MAX_LOCKS_PER_VERSION locks: over it, 409 CONFLICT (the version's state refuses the
 * request, as for the group quota; a single request over the limit is already a 400 from the schema).
 */
export function planLockUpsert(existing: readonly string[], requested: readonly Pick<SecretsWire.SecretLockPrototype, 'name'>[]): LockUpsert {
  const held = new Set(existing);
  const inserted = requested.filter((lock) => !held.has(lock.name)).map((lock) => lock.name);
  const replaced = requested.filter((lock) => held.has(lock.name)).map((lock) => lock.name);
  if (held.size + inserted.length > SecretsWire.MAX_LOCKS_PER_VERSION) {
    throw conflict(
      `A secret version holds at most ${SecretsWire.MAX_LOCKS_PER_VERSION} locks: it has ${held.size}, and ${inserted.length} new lock(s) were requested`,
    );
  }
  return { inserted, replaced };
}

/**
 * Only a version that still has its data can be locked (IBM: "a lock can be applied only on a secret
 * version that contains active payload"); one whose data was deleted answers 409 CONFLICT.
 */
export function assertLockable(version: Pick<ResolvedVersion, 'versionId' | 'payloadAvailable'>): void {
  if (!version.payloadAvailable) throw conflict(`Version ${version.versionId} has no data any more (it was deleted): only a version with data can be locked`);
}

/**
 * The version the lock modes act on: the one created just before `targetId` (versions come newest
 * first). Locking the current version, that is the `previous` version; locking the oldest, there is none.
 */
export function versionBefore(versions: readonly ResolvedVersion[], targetId: string): ResolvedVersion | undefined {
  const index = versions.findIndex((version) => version.versionId === targetId);
  return index < 0 ? undefined : versions[index + 1];
}

// ---------- listing ----------

export type LockSortColumn = 'name' | 'createdAt' | 'updatedAt' | 'versionId';
export type SortDirection = 'asc' | 'desc';

export interface LockOrder {
  readonly column: LockSortColumn;
  readonly direction: SortDirection;
}

export interface LockListPlan {
  readonly offset: number;
  readonly limit: number;
  readonly orderBy: readonly LockOrder[];
  /** Case-insensitive substring of the lock name. */
  readonly search?: string;
}

/** The order when the query names none: oldest first. */
export const DEFAULT_LOCK_SORT: SecretsWire.LockSort = 'created_at';

const SORT_COLUMNS: Record<string, LockSortColumn> = { name: 'name', created_at: 'createdAt', updated_at: 'updatedAt' };

/**
 * The ORDER BY of a lock `sort`, always ending on name then version id (unique within a secret), in
 * the direction of the sort, so offset pages return each lock exactly once.
 */
export function lockOrderBy(sort: SecretsWire.LockSort = DEFAULT_LOCK_SORT): LockOrder[] {
  const direction: SortDirection = sort.startsWith('-') ? 'desc' : 'asc';
  const column = SORT_COLUMNS[sort.replace(/^-/, '')] ?? 'createdAt';
  const tail: LockSortColumn[] = column === 'name' ? ['versionId'] : ['name', 'versionId'];
  return [column, ...tail].map((entry) => ({ column: entry, direction }));
}

export function planLockList(query: SecretsWire.ListLocksQuery): LockListPlan {
  return {
    offset: query.offset,
    limit: query.limit,
    orderBy: lockOrderBy(query.sort),
    ...(query.search === undefined ? {} : { search: query.search }),
  };
}

/** The parameters a lock list repeats in its page links. */
export function lockListLinkQuery(query: SecretsWire.ListLocksQuery): Record<string, QueryValue> {
  return { sort: query.sort, search: query.search };
}

/** The parameters `secrets_locks` repeats in its page links. */
export function secretsLocksLinkQuery(query: SecretsWire.ListSecretsLocksQuery): Record<string, QueryValue> {
  return { search: query.search, groups: query.groups };
}

/** A LIKE pattern (with ESCAPE '\') for a case-insensitive substring: `%`, `_` and `\` match themselves. */
export function containsPattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

// ---------- answers ----------

const iso = (ms: number) => new Date(ms).toISOString();

export interface StoredLock {
  readonly secretId: string;
  readonly versionId: string;
  readonly secretGroupId: string;
  readonly name: string;
  readonly description: string | null;
  /** JSON text of the attributes object. */
  readonly attributes: string | null;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly updatedAt: number;
}

/** A lock as IBM shows it; the alias is the version's at the time of the answer. */
export function toWireLock(row: StoredLock, version: Pick<ResolvedVersion, 'alias' | 'secretGroupId'> | undefined): SecretsWire.SecretLock {
  return {
    name: row.name,
    ...(row.description === null ? {} : { description: row.description }),
    ...(row.attributes === null ? {} : { attributes: JSON.parse(row.attributes) as Record<string, unknown> }),
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
    created_by: row.createdBy,
    secret_group_id: version?.secretGroupId ?? row.secretGroupId,
    secret_id: row.secretId,
    secret_version_id: row.versionId,
    ...(version?.alias === undefined ? {} : { secret_version_alias: version.alias }),
  };
}

/** Lock names in one stable order (UTF-16 code units, as in every answer). */
export function sortedNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The SecretLocks answer: the versions in `shown` and every version that holds locks, newest first,
 * each with its lock names. `versions` is every version of the secret, newest first.
 */
export function toWireSecretLocks(
  versions: readonly ResolvedVersion[],
  locks: ReadonlyMap<string, readonly string[]>,
  shown: ReadonlySet<string> = new Set(),
): SecretsWire.SecretLocks {
  const head = versions[0];
  if (!head) throw new Error('A secret has at least one version');
  return {
    secret_id: head.secretId,
    secret_group_id: head.secretGroupId,
    secret_type: head.secretType,
    secret_name: head.secretName,
    versions: versions
      .filter((version) => shown.has(version.versionId) || (locks.get(version.versionId)?.length ?? 0) > 0)
      .map((version) => ({
        version_id: version.versionId,
        ...(version.alias === undefined ? {} : { version_alias: version.alias }),
        locks: sortedNames(locks.get(version.versionId) ?? []),
        payload_available: version.payloadAvailable,
      })),
  };
}

/**
 * A `secrets_locks` row for a secret the secrets store no longer knows (its locks outlived it, which
 * the secrets core prevents): what the lock rows alone tell.
 */
export function orphanSecretLocks(secretId: string, rows: readonly StoredLock[]): SecretsWire.SecretLocks {
  const byVersion = groupNames(rows);
  return {
    secret_id: secretId,
    secret_group_id: rows[0]?.secretGroupId ?? SecretsWire.DEFAULT_SECRET_GROUP_ID,
    versions: sortedNames(byVersion.keys()).map((versionId) => ({ version_id: versionId, locks: byVersion.get(versionId) ?? [] })),
  };
}

/** Lock names by version id, each list sorted. */
export function groupNames(rows: readonly Pick<StoredLock, 'versionId' | 'name'>[]): Map<string, string[]> {
  const byVersion = new Map<string, string[]>();
  for (const row of rows) {
    const names = byVersion.get(row.versionId);
    if (names) names.push(row.name);
    else byVersion.set(row.versionId, [row.name]);
  }
  for (const [versionId, names] of byVersion) byVersion.set(versionId, sortedNames(names));
  return byVersion;
}
