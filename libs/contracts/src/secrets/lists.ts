/** Lists: paginated collections and the query strings of the list and bulk operations. */
import { z } from 'zod';
import { IbmSecretType, IbmSecretTypes, Label, MAX_GROUPS_FILTER, MAX_LABELS, MAX_LOCKS_PER_VERSION, LIST_LOCKS_DEFAULT_LIMIT, LIST_LOCKS_MAX_LIMIT, LIST_SECRETS_DEFAULT_LIMIT, LIST_SECRETS_MAX_LIMIT, paginated, SecretGroupId } from './common.js';
import { queryBoolean, queryLimit, queryList, queryOffset, querySearch } from './query.js';
import { LockMode, LockName, SecretLock, SecretLocks } from './locks.js';
import { SecretMetadata } from './types/index.js';

export const SecretMetadataPaginatedCollection = z.object({ ...paginated, secrets: z.array(SecretMetadata) });
export type SecretMetadataPaginatedCollection = z.infer<typeof SecretMetadataPaginatedCollection>;
export const SecretLocksPaginatedCollection = z.object({ ...paginated, locks: z.array(SecretLock) });
export type SecretLocksPaginatedCollection = z.infer<typeof SecretLocksPaginatedCollection>;
export const SecretsLocksPaginatedCollection = z.object({ ...paginated, secrets_locks: z.array(SecretLocks) });
export type SecretsLocksPaginatedCollection = z.infer<typeof SecretsLocksPaginatedCollection>;

// ---------- query strings ----------


export const SecretSortFields = ['id', 'name', 'created_at', 'updated_at', 'retrieved_at', 'expiration_date', 'secret_type'] as const;
export type SecretSortField = (typeof SecretSortFields)[number];
/** `sort` of listSecrets: a field, ascending, or `-field`, descending. */
export const SecretSort = z.enum([
  'id',
  '-id',
  'name',
  '-name',
  'created_at',
  '-created_at',
  'updated_at',
  '-updated_at',
  'retrieved_at',
  '-retrieved_at',
  'expiration_date',
  '-expiration_date',
  'secret_type',
  '-secret_type',
]);
export type SecretSort = z.infer<typeof SecretSort>;

export const LockSort = z.enum(['name', '-name', 'created_at', '-created_at', 'updated_at', '-updated_at']);
export type LockSort = z.infer<typeof LockSort>;

/** Query of listSecrets. */
export const ListSecretsQuery = z.object({
  offset: queryOffset,
  limit: queryLimit(LIST_SECRETS_MAX_LIMIT, LIST_SECRETS_DEFAULT_LIMIT),
  sort: SecretSort.optional(),
  /** Substring of id, name, description, labels or secret_type. */
  search: querySearch.optional(),
  groups: queryList(SecretGroupId, MAX_GROUPS_FILTER).optional(),
  secret_types: queryList(IbmSecretType, IbmSecretTypes.length).optional(),
  /** Secrets carrying every one of these labels. */
  match_all_labels: queryList(Label, MAX_LABELS).optional(),
});
export type ListSecretsQuery = z.infer<typeof ListSecretsQuery>;

/** Query of listSecretLocks and listSecretVersionLocks. */
export const ListLocksQuery = z.object({
  offset: queryOffset,
  limit: queryLimit(LIST_LOCKS_MAX_LIMIT, LIST_LOCKS_DEFAULT_LIMIT),
  sort: LockSort.optional(),
  /** Substring of the lock name. */
  search: querySearch.optional(),
});
export type ListLocksQuery = z.infer<typeof ListLocksQuery>;

/** Query of listSecretsLocks (every secret with locks in the instance). */
export const ListSecretsLocksQuery = z.object({
  offset: queryOffset,
  limit: queryLimit(LIST_SECRETS_MAX_LIMIT, LIST_SECRETS_DEFAULT_LIMIT),
  search: querySearch.optional(),
  groups: queryList(SecretGroupId, MAX_GROUPS_FILTER).optional(),
});
export type ListSecretsLocksQuery = z.infer<typeof ListSecretsLocksQuery>;

export const CreateLocksQuery = z.object({ mode: LockMode.optional() });
export type CreateLocksQuery = z.infer<typeof CreateLocksQuery>;

/** Query of the bulk lock deletes: the names to delete; all locks of the version when omitted. */
export const DeleteLocksQuery = z.object({ name: queryList(LockName, MAX_LOCKS_PER_VERSION).optional() });
export type DeleteLocksQuery = z.infer<typeof DeleteLocksQuery>;

/** Query of deleteSecret. `force_delete` only applies to IBM's custom_credentials. */
export const DeleteSecretQuery = z.object({ force_delete: queryBoolean.optional() });

