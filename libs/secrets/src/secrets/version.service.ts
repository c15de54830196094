import { Inject, Injectable } from '@nestjs/common';
import { SecretsWire } from '@sealbox/contracts';
import { Clock, conflict, dataSourceToken, IdempotencyRecords, isDomainError, notFound, outboxToken, type IdempotencyKey, type OnceOutcome, type Outbox } from '@sealbox/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { LockDirectory } from '../ports.js';
import type { InstanceEntity } from '../registry/entities.js';
import type { GroupCaller } from '../registry/rules.js';
import type { TenantScope } from '../registry/store.js';
import { SecretAccess } from './access.js';
import { ExpiryNotice, type SecretEntity, type SecretVersionEntity } from './entities.js';
import { VersionMaterial } from './material.js';
import { ReadBookkeeping } from './read-bookkeeping.js';
import { ordinalOfAlias } from './aliases.js';
import { uuidV7 } from './ids.js';
import { patchedCustomMetadata } from './merge-patch.js';
import type { VersionPayload } from './payload.js';
import { nextRotationAt, rotationOf } from './rotation.js';
import { lockedConflict, parseOrFail } from './validation.js';
import { toWireVersion, toWireVersionMetadata } from './wire.js';
import { keptVersionRef, secretEventRef } from './secret.service.js';
import { SecretStore } from './store.js';
import { VersionVault } from './vault.js';
import { assertPayloadQuota, quotaOf } from '../quotas/quotas.js';
import { SECRETS_OPTIONS, type SecretsDomainOptions } from './options.js';

/** `created_by` of versions the rotation scheduler creates. */
export const ROTATION_ACTOR = 'system';

/** What one rotation made. */
export interface Rotated {
  readonly secret: SecretEntity;
  readonly version: SecretVersionEntity;
  readonly payload: VersionPayload;
}

/** The version a reference names (a version id, `current` or `previous`) or NOT_FOUND. */
export async function resolveVersion(store: SecretStore, scope: TenantScope, secret: SecretEntity, ref: string): Promise<SecretVersionEntity> {
  const ordinal = ordinalOfAlias(secret, ref);
  const version = ordinal === undefined ? await store.version(scope, secret.id, ref) : ordinal >= 1 ? await store.versionByOrdinal(scope, secret.id, ordinal) : null;
  if (!version) throw notFound(`Version ${ref} of secret ${secret.id}`);
  return version;
}

/**
 * Versions of a secret: a new version (rotation, by a client or by the scheduler), list, read with
 * the payload, metadata, and deleting a version's data.
 */
@Injectable()
export class VersionService {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly access: SecretAccess,
    private readonly vault: VersionVault,
    private readonly material: VersionMaterial,
    private readonly locks: LockDirectory,
    private readonly reads: ReadBookkeeping,
    @Inject(SECRETS_OPTIONS) private readonly options: SecretsDomainOptions,
    private readonly records: IdempotencyRecords,
  ) {}

  /**
   * A new version. With an Idempotency-Key (`once`) at most one per key: the key is recorded in the
   * rotation's transaction, and a retry finding it is answered the version that attempt made.
   */
  async create(caller: GroupCaller, request: SecretsWire.CreateSecretVersionRequest, once?: IdempotencyKey): Promise<SecretsWire.SecretVersion> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    if (once) {
      const done = await this.records.find(this.dataSource.manager, once);
      if (done) return this.replayCreated(scope, once, done.kept);
    }
    const { instance, secret } = await this.access.instanceAndSecret(scope, request.secretId);
    const prototype = parseOrFail(SecretsWire.SecretVersionPrototypes[secret.secretType as SecretsWire.SecretType], request.version) as Record<string, unknown>;
    let outcome: OnceOutcome<Rotated>;
    try {
      outcome = await this.rotateOnce(instance, secret, prototype, { actor: caller.iamId, auto: false }, once);
    } catch (error) {
      // An attempt with the same key that committed meanwhile (this one lost the race on the ordinal): answer its version.
      const committed = once && isDomainError(error) ? await this.records.find(this.dataSource.manager, once) : undefined;
      if (committed && once) return this.replayCreated(scope, once, committed.kept);
      throw error;
    }
    // A replay only happens with a key.
    if (outcome.replayed) return this.replayCreated(scope, once as IdempotencyKey, outcome.kept);
    return toWireVersion(outcome.result.secret, outcome.result.version, outcome.result.payload);
  }

  /** The answer to a retried new version: the version the first attempt made, with its payload. */
  private async replayCreated(scope: TenantScope, once: IdempotencyKey, kept: unknown): Promise<SecretsWire.SecretVersion> {
    const { secretId, versionId } = keptVersionRef(kept);
    once.onReplay?.();
    const { instance, secret } = await this.access.instanceAndSecret(scope, secretId);
    const version = await new SecretStore(this.dataSource.manager).version(scope, secretId, versionId);
    if (!version) throw notFound(`Version ${versionId} of secret ${secretId}`);
    const payload = version.payloadAvailable ? await this.vault.open(instance, secret.secretType, secretId, versionId) : undefined;
    return toWireVersion(secret, this.reads.version(version), payload);
  }

  /**
   * Make `secret`'s next version: seal and store it, then in one transaction insert it, move the
   * aliases (the secret's current ordinal, only if no other rotation got there first: CONFLICT
   * otherwise), drop the metadata of versions beyond the number a secret keeps (unless locked) and
   * record `secrets.version.created` and `secrets.secret.rotated`.
   */
  async rotate(instance: InstanceEntity, secret: SecretEntity, prototype: Record<string, unknown>, how: { actor: string; auto: boolean }): Promise<Rotated> {
    const outcome = await this.rotateOnce(instance, secret, prototype, how, undefined);
    if (outcome.replayed) throw new Error('a rotation without an Idempotency-Key cannot be a replay');
    return outcome.result;
  }

  /**
   * `rotate`, recording `once` (when given) in its transaction; when an attempt with the same key
   * committed first, this one's sealed version is thrown away and the outcome is that attempt's.
   */
  private async rotateOnce(
    instance: InstanceEntity,
    secret: SecretEntity,
    prototype: Record<string, unknown>,
    how: { actor: string; auto: boolean },
    once: IdempotencyKey | undefined,
  ): Promise<OnceOutcome<Rotated>> {
    const scope: TenantScope = { accountId: secret.accountId, instanceGuid: secret.instanceGuid };
    const current = await new SecretStore(this.dataSource.manager).versionByOrdinal(scope, secret.id, secret.currentOrdinal);
    const now = this.clock.nowMs();
    const made = await this.material.next(instance, secret, current, prototype, now);
    const quota = quotaOf(this.options.quotas, instance.planId);
    try {
      assertPayloadQuota(quota, instance.planId, secret.secretType, made.payload);
    } catch (error) {
      await this.material.discard(made);
      throw error;
    }
    const version: SecretVersionEntity = {
      ...scope,
      id: uuidV7(now),
      secretId: secret.id,
      ordinal: secret.currentOrdinal + 1,
      createdAt: now,
      createdBy: how.actor,
      payloadAvailable: true,
      versionCustomMetadata: nonEmpty(prototype['version_custom_metadata']),
      downloaded: false,
      autoRotated: how.auto,
      expirationAt: made.versionExpirationAt,
      details: made.versionDetails,
    };
    try {
      await this.vault.store(instance, secret.id, version.id, made.payload);
    } catch (error) {
      await this.material.discard(made);
      throw error;
    }
    let written: OnceOutcome<{ updated: SecretEntity; pruned: SecretVersionEntity[] }>;
    try {
      written = await this.dataSource.transaction(async (manager) => {
        const write = async () => {
          const fresh = await this.access.secret(scope, secret.id, manager);
          if (fresh.currentOrdinal !== secret.currentOrdinal) throw conflict(`Secret ${secret.id} got another new version at the same time: try again`);
          const store = new SecretStore(manager);
          await store.insertVersion(version);
          const pruned = await this.prunable(manager, scope, fresh, version.ordinal, quota.versionsKept);
          await store.removeVersions(scope, secret.id, pruned.map((old) => old.id));
          const expirationAt = made.secretExpirationAt === undefined ? fresh.expirationAt : made.secretExpirationAt;
          const changes = {
            currentOrdinal: version.ordinal,
            versionsTotal: fresh.versionsTotal + 1 - pruned.length,
            updatedAt: now,
            downloaded: false,
            details: made.secretDetails,
            expirationAt,
            ...(expirationAt !== fresh.expirationAt ? { expiryNotice: ExpiryNotice.none } : {}),
            nextRotationAt: nextRotationAt(rotationOf(made.secretDetails), now),
            ...(prototype['custom_metadata'] !== undefined ? { customMetadata: nonEmpty(prototype['custom_metadata']) } : {}),
        };
        if (!(await store.updateSecret(scope, secret.id, changes, fresh.currentOrdinal))) {
          throw conflict(`Secret ${secret.id} got another new version at the same time: try again`);
        }
        const ref = { ...secretEventRef(fresh), versionId: version.id };
        await this.outbox.record(manager, 'secrets.version.created', ref);
        await this.outbox.record(manager, 'secrets.secret.rotated', { ...ref, auto: how.auto });
        return { updated: { ...fresh, ...changes } as SecretEntity, pruned };
        };
        if (!once) return { replayed: false as const, result: await write() };
        return this.records.inTransactionOnce(manager, once, write, () => ({ secretId: secret.id, versionId: version.id }));
      });
    } catch (error) {
      await this.vault.remove(scope.instanceGuid, secret.id, version.id);
      await this.material.discard(made);
      // The ordinal's unique index refused a concurrent rotation's version.
      if (!isDomainError(error)) throw conflict(`Secret ${secret.id} got another new version at the same time: try again`);
      throw error;
    }
    if (written.replayed) {
      await this.vault.remove(scope.instanceGuid, secret.id, version.id);
      await this.material.discard(made);
      return written;
    }
    const { updated, pruned } = written.result;
    for (const old of pruned) if (old.payloadAvailable) await this.vault.remove(scope.instanceGuid, secret.id, old.id);
    return { replayed: false, result: { secret: updated, version, payload: made.payload } };
  }

  /** Versions beyond the `kept` newest (the plan's quota) once `newOrdinal` exists, except locked ones (kept until unlocked). */
  private async prunable(manager: EntityManager, scope: TenantScope, secret: SecretEntity, newOrdinal: number, kept: number): Promise<SecretVersionEntity[]> {
    const oldest = newOrdinal - kept;
    if (oldest < 1) return [];
    const candidates = await new SecretStore(manager).versionsUpTo(scope, secret.id, oldest);
    if (candidates.length === 0) return [];
    const locked = await this.locks.locksOn(manager, scope, secret.id, candidates.map((candidate) => candidate.id));
    return candidates.filter((candidate) => !locked.has(candidate.id));
  }

  async list(caller: GroupCaller, request: SecretsWire.SecretVersionsRef): Promise<SecretsWire.SecretVersionMetadataCollection> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { secret } = await this.access.instanceAndSecret(scope, request.secretId);
    const versions = await new SecretStore(this.dataSource.manager).versions(scope, secret.id);
    return { versions: versions.map((version) => toWireVersionMetadata(secret, this.reads.version(version))), total_count: versions.length };
  }

  /** A version with its payload (absent when its data was deleted); the read is recorded in memory, not written here. */
  async get(caller: GroupCaller, request: SecretsWire.SecretVersionRef): Promise<SecretsWire.SecretVersion> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { instance, secret } = await this.access.instanceAndSecret(scope, request.secretId);
    const version = await resolveVersion(new SecretStore(this.dataSource.manager), scope, secret, request.id);
    if (!version.payloadAvailable) return toWireVersion(secret, this.reads.version(version), undefined);
    const payload = await this.vault.open(instance, secret.secretType, secret.id, version.id);
    await this.reads.record(scope, secret, version, this.clock.nowMs());
    return toWireVersion(secret, this.reads.version(version), payload);
  }

  async getMetadata(caller: GroupCaller, request: SecretsWire.SecretVersionRef): Promise<SecretsWire.SecretVersionMetadata> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const { secret } = await this.access.instanceAndSecret(scope, request.secretId);
    return toWireVersionMetadata(secret, this.reads.version(await resolveVersion(new SecretStore(this.dataSource.manager), scope, secret, request.id)));
  }

  /** Merge patch of `version_custom_metadata` (`null` removes it). */
  async updateMetadata(caller: GroupCaller, request: SecretsWire.UpdateSecretVersionMetadataRequest): Promise<SecretsWire.SecretVersionMetadata> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    return this.dataSource.transaction(async (manager) => {
      const { secret } = await this.access.instanceAndSecret(scope, request.secretId, manager);
      const store = new SecretStore(manager);
      const version = await resolveVersion(store, scope, secret, request.id);
      const versionCustomMetadata = patchedCustomMetadata(version.versionCustomMetadata, request.patch.version_custom_metadata, 'version_custom_metadata');
      await store.updateVersion(scope, secret.id, version.id, { versionCustomMetadata });
      await this.outbox.record(manager, 'secrets.secret.updated', secretEventRef(secret));
      return toWireVersionMetadata(secret, this.reads.version({ ...version, versionCustomMetadata }));
    });
  }

  /** Delete a version's data: refused (409 naming the locks) while it is locked; deleting it again changes nothing. */
  async deleteData(caller: GroupCaller, request: SecretsWire.SecretVersionRef): Promise<SecretsWire.Empty> {
    const scope = this.access.scopeOf(caller, request.instanceGuid);
    const deleted = await this.dataSource.transaction(async (manager) => {
      const { secret } = await this.access.instanceAndSecret(scope, request.secretId, manager);
      const version = await resolveVersion(new SecretStore(manager), scope, secret, request.id);
      const locked = await this.locks.locksOn(manager, scope, secret.id, [version.id]);
      if (locked.size > 0) throw lockedConflict(`Version ${version.id} of secret ${secret.id}`, locked);
      return (await this.markDataDeleted(manager, scope, secret, version)) ? version : undefined;
    });
    if (deleted) await this.vault.remove(scope.instanceGuid, deleted.secretId, deleted.id);
    return {};
  }

  /** In the caller's transaction: `payload_available` false and the event; false when it already was. */
  async markDataDeleted(manager: EntityManager, scope: TenantScope, secret: SecretEntity, version: SecretVersionEntity): Promise<boolean> {
    if (!version.payloadAvailable) return false;
    await new SecretStore(manager).updateVersion(scope, secret.id, version.id, { payloadAvailable: false });
    await this.outbox.record(manager, 'secrets.version.data-deleted', { ...secretEventRef(secret), versionId: version.id });
    return true;
  }
}

function nonEmpty(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0 ? (value as Record<string, unknown>) : null;
}
