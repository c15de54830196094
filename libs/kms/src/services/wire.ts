import { KmsWire } from '@sealbox/contracts';
import { deletionAuthorized, deletionInfo, DUAL_AUTH_WINDOW_MS, effectiveState, NONACTIVE_EXPIRED } from '../domain/key-lifecycle.js';
import type { InstanceEntity, KeyEntity, KeyPolicyEntity, RegistrationEntity } from '../persistence/entities.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function keyCrn(prefix: string, instance: Pick<InstanceEntity, 'serviceName' | 'region' | 'accountId' | 'id'>, keyId: string): string {
  return `${prefix}:${instance.serviceName}:${instance.region}:a/${instance.accountId}:${instance.id}:key:${keyId}`;
}

/**
 * A key as Key Protect shows it; its expiry is applied as of `now`. `payload` (a standard key's
 * material, base64) only where Key Protect returns it: getKey, and create with `return=representation`.
 */
export function keyJson(
  crnPrefix: string,
  instance: InstanceEntity,
  key: KeyEntity,
  aliases: readonly string[],
  now: number,
  payload?: string,
): KmsWire.Key {
  const state = effectiveState(key, now);
  const nonactiveReason = state === KmsWire.KEY_STATE_DEACTIVATED && key.state === KmsWire.KEY_STATE_ACTIVE ? NONACTIVE_EXPIRED : key.nonactiveReason;
  const authorized = deletionAuthorized(key, now);
  return {
    type: KmsWire.KEY_COLLECTION_TYPE,
    id: key.id,
    name: key.name,
    aliases: [...aliases],
    ...(key.description !== null ? { description: key.description } : {}),
    state,
    crn: keyCrn(crnPrefix, instance, key.id),
    extractable: key.extractable,
    imported: key.imported,
    algorithmType: 'AES',
    keyRingID: 'default',
    creationDate: iso(key.createdAt),
    createdBy: key.createdBy,
    lastUpdateDate: iso(key.updatedAt),
    ...(key.rotatedAt !== null ? { lastRotateDate: iso(key.rotatedAt) } : {}),
    keyVersion: { id: key.currentVersionId, creationDate: iso(key.currentVersionAt) },
    ...(key.expiresAt !== null ? { expirationDate: iso(key.expiresAt) } : {}),
    ...(nonactiveReason !== null && state !== KmsWire.KEY_STATE_ACTIVE ? { nonactiveStateReason: nonactiveReason } : {}),
    dualAuthDelete: {
      enabled: key.dualAuthDelete,
      ...(key.dualAuthDelete ? { keySetForDeletion: authorized } : {}),
      ...(authorized && key.setForDeletionAt !== null ? { authExpiration: iso(key.setForDeletionAt + DUAL_AUTH_WINDOW_MS) } : {}),
    },
    ...(key.rotationIntervalMonth !== null ? { rotation: { enabled: key.rotationEnabled, interval_month: key.rotationIntervalMonth } } : {}),
    deleted: key.state === KmsWire.KEY_STATE_DESTROYED,
    ...(key.deletedAt !== null ? { deletionDate: iso(key.deletedAt) } : {}),
    ...(key.deletedBy !== null ? { deletedBy: key.deletedBy } : {}),
    ...deletionInfo(key, now),
    ...(payload !== undefined ? { payload } : {}),
  };
}

export function keyCollection(keys: readonly KmsWire.Key[]): KmsWire.KeyCollection {
  return { metadata: { collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: keys.length }, resources: [...keys] };
}

export function policyJson(crnPrefix: string, instance: InstanceEntity, key: KeyEntity, policy: KeyPolicyEntity) {
  return {
    type: KmsWire.POLICY_COLLECTION_TYPE,
    id: policy.id,
    crn: keyCrn(crnPrefix, instance, key.id),
    creationDate: iso(policy.createdAt),
    createdBy: policy.createdBy,
    lastUpdateDate: iso(policy.updatedAt),
    updatedBy: policy.updatedBy,
    ...(policy.policyType === 'rotation'
      ? { rotation: { enabled: key.rotationEnabled, interval_month: key.rotationIntervalMonth ?? 1 } }
      : { dualAuthDelete: { enabled: key.dualAuthDelete } }),
  } satisfies KmsWire.KeyPolicy;
}

export function registrationJson(registration: RegistrationEntity, key: KeyEntity, versionCreatedAt: number) {
  return {
    keyId: registration.keyId,
    keyName: key.name,
    resourceCrn: registration.resourceCrn,
    createdBy: registration.createdBy,
    creationDate: iso(registration.createdAt),
    lastUpdated: iso(registration.updatedAt),
    ...(registration.description !== null ? { description: registration.description } : {}),
    preventKeyDeletion: registration.preventKeyDeletion,
    keyVersion: { id: registration.keyVersionId, creationDate: iso(versionCreatedAt) },
  } satisfies KmsWire.KeyRegistration;
}

export const isoDate = iso;
