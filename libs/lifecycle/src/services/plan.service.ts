import { Inject, Injectable } from '@nestjs/common';
import type { LifecycleWire } from '@sealbox/contracts';
import { Clock, dataSourceToken, outboxToken, rootLogger, validationFailed, type Outbox } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { RECLAIMABLE_SERVICES, wirePlans } from '../domain/catalog.js';
import { ResourceInstanceEntity, RetiredPlanEntity } from '../persistence/entities.js';
import { LifecycleStore } from '../persistence/store.js';
import { LIFECYCLE_OPTIONS, type LifecycleDomainOptions } from '../tokens.js';
import { InstanceService } from './instance.service.js';
import { ReclamationService } from './reclamation.service.js';

/** The plan catalog and plan retirement (an operator operation, over NATS only). */
@Injectable()
export class PlanService {
  constructor(
    @Inject(dataSourceToken('lifecycle')) private readonly dataSource: DataSource,
    @Inject(outboxToken('lifecycle')) private readonly outbox: Outbox,
    @Inject(LIFECYCLE_OPTIONS) private readonly options: LifecycleDomainOptions,
    private readonly instances: InstanceService,
    private readonly reclamations: ReclamationService,
    private readonly clock: Clock,
  ) {}

  async list(): Promise<LifecycleWire.PlanList> {
    return { plans: wirePlans(this.instances.catalog, await this.instances.retiredPlans(), this.options.retentionMs) };
  }

  /**
   * Retire a plan: no new instances on it, and every active instance of it goes to reclamation with
   * reason plan_retired (restorable for the retention period, then it must change plan within the
   * grace period). Retiring it again sweeps instances left over by a failed run.
   */
  async retire(request: LifecycleWire.RetirePlanRequest): Promise<LifecycleWire.RetirePlanResponse> {
    const plan = this.instances.catalog.find((candidate) => candidate.id === request.planId);
    if (!plan) throw validationFailed([{ field: 'planId', message: `unknown plan ${request.planId}` }]);
    if (!RECLAIMABLE_SERVICES.includes(plan.service)) {
      throw validationFailed([{ field: 'planId', message: `${plan.service} instances cannot be restored, so plan ${plan.id} cannot be retired` }]);
    }
    const now = this.clock.nowMs();
    const manager = this.dataSource.manager;
    if (!(await manager.countBy(RetiredPlanEntity, { planId: plan.id }))) {
      await manager.insert(RetiredPlanEntity, { planId: plan.id, retiredAt: now }).catch(async (error: unknown) => {
        if (!(await manager.countBy(RetiredPlanEntity, { planId: plan.id }))) throw error;
      });
    }
    const count = await this.deleteActiveOf(plan.id);
    await this.dataSource.transaction((tx) => this.outbox.record(tx, 'lifecycle.plan.retired', { planId: plan.id, instances: count }));
    return { planId: plan.id, instances: count };
  }

  private async deleteActiveOf(planId: string): Promise<number> {
    const store = new LifecycleStore(this.dataSource.manager);
    let after = '';
    let count = 0;
    for (;;) {
      const rows = await store.activeOfPlan(planId, after, this.options.sweepBatchSize);
      for (const row of rows) {
        after = row.guid;
        try {
          if (await this.reclamations.deleteIntoReclamation(row, 'plan_retired', 'system')) count += 1;
        } catch (error) {
          rootLogger().warn({ err: error, instanceId: row.guid, planId }, 'lifecycle: an instance of a retired plan could not be deleted; retire the plan again to retry');
        }
      }
      if (rows.length < this.options.sweepBatchSize) return count;
    }
  }

  /** Scheduler: instances restored after their plan was retired that did not change plan in time go back to reclamation. */
  async deleteOverduePlanChanges(now: number): Promise<number> {
    const store = new LifecycleStore(this.dataSource.manager);
    const retired = await this.instances.retiredPlans();
    let count = 0;
    for (;;) {
      const rows = await store.overduePlanChanges(now, this.options.sweepBatchSize);
      let progressed = 0;
      for (const row of rows) {
        if (row.state === 'active' && retired.has(row.planId)) {
          try {
            if (await this.reclamations.deleteIntoReclamation(row, 'plan_retired', 'system')) count += 1;
            progressed += 1;
            continue;
          } catch (error) {
            rootLogger().warn({ err: error, instanceId: row.guid }, 'lifecycle: an instance that missed its plan change could not be deleted; the next run retries');
            continue;
          }
        }
        // Not due any more (changed plan, or not active): nothing to wait for.
        await this.dataSource.manager.update(ResourceInstanceEntity, { guid: row.guid }, { planChangeDueAt: null });
        progressed += 1;
      }
      if (rows.length < this.options.sweepBatchSize || progressed === 0) return count;
    }
  }
}
