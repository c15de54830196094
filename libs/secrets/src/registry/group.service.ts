import { Inject, Injectable } from '@nestjs/common';
import type { SecretsWire } from '@sealbox/contracts';
import { Clock, dataSourceToken, isDomainError, notFound, outboxToken, type Outbox } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { InstanceEntity, SecretGroupEntity } from './entities.js';
import { InstanceRegistry } from './instance-registry.js';
import { SecretsInGroup } from './ports.js';
import {
  applyGroupPatch,
  assertChangeableGroup,
  assertEmptyGroup,
  assertNotDefaultName,
  nameTaken,
  toWireGroup,
  type GroupCaller,
} from './rules.js';
import { RegistryStore, type TenantScope } from './store.js';
import { assertGroupQuota, quotaOf } from '../quotas/quotas.js';
import { SECRETS_OPTIONS, type SecretsDomainOptions } from '../secrets/options.js';

/** Secret groups of an instance: `default` always exists, names are unique per instance. */
@Injectable()
export class SecretGroupService {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly instances: InstanceRegistry,
    private readonly secretsInGroup: SecretsInGroup,
    @Inject(SECRETS_OPTIONS) private readonly options: SecretsDomainOptions,
  ) {}

  async create(caller: GroupCaller, request: SecretsWire.CreateSecretGroupRequest): Promise<SecretsWire.SecretGroup> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    assertNotDefaultName(request.name);
    const now = this.clock.nowMs();
    const row: SecretGroupEntity = {
      ...scope,
      id: randomUUID(),
      name: request.name,
      description: request.description ?? null,
      createdAt: now,
      createdBy: caller.iamId,
      updatedAt: now,
    };
    await this.withUniqueName(scope, request.name, (manager) =>
      this.inActiveInstance(manager, scope, async (store, instance) => {
        assertGroupQuota(quotaOf(this.options.quotas, instance.planId), instance.planId, await store.countGroups(scope));
        if (await store.groupByName(scope, request.name)) throw nameTaken(request.name);
        await store.insertGroup(row);
        await this.outbox.record(manager, 'secrets.group.created', { ...this.eventRef(scope), groupId: row.id });
      }),
    );
    return toWireGroup(row);
  }

  async list(caller: GroupCaller, request: SecretsWire.ListSecretGroupsRequest): Promise<SecretsWire.SecretGroupCollection> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    const rows = await this.inActiveInstance(this.dataSource.manager, scope, (store) => store.groups(scope));
    return { secret_groups: rows.map(toWireGroup), total_count: rows.length };
  }

  async get(caller: GroupCaller, request: SecretsWire.SecretGroupRef): Promise<SecretsWire.SecretGroup> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    return toWireGroup(await this.inActiveInstance(this.dataSource.manager, scope, (store) => this.existing(store, scope, request.id)));
  }

  async update(caller: GroupCaller, request: SecretsWire.UpdateSecretGroupRequest): Promise<SecretsWire.SecretGroup> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    const { instanceGuid: _instanceGuid, id, ...patch } = request;
    if (patch.name !== undefined) assertNotDefaultName(patch.name);
    const work = (manager: EntityManager) =>
      this.inActiveInstance(manager, scope, async (store) => {
        const current = await this.existing(store, scope, id);
        assertChangeableGroup(id);
        const next = applyGroupPatch(current, patch);
        if (next.name !== current.name && (await store.groupByName(scope, next.name))) throw nameTaken(next.name);
        const updated: SecretGroupEntity = { ...current, ...next, updatedAt: this.clock.nowMs() };
        await store.updateGroup(scope, id, { name: updated.name, description: updated.description, updatedAt: updated.updatedAt });
        await this.outbox.record(manager, 'secrets.group.updated', { ...this.eventRef(scope), groupId: id });
        return updated;
      });
    const updated = patch.name === undefined ? await this.dataSource.transaction(work) : await this.withUniqueName(scope, patch.name, work);
    return toWireGroup(updated);
  }

  async delete(caller: GroupCaller, request: SecretsWire.SecretGroupRef): Promise<SecretsWire.Empty> {
    const scope = this.scopeOf(caller, request.instanceGuid);
    await this.dataSource.transaction((manager) =>
      this.inActiveInstance(manager, scope, async (store) => {
        await this.existing(store, scope, request.id);
        assertChangeableGroup(request.id);
        assertEmptyGroup(request.id, await this.secretsInGroup.count(manager, scope, request.id));
        await store.removeGroup(scope, request.id);
        await this.outbox.record(manager, 'secrets.group.deleted', { ...this.eventRef(scope), groupId: request.id });
      }),
    );
    return {};
  }

  private scopeOf(caller: GroupCaller, instanceGuid: string): TenantScope {
    return { accountId: caller.accountId, instanceGuid };
  }

  private eventRef(scope: TenantScope) {
    return { accountId: scope.accountId, instanceId: scope.instanceGuid };
  }

  private async inActiveInstance<T>(manager: EntityManager, scope: TenantScope, work: (store: RegistryStore, instance: InstanceEntity) => Promise<T>): Promise<T> {
    const instance = await this.instances.requireActive(manager, scope.accountId, scope.instanceGuid);
    return work(new RegistryStore(manager), instance);
  }

  private async existing(store: RegistryStore, scope: TenantScope, id: string): Promise<SecretGroupEntity> {
    const row = await store.group(scope, id);
    if (!row) throw notFound(`Secret group ${id}`);
    return row;
  }

  /**
   * Run a transaction that writes `name`: the in-transaction check catches the usual duplicate, the
   * unique index a concurrent one; the latter surfaces as a driver error, answered as CONFLICT once
   * the rolled-back transaction is gone and the winner's row is visible.
   */
  private async withUniqueName<T>(scope: TenantScope, name: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      if (!isDomainError(error) && (await new RegistryStore(this.dataSource.manager).groupByName(scope, name))) throw nameTaken(name);
      throw error;
    }
  }
}
