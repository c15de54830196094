import type { EntityManager } from 'typeorm';
import { InstanceEntity, SecretGroupEntity } from './entities.js';

/** Where one tenant's data lives: every tenant-owned query names both. */
export interface TenantScope {
  readonly accountId: string;
  readonly instanceGuid: string;
}

export type GroupChanges = Pick<SecretGroupEntity, 'name' | 'description' | 'updatedAt'>;

/**
 * The only way to the instance and group tables. Tenant queries need the account id and the
 * instance GUID; a call without either is refused rather than run unscoped.
 */
export class RegistryStore {
  constructor(private readonly manager: EntityManager) {}

  private scoped(scope: TenantScope): TenantScope {
    if (!scope.accountId || !scope.instanceGuid) throw new Error('Refusing a secrets query without an account id and an instance GUID');
    return scope;
  }

  /** Registry lookup by GUID alone: only for the service-to-service instance operations (lifecycle). */
  instanceByGuid(instanceGuid: string): Promise<InstanceEntity | null> {
    if (!instanceGuid) throw new Error('Refusing an instance query without a GUID');
    return this.manager.findOneBy(InstanceEntity, { instanceGuid });
  }

  instance(scope: TenantScope): Promise<InstanceEntity | null> {
    const { accountId, instanceGuid } = this.scoped(scope);
    return this.manager.findOneBy(InstanceEntity, { accountId, instanceGuid });
  }

  async insertInstance(row: InstanceEntity): Promise<void> {
    this.scoped(row);
    await this.manager.insert(InstanceEntity, row);
  }

  async setInstanceState(scope: TenantScope, state: InstanceEntity['state'], updatedAt: number): Promise<void> {
    const { accountId, instanceGuid } = this.scoped(scope);
    await this.manager.update(InstanceEntity, { accountId, instanceGuid }, { state, updatedAt });
  }

  async setInstancePlan(scope: TenantScope, planId: string, updatedAt: number): Promise<void> {
    const { accountId, instanceGuid } = this.scoped(scope);
    await this.manager.update(InstanceEntity, { accountId, instanceGuid }, { planId, updatedAt });
  }

  group(scope: TenantScope, id: string): Promise<SecretGroupEntity | null> {
    const { accountId, instanceGuid } = this.scoped(scope);
    return this.manager.findOneBy(SecretGroupEntity, { accountId, instanceGuid, id });
  }

  groupByName(scope: TenantScope, name: string): Promise<SecretGroupEntity | null> {
    const { accountId, instanceGuid } = this.scoped(scope);
    return this.manager.findOneBy(SecretGroupEntity, { accountId, instanceGuid, name });
  }

  /** Every group of the instance, oldest first (`default` is the oldest: activation creates it). */
  groups(scope: TenantScope): Promise<SecretGroupEntity[]> {
    const { accountId, instanceGuid } = this.scoped(scope);
    return this.manager.find(SecretGroupEntity, { where: { accountId, instanceGuid }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  countGroups(scope: TenantScope): Promise<number> {
    const { accountId, instanceGuid } = this.scoped(scope);
    return this.manager.countBy(SecretGroupEntity, { accountId, instanceGuid });
  }

  async insertGroup(row: SecretGroupEntity): Promise<void> {
    this.scoped(row);
    await this.manager.insert(SecretGroupEntity, row);
  }

  async updateGroup(scope: TenantScope, id: string, changes: GroupChanges): Promise<void> {
    const { accountId, instanceGuid } = this.scoped(scope);
    await this.manager.update(SecretGroupEntity, { accountId, instanceGuid, id }, changes);
  }

  /** Delete a group; false if it was not there. */
  async removeGroup(scope: TenantScope, id: string): Promise<boolean> {
    const { accountId, instanceGuid } = this.scoped(scope);
    const result = await this.manager.delete(SecretGroupEntity, { accountId, instanceGuid, id });
    return (result.affected ?? 0) > 0;
  }
}
