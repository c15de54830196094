/** Service requests over NATS (gateway → secrets, lifecycle → secrets): the HTTP bodies wrapped with the instance and path ids. */
import { z } from 'zod';
import { DateTime, IbmSecretType, MAX_LOCKS_PER_VERSION, SECRET_GROUP_NAME_MAX_LENGTH, SecretGroupId, SecretId, SecretName, SecretVersionId, SecretVersionMetadataPatch, Uuid } from './common.js';
import { SecretGroupPatch, SecretGroupPrototype } from './groups.js';
import { ListLocksQuery, ListSecretsLocksQuery, ListSecretsQuery } from './lists.js';
import { LockMode, LockName, SecretLocksPrototype } from './locks.js';
import { SecretPrototype } from './types/index.js';

/** A secrets instance is `active` or `disabled`; a disabled one answers INSTANCE_NOT_ACTIVE. */
export const InstanceStates = ['active', 'disabled'] as const;
export const InstanceState = z.enum(InstanceStates);
export type InstanceState = z.infer<typeof InstanceState>;

const AccountId = z.string().min(1).max(64);

/** `secrets.instance.activate` (lifecycle, when provisioning): idempotent for the same account. */
export const ActivateInstanceRequest = z.strictObject({
  accountId: AccountId,
  instanceGuid: Uuid,
  crn: z.string().min(1).max(512),
  region: z.string().min(1).max(64),
  /** `accountId`: the key's account when it is not the instance's (provider-managed encryption). */
  kmsKey: z.strictObject({ instanceId: z.string().min(1).max(64), keyId: z.string().min(1).max(64), accountId: AccountId.optional() }),
  /** The instance's plan, which sets its quotas (absent: the default plan's). */
  planId: z.string().min(1).max(128).optional(),
});
export type ActivateInstanceRequest = z.infer<typeof ActivateInstanceRequest>;

export const InstanceRef = z.strictObject({ instanceGuid: Uuid });
export type InstanceRef = z.infer<typeof InstanceRef>;

export const SetInstanceStateRequest = z.strictObject({ instanceGuid: Uuid, state: InstanceState });
export type SetInstanceStateRequest = z.infer<typeof SetInstanceStateRequest>;

/** `secrets.instance.set-plan` (lifecycle, on a plan change): the quotas follow the new plan. Idempotent. */
export const SetInstancePlanRequest = z.strictObject({ instanceGuid: Uuid, planId: z.string().min(1).max(128) });
export type SetInstancePlanRequest = z.infer<typeof SetInstancePlanRequest>;

/** An instance as the registry records it (service-to-service; never user-facing). */
export const SecretsInstance = z.object({
  accountId: z.string(),
  instanceGuid: z.string(),
  crn: z.string(),
  region: z.string(),
  kmsKey: z.object({ instanceId: z.string(), keyId: z.string(), accountId: z.string().optional() }),
  state: InstanceState,
  planId: z.string().optional(),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type SecretsInstance = z.infer<typeof SecretsInstance>;

/** `secrets.group.create`: the prototype's fields plus the instance. */
export const CreateSecretGroupRequest = SecretGroupPrototype.extend({ instanceGuid: Uuid });
export type CreateSecretGroupRequest = z.infer<typeof CreateSecretGroupRequest>;

export const ListSecretGroupsRequest = z.strictObject({ instanceGuid: Uuid });
export type ListSecretGroupsRequest = z.infer<typeof ListSecretGroupsRequest>;

export const SecretGroupRef = z.strictObject({ instanceGuid: Uuid, id: SecretGroupId });
export type SecretGroupRef = z.infer<typeof SecretGroupRef>;

/** `secrets.group.update`: the merge patch's fields plus the group (absent: unchanged; `description: null`: removed). */
export const UpdateSecretGroupRequest = SecretGroupPatch.extend({ instanceGuid: Uuid, id: SecretGroupId });
export type UpdateSecretGroupRequest = z.infer<typeof UpdateSecretGroupRequest>;

export const Empty = z.object({}).strict();
export type Empty = z.infer<typeof Empty>;

// ---------- service requests (NATS): secrets, versions, locks ----------
//
// The gateway checks an HTTP body against the public schema (SecretPrototype, the type's patch, …)
// so that a bad field is named as the client wrote it, then wraps it in one of these requests. A
// body whose schema depends on the stored secret's type (metadata patch, version prototype) travels
// as a JSON object and is checked by the service against SecretMetadataPatches / SecretVersionPrototypes.

const JsonObject = z.record(z.string(), z.unknown());

export const CreateSecretRequest = z.strictObject({ instanceGuid: Uuid, secret: SecretPrototype });
export type CreateSecretRequest = z.infer<typeof CreateSecretRequest>;

export const SecretRef = z.strictObject({ instanceGuid: Uuid, id: SecretId });
export type SecretRef = z.infer<typeof SecretRef>;

/** getSecretByNameType: `/secret_groups/{secret_group_name}/secret_types/{secret_type}/secrets/{name}`. */
export const SecretByNameRequest = z.strictObject({
  instanceGuid: Uuid,
  groupName: z.string().min(1).max(SECRET_GROUP_NAME_MAX_LENGTH),
  secretType: IbmSecretType,
  name: SecretName,
});
export type SecretByNameRequest = z.infer<typeof SecretByNameRequest>;

/** updateSecretMetadata: `patch` is checked against SecretMetadataPatches[type of the stored secret]. */
export const UpdateSecretMetadataRequest = z.strictObject({ instanceGuid: Uuid, id: SecretId, patch: JsonObject });
export type UpdateSecretMetadataRequest = z.infer<typeof UpdateSecretMetadataRequest>;

/** listSecrets. `path` is the list's URL path as the client called it: the page links repeat it. */
export const ListSecretsRequest = z.strictObject({ instanceGuid: Uuid, path: z.string().min(1).max(512), query: ListSecretsQuery });
export type ListSecretsRequest = z.infer<typeof ListSecretsRequest>;

/** createSecretVersion: `version` is checked against SecretVersionPrototypes[type of the stored secret]. */
export const CreateSecretVersionRequest = z.strictObject({ instanceGuid: Uuid, secretId: SecretId, version: JsonObject });
export type CreateSecretVersionRequest = z.infer<typeof CreateSecretVersionRequest>;

export const SecretVersionsRef = z.strictObject({ instanceGuid: Uuid, secretId: SecretId });
export type SecretVersionsRef = z.infer<typeof SecretVersionsRef>;

/** One version: by id, or `current` / `previous`. */
export const SecretVersionRef = z.strictObject({ instanceGuid: Uuid, secretId: SecretId, id: SecretVersionId });
export type SecretVersionRef = z.infer<typeof SecretVersionRef>;

export const UpdateSecretVersionMetadataRequest = SecretVersionRef.extend({ patch: SecretVersionMetadataPatch });
export type UpdateSecretVersionMetadataRequest = z.infer<typeof UpdateSecretVersionMetadataRequest>;

/** createSecretLocksBulk (no versionId: the current version) / createSecretVersionLocksBulk. */
export const CreateLocksRequest = z.strictObject({
  instanceGuid: Uuid,
  secretId: SecretId,
  versionId: SecretVersionId.optional(),
  locks: SecretLocksPrototype.shape.locks,
  mode: LockMode.optional(),
});
export type CreateLocksRequest = z.infer<typeof CreateLocksRequest>;

/** deleteSecretLocksBulk / deleteSecretVersionLocksBulk: the named locks, or all of them when `names` is absent. */
export const DeleteLocksRequest = z.strictObject({
  instanceGuid: Uuid,
  secretId: SecretId,
  versionId: SecretVersionId.optional(),
  names: z.array(LockName).min(1).max(MAX_LOCKS_PER_VERSION).optional(),
});
export type DeleteLocksRequest = z.infer<typeof DeleteLocksRequest>;

/** listSecretLocks (no versionId: every version of the secret) / listSecretVersionLocks. */
export const ListLocksRequest = z.strictObject({
  instanceGuid: Uuid,
  secretId: SecretId,
  versionId: SecretVersionId.optional(),
  path: z.string().min(1).max(512),
  query: ListLocksQuery,
});
export type ListLocksRequest = z.infer<typeof ListLocksRequest>;

/** listSecretsLocks: every secret of the instance that has locks. */
export const ListSecretsLocksRequest = z.strictObject({ instanceGuid: Uuid, path: z.string().min(1).max(512), query: ListSecretsLocksQuery });
export type ListSecretsLocksRequest = z.infer<typeof ListSecretsLocksRequest>;

/** `secrets.instance.purge` (lifecycle, permanent delete): every row of the instance is removed. Idempotent. */
export const PurgeInstanceResponse = z.object({ secrets: z.number().int().min(0), versions: z.number().int().min(0) });
export type PurgeInstanceResponse = z.infer<typeof PurgeInstanceResponse>;

