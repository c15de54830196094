/** Locks of secret versions: prototypes, modes, responses. */
import { z } from 'zod';
import { CustomMetadata, DateTime, Description, IbmSecretType, LOCK_NAME_PATTERN, MAX_LOCKS_PER_VERSION, VersionAlias } from './common.js';

export const LockName = z.string().regex(LOCK_NAME_PATTERN, 'must be a letter then 1 to 63 letters, digits, "-", "_" or "."');

export const SecretLockPrototype = z.strictObject({
  name: LockName,
  description: Description.optional(),
  attributes: CustomMetadata.optional(),
});
export type SecretLockPrototype = z.infer<typeof SecretLockPrototype>;

/** Body of createSecretLocksBulk / createSecretVersionLocksBulk. A lock of the same name on the version is replaced. */
export const SecretLocksPrototype = z.strictObject({
  locks: z
    .array(SecretLockPrototype)
    .min(1)
    .max(MAX_LOCKS_PER_VERSION)
    .superRefine((locks, ctx) => {
      const seen = new Set<string>();
      locks.forEach((lock, index) => {
        if (seen.has(lock.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate lock name "${lock.name}"` });
        seen.add(lock.name);
      });
    }),
});
export type SecretLocksPrototype = z.infer<typeof SecretLocksPrototype>;

/**
 * `remove_previous`: also remove locks of the same names from the previous version;
 * `remove_previous_and_delete`: that, and delete the previous version's data when it has no lock left.
 */
export const LockModes = ['remove_previous', 'remove_previous_and_delete'] as const;
export const LockMode = z.enum(LockModes);
export type LockMode = z.infer<typeof LockMode>;

export const SecretLock = z.object({
  name: z.string(),
  description: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  created_at: DateTime,
  updated_at: DateTime,
  created_by: z.string(),
  secret_group_id: z.string(),
  secret_id: z.string(),
  secret_version_id: z.string(),
  secret_version_alias: VersionAlias.optional(),
});
export type SecretLock = z.infer<typeof SecretLock>;

export const SecretVersionLocks = z.object({
  version_id: z.string(),
  version_alias: VersionAlias.optional(),
  locks: z.array(z.string()),
  payload_available: z.boolean().optional(),
});

/** The locks of a secret's versions: the answer to the bulk operations, and one row of `secrets_locks`. */
export const SecretLocks = z.object({
  secret_id: z.string(),
  secret_group_id: z.string(),
  secret_type: IbmSecretType.optional(),
  secret_name: z.string().optional(),
  versions: z.array(SecretVersionLocks),
});
export type SecretLocks = z.infer<typeof SecretLocks>;

