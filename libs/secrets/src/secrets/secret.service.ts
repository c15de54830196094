import { Inject, Injectable } from '@nestjs/common';
import { SecretsWire } from '@sealbox/contracts';
import { Clock, dataSourceToken, IdempotencyRecords, isDomainError, outboxToken, type IdempotencyKey, type OnceOutcome, type Outbox } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { pageLinks, planSecretList, secretListLinkQuery } from '../domain/listing.js';
import { LockDirectory } from '../ports.js';
import type { InstanceEntity } from '../registry/entities.js';
import { usableInstance, type GroupCaller } from '../registry/rules.js';
import type { TenantScope } from '../registry/store.js';
import { SecretAccess } from './access.js';
import { ExpiryNotice, type SecretEntity, type SecretVersionEntity } from './entities.js';
import { VersionMaterial } from './material.js';
import { SecretQueries } from './queries.js';
import { ReadBookkeeping } from './read-bookkeeping.js';
import { uuidV7 } from './ids.js';
import { metadataChanges } from './metadata-patch.js';
import type { VersionPayload } from './payload.js';
import { fieldError, lockedConflict, parseOrFail, secretNameTaken } from './validation.js';
import { toWireMetadata, toWireSecret } from './wire.js';
import { SecretStore } from './store.js';
import { VersionVault } from './vault.js';
import { assertPayloadQuota, assertSecretQuota, quotaOf } from '../quotas/quotas.js';
import { SECRETS_OPTIONS, type SecretsDomainOptions } from './options.js';

const noSuchGroup = (groupId: string) => fieldError('secret_group_id', `secret group ${groupId} does not exist in this instance`);

/** The event data naming a secret (ids, type and group only: never a name, a label or a payload). */
export function secretEventRef(secret: Pick<SecretEntity, 'accountId' | 'instanceGuid' | 'id' | 'secretType' | 'groupId'>) {
  return { accountId: secret.accountId, instanceId: secret.instanceGuid, secretId: secret.id, secretType: secret.secretType, groupId: secret.groupId };
}

/** What a secret create or a new version keeps with its Idempotency-Key: where its answer is read again. */
export interface KeptVersionRef {
  readonly secretId: string;
  readonly versionId: string;
}

export function keptVersionRef(kept: unknown): KeptVersionRef {
  const ref = kept as Partial<KeptVersionRef> | null;
  if (typeof ref?.secretId !== 'string' || typeof ref.versionId !== 'string') throw new Error('an idempotency record of the secrets service holds no version reference');
  return { secretId: ref.secretId, versionId: ref.versionId };
}

/**
 * Secrets: create (seal → store the envelope → commit metadata and event in one transaction), read
 * with the payload, by name, metadata, merge-patch updates, delete, list. Reads write nothing: their
 * bookkeeping goes to ReadBookkeeping, whose unwritten marks every answer here overlays.
 */
@Injectable()
export class SecretService {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly access: SecretAccess,
    private readonly vault: VersionVault,
    private readonly material: VersionMaterial,
    private readonly locks: LockDirectory,
    private readonly queries: SecretQueries,
    private readonly reads: ReadBookkeeping,
    private readonly records: IdempotencyRecords,
    @Inject(SECRETS_OPTIONS) private readonly options: SecretsDomainOptions,
  ) {
    this.secretsCountCap = Math.max(...Object.values(options.quotas).map((quota) => quota.secretsPerInstance));
  }

  /** How far `placement` counts an instance's secrets: the largest quota of any plan. */
  private readonly secretsCountCap: number;

  /**
   * With an Idempotency-Key (`once`), a create is done at most once per key: the key is recorded in
   * the transaction that inserts the secret, and a retry finding it is answered the secret that
   * attempt created (its current metadata and the payload of the version it made), whether the
   * first attempt's answer arrived or not.
   */
  async create(caller: GroupCaller, request: SecretsWire.CreateSecretRequest, once?: IdempotencyKey): Promise<SecretsWire.Secret> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    if (!once) return this.createNew(caller, scope, request);
    const done = await this.records.find(this.dataSource.manager, once);
    if (done) return this.replayCreated(scope, once, done.kept);
    try {
      return await this.createNew(caller, scope, request, once);
    } catch (error) {
      // An attempt with the same key that committed meanwhile (its name is now taken): answer what it created.
      const committed = isDomainError(error) ? await this.records.find(this.dataSource.manager, once) : undefined;
      if (committed) return this.replayCreated(scope, once, committed.kept);
      throw error;
    }
  }

  /** The answer to a retried create: the secret the first attempt created, with the payload of the version it made. */
  private async replayCreated(scope: TenantScope, once: IdempotencyKey, kept: unknown): Promise<SecretsWire.Secret> {
    const { secretId, versionId } = keptVersionRef(kept);
    once.onReplay?.();
    const { instance, secret } = await this.access.instanceAndSecret(scope, secretId);
    const version = await new SecretStore(this.dataSource.manager).version(scope, secretId, versionId);
    const payload = version?.payloadAvailable ? await this.vault.open(instance, secret.secretType, secretId, versionId) : undefined;
    return toWireSecret(this.reads.secret(secret), instance.crn, await this.locksTotal(scope, secretId), version ? this.reads.version(version) : undefined, payload);
  }

  private async createNew(caller: GroupCaller, scope: TenantScope, request: SecretsWire.CreateSecretRequest, once?: IdempotencyKey): Promise<SecretsWire.Secret> {
    const prototype = request.secret;
    // Checked before anything is sealed, in one round trip (instance and group again by the insert).
    const instance = await this.placed(scope, prototype);
    const now = this.clock.nowMs();
    const made = await this.material.first(instance, prototype, now);
    try {
      assertPayloadQuota(quotaOf(this.options.quotas, instance.planId), instance.planId, prototype.secret_type, made.payload);
    } catch (error) {
      await this.material.discard(made);
      throw error;
    }
    const secretId = randomUUID();
    const versionId = uuidV7(now);
    const secret: SecretEntity = {
      ...scope,
      id: secretId,
      groupId: prototype.secret_group_id,
      name: prototype.name,
      secretType: prototype.secret_type,
      description: prototype.description ?? null,
      labels: prototype.labels,
      customMetadata: prototype.custom_metadata && Object.keys(prototype.custom_metadata).length > 0 ? prototype.custom_metadata : null,
      state: SecretsWire.SecretStates.active,
      createdAt: now,
      createdBy: caller.iamId,
      updatedAt: now,
      expirationAt: made.secretExpirationAt ?? null,
      details: made.secretDetails,
      versionsTotal: 1,
      currentOrdinal: 1,
      downloaded: false,
      retrievedAt: null,
      nextRotationAt: made.nextRotationAt,
      expiryNotice: ExpiryNotice.none,
    };
    const version: SecretVersionEntity = {
      ...scope,
      id: versionId,
      secretId,
      ordinal: 1,
      createdAt: now,
      createdBy: caller.iamId,
      payloadAvailable: true,
      versionCustomMetadata: prototype.version_custom_metadata && Object.keys(prototype.version_custom_metadata).length > 0 ? prototype.version_custom_metadata : null,
      downloaded: false,
      autoRotated: false,
      expirationAt: made.versionExpirationAt,
      details: made.versionDetails,
    };
    try {
      await this.vault.store(instance, secretId, versionId, made.payload);
    } catch (error) {
      await this.material.discard(made);
      throw error;
    }
    const write = async (manager: EntityManager) => {
      // Inserted only while the instance is active and the group exists; a name taken since the
      // check above fails the insert on the unique index (secrets_by_name): 409 below.
      if (!(await this.queries.insertCreated(manager, secret, version))) {
        await this.access.instance(scope, manager);
        throw noSuchGroup(prototype.secret_group_id);
      }
      await this.outbox.record(manager, 'secrets.secret.created', secretEventRef(secret));
    };
    let outcome: OnceOutcome<void>;
    try {
      outcome = await this.dataSource.transaction(async (manager): Promise<OnceOutcome<void>> => {
        if (!once) return { replayed: false, result: await write(manager) };
        return this.records.inTransactionOnce(manager, once, () => write(manager), () => ({ secretId, versionId }));
      });
    } catch (error) {
      // The envelope is stored but no metadata names it: remove it now (the orphan sweep would later).
      await this.vault.remove(scope.instanceGuid, secretId, versionId);
      await this.material.discard(made);
      if (!isDomainError(error) && (await new SecretStore(this.dataSource.manager).secretByName(scope, secret.groupId, secret.secretType, secret.name))) {
        throw secretNameTaken(secret.name, secret.secretType, secret.groupId);
      }
      throw error;
    }
    if (outcome.replayed && once) {
      // Another attempt with this key committed first (it ran alongside this one): its secret is the answer.
      await this.vault.remove(scope.instanceGuid, secretId, versionId);
      await this.material.discard(made);
      return this.replayCreated(scope, once, outcome.kept);
    }
    return toWireSecret(secret, instance.crn, 0, version, made.payload);
  }

  /**
   * The active instance, if the group exists, the name is free in it for the type and the plan's
   * secrets quota has room (committed rows, one round trip). Creates in flight at the same time are
   * not counted: concurrent creates can pass the quota by at most their number.
   */
  private async placed(scope: TenantScope, prototype: SecretsWire.SecretPrototype): Promise<InstanceEntity> {
    const placement = await this.queries.placement(scope, prototype.secret_group_id, prototype.secret_type, prototype.name, this.secretsCountCap);
    const instance = usableInstance(placement.instance ?? null, scope.instanceGuid);
    if (!placement.groupExists) throw noSuchGroup(prototype.secret_group_id);
    if (placement.nameTaken) throw secretNameTaken(prototype.name, prototype.secret_type, prototype.secret_group_id);
    assertSecretQuota(quotaOf(this.options.quotas, instance.planId), instance.planId, placement.secretsTotal);
    return instance;
  }

  /** The secret with its current version's payload: one round trip for the metadata, then the envelope. */
  async get(caller: GroupCaller, request: SecretsWire.SecretRef): Promise<SecretsWire.Secret> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { instance, secret, current, locks } = await this.access.view(scope, request.id);
    return this.withPayload(scope, instance, secret, current, locks);
  }

  async getByName(caller: GroupCaller, request: SecretsWire.SecretByNameRequest): Promise<SecretsWire.Secret> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { instance, secret, current, locks } = await this.access.viewByName(scope, request.groupName, request.secretType, request.name);
    return this.withPayload(scope, instance, secret, current, locks);
  }

  /** The secret with its current version's payload; the read is recorded in memory (downloaded, retrieved_at), not written here. */
  private async withPayload(
    scope: TenantScope,
    instance: InstanceEntity,
    secret: SecretEntity,
    current: SecretVersionEntity | undefined,
    locks: number,
  ): Promise<SecretsWire.Secret> {
    let payload: VersionPayload | undefined;
    if (current?.payloadAvailable) {
      payload = await this.vault.open(instance, secret.secretType, secret.id, current.id);
      await this.reads.record(scope, secret, current, this.clock.nowMs());
    }
    return toWireSecret(this.reads.secret(secret), instance.crn, locks, current && this.reads.version(current), payload);
  }

  async getMetadata(caller: GroupCaller, request: SecretsWire.SecretRef): Promise<SecretsWire.SecretMetadata> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { instance, secret, locks } = await this.access.view(scope, request.id);
    return toWireMetadata(this.reads.secret(secret), instance.crn, locks);
  }

  async updateMetadata(caller: GroupCaller, request: SecretsWire.UpdateSecretMetadataRequest): Promise<SecretsWire.SecretMetadata> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { secret: before } = await this.access.instanceAndSecret(scope, request.id);
    const patch = parseOrFail(SecretsWire.SecretMetadataPatches[before.secretType as SecretsWire.SecretType], request.patch) as Record<string, unknown>;
    const work = (manager: EntityManager) =>
      (async () => {
        const { instance, secret } = await this.access.instanceAndSecret(scope, request.id, manager);
        const store = new SecretStore(manager);
        const changes = metadataChanges(secret, patch, this.clock.nowMs());
        if (changes.name !== secret.name && (await store.secretByName(scope, secret.groupId, secret.secretType, changes.name))) {
          throw secretNameTaken(changes.name, secret.secretType, secret.groupId);
        }
        await store.updateSecret(scope, secret.id, changes);
        await this.outbox.record(manager, 'secrets.secret.updated', secretEventRef(secret));
        const updated: SecretEntity = { ...secret, ...changes };
        return toWireMetadata(this.reads.secret(updated), instance.crn, await this.locksTotal(scope, secret.id, manager));
      })();
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      const name = patch['name'] as string | undefined;
      if (!isDomainError(error) && name !== undefined && (await new SecretStore(this.dataSource.manager).secretByName(scope, before.groupId, before.secretType, name))) {
        throw secretNameTaken(name, before.secretType, before.groupId);
      }
      throw error;
    }
  }

  /** Delete a secret with every version: refused (409 naming them) while any version is locked; objects go after the commit. */
  async delete(caller: GroupCaller, request: SecretsWire.SecretRef): Promise<SecretsWire.Empty> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { secret, versions } = await this.dataSource.transaction(async (manager) => {
      const { secret } = await this.access.instanceAndSecret(scope, request.id, manager);
      const locked = await this.locks.locksOn(manager, scope, secret.id);
      if (locked.size > 0) throw lockedConflict(`Secret ${secret.id}`, locked);
      const store = new SecretStore(manager);
      const versions = await store.versions(scope, secret.id);
      await this.locks.removeAll(manager, scope, secret.id);
      await store.removeSecret(scope, secret.id);
      await this.outbox.record(manager, 'secrets.secret.deleted', secretEventRef(secret));
      return { secret, versions };
    });
    for (const version of versions) {
      if (version.payloadAvailable) await this.vault.remove(scope.instanceGuid, secret.id, version.id);
    }
    await this.material.deleted(secret, versions);
    return {};
  }

  async list(caller: GroupCaller, request: SecretsWire.ListSecretsRequest): Promise<SecretsWire.SecretMetadataPaginatedCollection> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const manager = this.dataSource.manager;
    const instance = await this.access.instance(scope, manager);
    const plan = planSecretList(request.query);
    const { rows, totalCount } = await new SecretStore(manager).list(scope, plan);
    const locks = rows.length > 0 ? await this.locks.countBySecret(manager, scope, rows.map((row) => row.id)) : new Map<string, number>();
    return {
      ...pageLinks({ path: request.path, query: secretListLinkQuery(request.query), offset: plan.offset, limit: plan.limit, totalCount }),
      secrets: rows.map((row) => toWireMetadata(this.reads.secret(row), instance.crn, locks.get(row.id) ?? 0)),
    };
  }

  private async locksTotal(scope: TenantScope, secretId: string, manager: EntityManager = this.dataSource.manager): Promise<number> {
    return (await this.locks.countBySecret(manager, scope, [secretId])).get(secretId) ?? 0;
  }
}
