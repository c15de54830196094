import { Brackets, type EntityManager } from 'typeorm';
import type { InstanceCursor } from '../domain/cursor.js';
import { looksLikeCrn } from '../domain/crn.js';
import { ReclamationEntity, ResourceInstanceEntity } from './entities.js';

export interface InstanceFilter {
  readonly guid?: string;
  readonly name?: string;
  readonly resourceGroupId?: string;
  readonly service?: string;
  readonly planId?: string;
  readonly state?: string;
  readonly updatedFrom?: number;
  readonly updatedTo?: number;
}

export interface ReclamationFilter {
  readonly instanceGuid?: string;
  readonly resourceGroupId?: string;
}

/**
 * The only way to the lifecycle tables. Tenant queries need the account id and refuse to run
 * without it; the scheduler's queries (due reclamations, unfinished sagas, a retired plan's
 * instances) serve every tenant and say so in their names.
 */
export class LifecycleStore {
  constructor(private readonly manager: EntityManager) {}

  private scoped(accountId: string): string {
    if (!accountId) throw new Error('Refusing a lifecycle query without an account id');
    return accountId;
  }

  /** An instance of the account by GUID or CRN. */
  instance(accountId: string, id: string): Promise<ResourceInstanceEntity | null> {
    const account = this.scoped(accountId);
    return this.manager.findOneBy(ResourceInstanceEntity, looksLikeCrn(id) ? { accountId: account, crn: id } : { accountId: account, guid: id });
  }

  /** Service-internal lookup by GUID (sagas, scheduler). */
  instanceByGuid(guid: string): Promise<ResourceInstanceEntity | null> {
    if (!guid) throw new Error('Refusing an instance query without a GUID');
    return this.manager.findOneBy(ResourceInstanceEntity, { guid });
  }

  /** Up to `limit` instances of the account after `after` in (created_at, guid) order. Removed ones only when asked for by state. */
  page(accountId: string, filter: InstanceFilter, after: InstanceCursor | undefined, limit: number): Promise<ResourceInstanceEntity[]> {
    const query = this.manager.createQueryBuilder(ResourceInstanceEntity, 'i').where('i.accountId = :accountId', { accountId: this.scoped(accountId) });
    if (filter.guid !== undefined) query.andWhere('i.guid = :guid', { guid: filter.guid });
    if (filter.name !== undefined) query.andWhere('i.name = :name', { name: filter.name });
    if (filter.resourceGroupId !== undefined) query.andWhere('i.resourceGroupId = :group', { group: filter.resourceGroupId });
    if (filter.service !== undefined) query.andWhere('i.service = :service', { service: filter.service });
    if (filter.planId !== undefined) query.andWhere('i.planId = :planId', { planId: filter.planId });
    if (filter.state !== undefined) query.andWhere('i.state = :state', { state: filter.state });
    else query.andWhere('i.state <> :removed', { removed: 'removed' });
    if (filter.updatedFrom !== undefined) query.andWhere('i.updatedAt >= :from', { from: filter.updatedFrom });
    if (filter.updatedTo !== undefined) query.andWhere('i.updatedAt <= :to', { to: filter.updatedTo });
    if (after) {
      query.andWhere(
        new Brackets((where) => {
          where.where('i.createdAt > :afterAt', { afterAt: after.createdAt }).orWhere('(i.createdAt = :afterAt AND i.guid > :afterGuid)', { afterAt: after.createdAt, afterGuid: after.guid });
        }),
      );
    }
    return query.orderBy('i.createdAt', 'ASC').addOrderBy('i.guid', 'ASC').limit(limit).getMany();
  }

  reclamation(accountId: string, id: string): Promise<ReclamationEntity | null> {
    return this.manager.findOneBy(ReclamationEntity, { accountId: this.scoped(accountId), id });
  }

  reclamationById(id: string): Promise<ReclamationEntity | null> {
    return this.manager.findOneBy(ReclamationEntity, { id });
  }

  reclamations(accountId: string, filter: ReclamationFilter): Promise<ReclamationEntity[]> {
    return this.manager.find(ReclamationEntity, {
      where: {
        accountId: this.scoped(accountId),
        ...(filter.instanceGuid !== undefined ? { instanceGuid: filter.instanceGuid } : {}),
        ...(filter.resourceGroupId !== undefined ? { resourceGroupId: filter.resourceGroupId } : {}),
      },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /** Every tenant: SCHEDULED reclamations due at `now`, by (target_time, id) after `after` (index reclamations_due). */
  dueReclamations(now: number, after: { targetTime: number; id: string } | undefined, limit: number): Promise<ReclamationEntity[]> {
    const query = this.manager
      .createQueryBuilder(ReclamationEntity, 'r')
      .where('r.state = :state', { state: 'SCHEDULED' })
      .andWhere('r.targetTime <= :now', { now });
    if (after) {
      query.andWhere(
        new Brackets((where) => {
          where.where('r.targetTime > :afterAt', { afterAt: after.targetTime }).orWhere('(r.targetTime = :afterAt AND r.id > :afterId)', { afterAt: after.targetTime, afterId: after.id });
        }),
      );
    }
    return query.orderBy('r.targetTime', 'ASC').addOrderBy('r.id', 'ASC').limit(limit).getMany();
  }

  /** Every tenant: sagas to (re)run at `now`: retrying, blocked, or running under an expired lease (index resource_instances_saga). */
  unfinishedSagas(now: number, limit: number): Promise<ResourceInstanceEntity[]> {
    return this.manager
      .createQueryBuilder(ResourceInstanceEntity, 'i')
      .where('i.sagaStatus IN (:...waiting)', { waiting: ['retrying', 'blocked'] })
      .orWhere('(i.sagaStatus = :running AND i.sagaLeaseUntil <= :now)', { running: 'running', now })
      .orderBy('i.updatedAt', 'ASC')
      .addOrderBy('i.guid', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Every tenant: active instances of a plan (index resource_instances_plan). */
  activeOfPlan(planId: string, afterGuid: string, limit: number): Promise<ResourceInstanceEntity[]> {
    return this.manager
      .createQueryBuilder(ResourceInstanceEntity, 'i')
      .where('i.planId = :planId AND i.state = :state', { planId, state: 'active' })
      .andWhere('i.guid > :afterGuid', { afterGuid })
      .orderBy('i.guid', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Every tenant: instances whose plan change is overdue at `now` (index resource_instances_plan_change_due). */
  overduePlanChanges(now: number, limit: number): Promise<ResourceInstanceEntity[]> {
    return this.manager
      .createQueryBuilder(ResourceInstanceEntity, 'i')
      .where('i.planChangeDueAt <= :now', { now })
      .orderBy('i.planChangeDueAt', 'ASC')
      .addOrderBy('i.guid', 'ASC')
      .limit(limit)
      .getMany();
  }
}
