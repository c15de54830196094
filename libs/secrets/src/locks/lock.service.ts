import { Inject, Injectable } from '@nestjs/common';
import type { SecretsWire } from '@sealbox/contracts';
import { Clock, conflict, dataSourceToken, isDomainError, isUniqueViolation, LOGGER, outboxToken, type Outbox } from '@sealbox/platform';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { pageLinks } from '../domain/listing.js';
import { VersionDirectory, type ResolvedVersion } from '../ports.js';
import { InstanceRegistry } from '../registry/instance-registry.js';
import type { GroupCaller } from '../registry/rules.js';
import type { TenantScope } from '../registry/store.js';
import type { SecretLockEntity } from './entities.js';
import {
  assertLockable,
  groupNames,
  lockListLinkQuery,
  orphanSecretLocks,
  planLockList,
  planLockUpsert,
  secretsLocksLinkQuery,
  toWireLock,
  toWireSecretLocks,
  versionBefore,
} from './rules.js';
import { LockStore } from './store.js';

/** A version whose data a lock mode deleted: its object leaves the bucket after the commit. */
interface DeletedData {
  readonly secretId: string;
  readonly versionId: string;
}

/**
 * Locks on secret versions: created and deleted in bulk, listed per secret, per version and across
 * the instance. Every operation first requires the caller's instance to be active.
 */
@Injectable()
export class LockService {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly instances: InstanceRegistry,
    private readonly versions: VersionDirectory,
  ) {}

  /**
   * Lock a version (the current one when `versionId` is absent; it must still have its data). A lock of the same name on the
   * version is replaced (description and attributes; it keeps created_at/created_by). With a `mode`,
   * locks of the same names leave the version before it, and with `remove_previous_and_delete` that
   * version's data is deleted once it holds no lock.
   */
  async create(caller: GroupCaller, request: SecretsWire.CreateLocksRequest): Promise<SecretsWire.SecretLocks> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    const { answer, deleted } = await this.transactionRetryingDuplicates(async (manager) => {
      await this.instances.requireActive(manager, scope.accountId, scope.instanceGuid);
      const target = await this.versions.resolve(manager, scope, request.secretId, request.versionId ?? 'current');
      assertLockable(target);
      const store = new LockStore(manager);
      const existing = new Map((await store.onVersion(scope, target.secretId, target.versionId)).map((row) => [row.name, row]));
      planLockUpsert([...existing.keys()], request.locks);
      const now = this.clock.nowMs();
      const fresh: SecretLockEntity[] = [];
      for (const lock of request.locks) {
        const description = lock.description ?? null;
        const attributes = lock.attributes === undefined ? null : JSON.stringify(lock.attributes);
        if (existing.has(lock.name)) {
          await store.update(scope, target.secretId, target.versionId, lock.name, { description, attributes, updatedAt: now });
        } else {
          fresh.push({
            ...scope,
            secretId: target.secretId,
            versionId: target.versionId,
            secretGroupId: target.secretGroupId,
            name: lock.name,
            description,
            attributes,
            createdAt: now,
            createdBy: caller.iamId,
            updatedAt: now,
          });
        }
      }
      await store.insert(fresh);
      const names = request.locks.map((lock) => lock.name);
      await this.outbox.record(manager, 'secrets.lock.created', { ...this.eventRef(scope, target), locks: names });

      const shown = new Set([target.versionId]);
      let deleted: DeletedData | undefined;
      if (request.mode !== undefined) {
        const before = versionBefore(await this.versions.versions(manager, scope, target.secretId), target.versionId);
        if (before) {
          shown.add(before.versionId);
          await this.removeLocks(manager, store, scope, [before], names);
          const unlocked = (await store.countOnVersion(scope, before.secretId, before.versionId)) === 0;
          if (request.mode === 'remove_previous_and_delete' && unlocked && before.payloadAvailable) {
            await this.versions.deleteData(manager, scope, before.secretId, before.versionId);
            deleted = { secretId: before.secretId, versionId: before.versionId };
          }
        }
      }
      return { answer: await this.secretLocks(manager, scope, target.secretId, shown), deleted };
    });
    if (deleted) await this.removeDeletedData(scope, deleted);
    return answer;
  }

  /**
   * Remove the named locks (all when no name is given) of a version, or of every version of the
   * secret when `versionId` is absent. Names the version does not hold are ignored.
   */
  async delete(caller: GroupCaller, request: SecretsWire.DeleteLocksRequest): Promise<SecretsWire.SecretLocks> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    return this.dataSource.transaction(async (manager) => {
      await this.instances.requireActive(manager, scope.accountId, scope.instanceGuid);
      const all = await this.versions.versions(manager, scope, request.secretId);
      const targets = request.versionId === undefined ? all : [await this.versions.resolve(manager, scope, request.secretId, request.versionId)];
      const touched = await this.removeLocks(manager, new LockStore(manager), scope, targets, request.names, request.versionId === undefined);
      const shown = new Set(request.versionId === undefined ? touched : targets.map((version) => version.versionId));
      return this.secretLocks(manager, scope, request.secretId, shown);
    });
  }

  /** The locks of a secret (every version) or of one version, paged. */
  async list(caller: GroupCaller, request: SecretsWire.ListLocksRequest): Promise<SecretsWire.SecretLocksPaginatedCollection> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    const manager = this.dataSource.manager;
    await this.instances.requireActive(manager, scope.accountId, scope.instanceGuid);
    const versions =
      request.versionId === undefined
        ? await this.versions.versions(manager, scope, request.secretId)
        : [await this.versions.resolve(manager, scope, request.secretId, request.versionId)];
    const byId = new Map(versions.map((version) => [version.versionId, version]));
    const plan = planLockList(request.query);
    const { rows, total } = await new LockStore(manager).page(scope, request.secretId, request.versionId === undefined ? undefined : versions[0]?.versionId, plan);
    return {
      ...pageLinks({ path: request.path, query: lockListLinkQuery(request.query), offset: plan.offset, limit: plan.limit, totalCount: total }),
      locks: rows.map((row) => toWireLock(row, byId.get(row.versionId))),
    };
  }

  /** Every secret of the instance that holds locks (matching `search` and `groups`), with its versions' lock names. */
  async listAll(caller: GroupCaller, request: SecretsWire.ListSecretsLocksRequest): Promise<SecretsWire.SecretsLocksPaginatedCollection> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    const manager = this.dataSource.manager;
    const { query } = request;
    await this.instances.requireActive(manager, scope.accountId, scope.instanceGuid);
    const store = new LockStore(manager);
    const filter = { ...(query.groups === undefined ? {} : { groups: query.groups }), ...(query.search === undefined ? {} : { search: query.search }) };
    const { secretIds, total } = await store.lockedSecrets(scope, filter, query.offset, query.limit);
    const rows = await store.locksOfSecrets(scope, secretIds, query.search);
    const secretsLocks: SecretsWire.SecretLocks[] = [];
    for (const secretId of secretIds) {
      const own = rows.filter((row) => row.secretId === secretId);
      const versions = await this.versionsIfAny(manager, scope, secretId);
      secretsLocks.push(versions.length === 0 ? orphanSecretLocks(secretId, own) : toWireSecretLocks(versions, groupNames(own)));
    }
    return {
      ...pageLinks({ path: request.path, query: secretsLocksLinkQuery(query), offset: query.offset, limit: query.limit, totalCount: total }),
      secrets_locks: secretsLocks,
    };
  }

  // ---------- helpers ----------

  /** Remove locks from these versions, recording one `secrets.lock.deleted` per version that lost some; returns those versions' ids. */
  private async removeLocks(
    manager: EntityManager,
    store: LockStore,
    scope: TenantScope,
    targets: readonly ResolvedVersion[],
    names: readonly string[] | undefined,
    wholeSecret = false,
  ): Promise<string[]> {
    const first = targets[0];
    if (!first) return [];
    const removed: SecretLockEntity[] = [];
    if (wholeSecret) removed.push(...(await store.remove(scope, first.secretId, undefined, names)));
    // One at a time: the queries share the transaction's connection.
    else for (const target of targets) removed.push(...(await store.remove(scope, target.secretId, target.versionId, names)));
    const byVersion = groupNames(removed);
    for (const target of targets) {
      const lost = byVersion.get(target.versionId);
      if (lost) await this.outbox.record(manager, 'secrets.lock.deleted', { ...this.eventRef(scope, target), locks: lost });
    }
    return targets.filter((target) => byVersion.has(target.versionId)).map((target) => target.versionId);
  }

  private async secretLocks(manager: EntityManager, scope: TenantScope, secretId: string, shown: ReadonlySet<string>): Promise<SecretsWire.SecretLocks> {
    const versions = await this.versions.versions(manager, scope, secretId);
    const locks = groupNames(await new LockStore(manager).names(scope, secretId));
    return toWireSecretLocks(versions, locks, shown);
  }

  /** The versions of a secret, or none when the secrets store does not know it. */
  private async versionsIfAny(manager: EntityManager, scope: TenantScope, secretId: string): Promise<ResolvedVersion[]> {
    try {
      return await this.versions.versions(manager, scope, secretId);
    } catch (error) {
      if (isDomainError(error) && error.code === 'NOT_FOUND') return [];
      throw error;
    }
  }

  private async removeDeletedData(scope: TenantScope, deleted: DeletedData): Promise<void> {
    try {
      await this.versions.removeDeletedData(scope, deleted.secretId, deleted.versionId);
    } catch (error) {
      // The data is already gone for every reader (payload_available is false); the orphan sweep removes the object.
      this.logger.warn({ err: error, secretId: deleted.secretId, versionId: deleted.versionId }, 'Could not remove a deleted version object; the sweep will');
    }
  }

  /**
   * Run a transaction that inserts locks: a concurrent request that inserted the same name first
   * makes the insert fail on the primary key; run once more, when the other lock is visible and is
   * replaced instead. A second failure is answered as a CONFLICT to retry.
   */
  private async transactionRetryingDuplicates<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('The locks of this version were changed by another request meanwhile; retry');
      throw error;
    }
  }

  private scopeOf(caller: GroupCaller, instanceGuid: string): TenantScope {
    return { accountId: caller.accountId, instanceGuid };
  }

  private eventRef(scope: TenantScope, version: ResolvedVersion) {
    return {
      accountId: scope.accountId,
      instanceId: scope.instanceGuid,
      secretId: version.secretId,
      secretType: version.secretType,
      groupId: version.secretGroupId,
      versionId: version.versionId,
    };
  }
}
