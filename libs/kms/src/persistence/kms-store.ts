import { DomainError, notFound } from '@sealbox/platform';
import { In, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { InstanceEntity, KeyAliasEntity, KeyEntity, KeyPolicyEntity, KeyVersionEntity, RegistrationEntity } from './entities.js';

/**
 * Tenant-scoped reads: every lookup names the account, and refuses to run without one (never an
 * unscoped query). A row of another account is "not found", exactly like a missing one.
 */
function requireAccount(accountId: string): void {
  if (!accountId) throw new Error('kms: a tenant-owned query needs the account id');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

export async function findInstance(manager: EntityManager, accountId: string, instanceId: string): Promise<InstanceEntity | null> {
  requireAccount(accountId);
  return manager.findOne(InstanceEntity, { where: { id: instanceId, accountId } });
}

export async function requireInstance(manager: EntityManager, accountId: string, instanceId: string): Promise<InstanceEntity> {
  const instance = await findInstance(manager, accountId, instanceId);
  if (!instance) throw notFound(`Instance ${instanceId}`);
  return instance;
}

/** A key of the instance by id or alias. */
export async function findKey(manager: EntityManager, instance: InstanceEntity, idOrAlias: string): Promise<KeyEntity | null> {
  requireAccount(instance.accountId);
  const scope: FindOptionsWhere<KeyEntity> = { accountId: instance.accountId, instanceId: instance.id };
  if (isUuid(idOrAlias)) return manager.findOne(KeyEntity, { where: { ...scope, id: idOrAlias.toLowerCase() } });
  const alias = await manager.findOne(KeyAliasEntity, { where: { accountId: instance.accountId, instanceId: instance.id, alias: idOrAlias } });
  return alias ? manager.findOne(KeyEntity, { where: { ...scope, id: alias.keyId } }) : null;
}

export async function requireKey(manager: EntityManager, instance: InstanceEntity, idOrAlias: string): Promise<KeyEntity> {
  const key = await findKey(manager, instance, idOrAlias);
  if (!key) throw notFound(`Key ${idOrAlias}`);
  return key;
}

export async function aliasesOf(manager: EntityManager, accountId: string, keyIds: readonly string[]): Promise<Map<string, string[]>> {
  requireAccount(accountId);
  const byKey = new Map<string, string[]>(keyIds.map((id) => [id, []]));
  if (!keyIds.length) return byKey;
  const rows = await manager.find(KeyAliasEntity, { where: { accountId, keyId: In([...keyIds]) }, order: { createdAt: 'ASC', alias: 'ASC' } });
  for (const row of rows) byKey.get(row.keyId)?.push(row.alias);
  return byKey;
}

export async function versionsOf(manager: EntityManager, key: KeyEntity): Promise<KeyVersionEntity[]> {
  requireAccount(key.accountId);
  return manager.find(KeyVersionEntity, { where: { accountId: key.accountId, keyId: key.id }, order: { createdAt: 'DESC', id: 'ASC' } });
}

/** The materials of every version of a key (for the provider to release what the HSM keeps of them). */
export async function versionMaterialsOf(manager: EntityManager, accountId: string, keyId: string): Promise<string[]> {
  requireAccount(accountId);
  const rows = await manager.find(KeyVersionEntity, { where: { accountId, keyId }, select: { id: true, material: true } });
  return rows.map((row) => row.material);
}

export async function requireVersion(manager: EntityManager, key: KeyEntity, versionId: string): Promise<KeyVersionEntity | null> {
  requireAccount(key.accountId);
  return manager.findOne(KeyVersionEntity, { where: { accountId: key.accountId, keyId: key.id, id: versionId } });
}

/**
 * Apply `changes` to a key if nobody changed it since it was read (optimistic concurrency); the
 * entity is updated in place. CONFLICT when it moved underneath.
 */
export async function updateKey(manager: EntityManager, key: KeyEntity, changes: Partial<KeyEntity>, now: number): Promise<void> {
  requireAccount(key.accountId);
  const next = { ...changes, updatedAt: now, rowVersion: key.rowVersion + 1 };
  const result = await manager.update(KeyEntity, { id: key.id, accountId: key.accountId, rowVersion: key.rowVersion }, next);
  if (result.affected !== 1) {
    throw new DomainError('CONFLICT', `Key ${key.id} was changed by another request at the same time; retry`);
  }
  Object.assign(key, next);
}

export async function updateInstance(manager: EntityManager, instance: InstanceEntity, changes: Partial<InstanceEntity>): Promise<void> {
  requireAccount(instance.accountId);
  const next = { ...changes, rowVersion: instance.rowVersion + 1 };
  const result = await manager.update(InstanceEntity, { id: instance.id, accountId: instance.accountId, rowVersion: instance.rowVersion }, next);
  if (result.affected !== 1) {
    throw new DomainError('CONFLICT', `Instance ${instance.id} was changed by another request at the same time; retry`);
  }
  Object.assign(instance, next);
}

/** A version row of `key` (the provider's material; a standard key also its sealed payload). */
export function versionRowOf(
  key: Pick<KeyEntity, 'id' | 'accountId' | 'instanceId'>,
  version: { id: string; material: string; fingerprint: string | null; sealedPayload?: string | null },
  now: number,
): KeyVersionEntity {
  return Object.assign(new KeyVersionEntity(), {
    id: version.id,
    keyId: key.id,
    accountId: key.accountId,
    instanceId: key.instanceId,
    createdAt: now,
    material: version.material,
    fingerprint: version.fingerprint,
    sealedPayload: version.sealedPayload ?? null,
  });
}

/**
 * Remove a key and everything of it (registrations, policies, aliases, versions) if nobody changed it
 * since it was read (CONFLICT otherwise: the caller's transaction rolls back). Returns the version
 * materials, for the caller to destroy through the provider once the removal is committed.
 */
export async function removeKeyRows(manager: EntityManager, key: KeyEntity): Promise<string[]> {
  requireAccount(key.accountId);
  const versions = await versionsOf(manager, key);
  const scope = { accountId: key.accountId, keyId: key.id };
  for (const entity of [RegistrationEntity, KeyPolicyEntity, KeyAliasEntity, KeyVersionEntity]) await manager.delete(entity, scope);
  const removed = await manager.delete(KeyEntity, { id: key.id, accountId: key.accountId, rowVersion: key.rowVersion });
  if (removed.affected !== 1) {
    throw new DomainError('CONFLICT', `Key ${key.id} was changed by another request at the same time; retry`);
  }
  return versions.map((version) => version.material);
}
