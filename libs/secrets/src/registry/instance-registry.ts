import { Inject, Injectable } from '@nestjs/common';
import type { SecretsWire } from '@sealbox/contracts';
import { Clock, conflict, dataSourceToken, isDomainError, notFound, outboxToken, type Outbox } from '@sealbox/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { InstanceEntity, SecretGroupEntity } from './entities.js';
import { DEFAULT_GROUP_ID, sameActivation, SYSTEM_ACTOR, toWireInstance, usableInstance } from './rules.js';
import { RegistryStore } from './store.js';

/**
 * The instances the secrets service serves, fed by lifecycle over NATS (`secrets.instance.*`).
 * Every other secrets operation goes through `requireActive` first.
 */
@Injectable()
export class InstanceRegistry {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    private readonly clock: Clock,
  ) {}

  /** Record the instance and its `default` group; the same activation again returns it unchanged. */
  async activate(request: SecretsWire.ActivateInstanceRequest): Promise<SecretsWire.SecretsInstance> {
    const existing = await new RegistryStore(this.dataSource.manager).instanceByGuid(request.instanceGuid);
    if (existing) return toWireInstance(this.replayed(existing, request));
    const now = this.clock.nowMs();
    const row: InstanceEntity = {
      instanceGuid: request.instanceGuid,
      accountId: request.accountId,
      crn: request.crn,
      region: request.region,
      kmsInstanceId: request.kmsKey.instanceId,
      kmsKeyId: request.kmsKey.keyId,
      kmsAccountId: request.kmsKey.accountId !== undefined && request.kmsKey.accountId !== request.accountId ? request.kmsKey.accountId : null,
      state: 'active',
      planId: request.planId ?? null,
      createdAt: now,
      updatedAt: now,
    };
    const defaultGroup: SecretGroupEntity = {
      instanceGuid: request.instanceGuid,
      id: DEFAULT_GROUP_ID,
      accountId: request.accountId,
      name: DEFAULT_GROUP_ID,
      description: null,
      createdAt: now,
      createdBy: SYSTEM_ACTOR,
      updatedAt: now,
    };
    try {
      await this.dataSource.transaction(async (manager) => {
        const store = new RegistryStore(manager);
        await store.insertInstance(row);
        await store.insertGroup(defaultGroup);
        await this.outbox.record(manager, 'secrets.instance.activated', { accountId: row.accountId, instanceId: row.instanceGuid });
      });
    } catch (error) {
      // A concurrent activation of the same GUID won the insert: answer as for a retry.
      const winner = isDomainError(error) ? null : await new RegistryStore(this.dataSource.manager).instanceByGuid(request.instanceGuid);
      if (winner) return toWireInstance(this.replayed(winner, request));
      throw error;
    }
    return toWireInstance(row);
  }

  private replayed(existing: InstanceEntity, request: SecretsWire.ActivateInstanceRequest): InstanceEntity {
    if (!sameActivation(existing, request)) throw conflict(`Instance ${request.instanceGuid} is already registered with other attributes`);
    return existing;
  }

  async get(instanceGuid: string): Promise<SecretsWire.SecretsInstance> {
    const row = await new RegistryStore(this.dataSource.manager).instanceByGuid(instanceGuid);
    if (!row) throw notFound(`Instance ${instanceGuid}`);
    return toWireInstance(row);
  }

  /** Enable or disable an instance; setting the state it already has changes nothing. */
  async setState(request: SecretsWire.SetInstanceStateRequest): Promise<SecretsWire.SecretsInstance> {
    return this.dataSource.transaction(async (manager) => {
      const store = new RegistryStore(manager);
      const row = await store.instanceByGuid(request.instanceGuid);
      if (!row) throw notFound(`Instance ${request.instanceGuid}`);
      if (row.state === request.state) return toWireInstance(row);
      const updatedAt = this.clock.nowMs();
      await store.setInstanceState(row, request.state, updatedAt);
      await this.outbox.record(manager, 'secrets.instance.state-changed', { accountId: row.accountId, instanceId: row.instanceGuid, state: request.state });
      return toWireInstance({ ...row, state: request.state, updatedAt });
    });
  }

  /** Record the instance's plan (its quotas follow it); the plan it already has changes nothing. */
  async setPlan(request: SecretsWire.SetInstancePlanRequest): Promise<SecretsWire.SecretsInstance> {
    return this.dataSource.transaction(async (manager) => {
      const store = new RegistryStore(manager);
      const row = await store.instanceByGuid(request.instanceGuid);
      if (!row) throw notFound(`Instance ${request.instanceGuid}`);
      if (row.planId === request.planId) return toWireInstance(row);
      const updatedAt = this.clock.nowMs();
      await store.setInstancePlan(row, request.planId, updatedAt);
      return toWireInstance({ ...row, planId: request.planId, updatedAt });
    });
  }

  /** The caller's active instance: another account's answers NOT_FOUND, a disabled one INSTANCE_NOT_ACTIVE. */
  async requireActive(manager: EntityManager, accountId: string, instanceGuid: string): Promise<InstanceEntity> {
    return usableInstance(await new RegistryStore(manager).instance({ accountId, instanceGuid }), instanceGuid);
  }
}
