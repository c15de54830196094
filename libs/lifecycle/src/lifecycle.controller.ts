import { Controller, Inject } from '@nestjs/common';
import type { HealthResponse, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { dataSourceToken, DomainError, healthReport, pingDatabase, RpcHandler, type Caller, type RpcMeta } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { InstanceService } from './services/instance.service.js';
import { PlanService } from './services/plan.service.js';
import { ReclamationService } from './services/reclamation.service.js';

/** Resource Controller operations need the authenticated caller the gateway forwards: they act in its account. */
function callerOf(meta: RpcMeta): Caller {
  if (!meta.caller) throw new DomainError('UNAUTHORIZED', 'This operation needs an authenticated caller');
  return meta.caller;
}

const empty = {} as const;

@Controller()
export class LifecycleRpcController {
  constructor(
    @Inject(dataSourceToken('lifecycle')) private readonly dataSource: DataSource,
    private readonly instances: InstanceService,
    private readonly reclamations: ReclamationService,
    private readonly plans: PlanService,
  ) {}

  @RpcHandler('lifecycle.health')
  async health(): Promise<HealthResponse> {
    return healthReport('lifecycle', { database: () => pingDatabase(this.dataSource) });
  }

  @RpcHandler('lifecycle.instance.create')
  create(request: ValidatedRequestOf<'lifecycle.instance.create'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.create'>> {
    return this.instances.create(callerOf(meta), request);
  }

  @RpcHandler('lifecycle.instance.get')
  get(request: ValidatedRequestOf<'lifecycle.instance.get'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.get'>> {
    return this.instances.get(callerOf(meta), request.id);
  }

  @RpcHandler('lifecycle.instance.list')
  list(request: ValidatedRequestOf<'lifecycle.instance.list'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.list'>> {
    return this.instances.list(callerOf(meta), request);
  }

  @RpcHandler('lifecycle.instance.update')
  update(request: ValidatedRequestOf<'lifecycle.instance.update'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.update'>> {
    return this.instances.update(callerOf(meta), request);
  }

  @RpcHandler('lifecycle.instance.delete')
  async delete(request: ValidatedRequestOf<'lifecycle.instance.delete'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.delete'>> {
    await this.instances.delete(callerOf(meta), request.id);
    return empty;
  }

  @RpcHandler('lifecycle.instance.lock')
  lock(request: ValidatedRequestOf<'lifecycle.instance.lock'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.lock'>> {
    return this.instances.setLocked(callerOf(meta), request.id, true);
  }

  @RpcHandler('lifecycle.instance.unlock')
  unlock(request: ValidatedRequestOf<'lifecycle.instance.unlock'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.unlock'>> {
    return this.instances.setLocked(callerOf(meta), request.id, false);
  }

  @RpcHandler('lifecycle.reclamation.list')
  listReclamations(request: ValidatedRequestOf<'lifecycle.reclamation.list'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.reclamation.list'>> {
    return this.reclamations.list(callerOf(meta), request);
  }

  @RpcHandler('lifecycle.reclamation.action')
  reclamationAction(request: ValidatedRequestOf<'lifecycle.reclamation.action'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.reclamation.action'>> {
    return this.reclamations.action(callerOf(meta), request);
  }

  @RpcHandler('lifecycle.plan.list')
  listPlans(): Promise<ResponseOf<'lifecycle.plan.list'>> {
    return this.plans.list();
  }

  /** Operator only: the gateway has no route to it (NATS permissions decide who may publish it). */
  @RpcHandler('lifecycle.plan.retire')
  retirePlan(request: ValidatedRequestOf<'lifecycle.plan.retire'>): Promise<ResponseOf<'lifecycle.plan.retire'>> {
    return this.plans.retire(request);
  }
}
