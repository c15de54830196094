/**
 * Pure rules of the instance registry and of secret groups: no database, no clock.
 */
import { SecretsWire } from '@sealbox/contracts';
import { DomainError, conflict, notFound, validationFailed, type RpcMeta } from '@sealbox/platform';
import type { InstanceEntity, SecretGroupEntity } from './entities.js';

export const DEFAULT_GROUP_ID = SecretsWire.DEFAULT_SECRET_GROUP_ID;
/** `created_by` of what the service creates itself (the default group at activation). */
export const SYSTEM_ACTOR = 'system';

export interface GroupCaller {
  readonly accountId: string;
  readonly iamId: string;
}

/** Group operations act for the authenticated caller the gateway forwards. */
export function callerOf(meta: RpcMeta): GroupCaller {
  if (!meta.caller) throw new DomainError('UNAUTHORIZED', 'This operation needs an authenticated caller');
  return { accountId: meta.caller.accountId, iamId: meta.caller.iamId };
}

/**
 * The instance a caller may use. `row` was looked up with the caller's account, so an instance of
 * another account is `null` here and answers exactly like a missing one (NOT_FOUND).
 */
export function usableInstance(row: InstanceEntity | null, instanceGuid: string): InstanceEntity {
  if (!row) throw notFound(`Instance ${instanceGuid}`);
  if (row.state !== 'active') throw new DomainError('INSTANCE_NOT_ACTIVE', `Instance ${instanceGuid} is not active`);
  return row;
}

/**
 * A second activation of the same GUID returns the recorded instance when it describes the same
 * instance (lifecycle retries); anything else is a different instance under a taken GUID: CONFLICT.
 * It does not re-enable a disabled instance: that is `secrets.instance.set-state`.
 */
export function sameActivation(existing: InstanceEntity, request: SecretsWire.ActivateInstanceRequest): boolean {
  return (
    existing.accountId === request.accountId &&
    existing.crn === request.crn &&
    existing.region === request.region &&
    existing.kmsInstanceId === request.kmsKey.instanceId &&
    existing.kmsKeyId === request.kmsKey.keyId &&
    (existing.kmsAccountId ?? existing.accountId) === (request.kmsKey.accountId ?? request.accountId)
  );
}

/**
 * The `default` group cannot be renamed, described or deleted. Our choice: 400 VALIDATION_FAILED
 * naming the `id` field (the request names a group that does not accept the operation), rather
 * than 403, which this API keeps for authorization decisions.
 */
export function assertChangeableGroup(id: string): void {
  if (id === DEFAULT_GROUP_ID) {
    throw validationFailed([{ field: 'id', message: 'the default secret group cannot be updated or deleted' }]);
  }
}

export const nameTaken = (name: string) => conflict(`A secret group named "${name}" already exists in this instance`);

/** A group with secrets cannot be deleted (409); the caller moves or deletes them first. */
export function assertEmptyGroup(id: string, secrets: number): void {
  if (secrets > 0) throw conflict(`Secret group ${id} holds ${secrets} secret(s): delete or move them first`);
}

/**
 * Merge patch (RFC 7396) over name and description: an absent member keeps the value, `null`
 * removes the description. `name` cannot be null (the schema refuses it).
 */
export function applyGroupPatch(
  current: Pick<SecretGroupEntity, 'name' | 'description'>,
  patch: SecretsWire.SecretGroupPatch,
): Pick<SecretGroupEntity, 'name' | 'description'> {
  return {
    name: patch.name ?? current.name,
    description: patch.description === undefined ? current.description : patch.description,
  };
}

/** `default` is the name the default group has; another group cannot take it. */
export function assertNotDefaultName(name: string): void {
  if (name === DEFAULT_GROUP_ID) throw nameTaken(name);
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toWireGroup(row: SecretGroupEntity): SecretsWire.SecretGroup {
  return {
    id: row.id,
    name: row.name,
    ...(row.description !== null ? { description: row.description } : {}),
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    updated_at: iso(row.updatedAt),
  };
}

export function toWireInstance(row: InstanceEntity): SecretsWire.SecretsInstance {
  return {
    accountId: row.accountId,
    instanceGuid: row.instanceGuid,
    crn: row.crn,
    region: row.region,
    kmsKey: { instanceId: row.kmsInstanceId, keyId: row.kmsKeyId, ...(row.kmsAccountId !== null ? { accountId: row.kmsAccountId } : {}) },
    state: row.state,
    ...(row.planId !== null ? { planId: row.planId } : {}),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
