import { Controller, Inject } from '@nestjs/common';
import type { HealthResponse, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { dataSourceToken, healthReport, pingDatabase, RpcHandler, type RpcMeta } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { SecretGroupService } from './registry/group.service.js';
import { InstanceRegistry } from './registry/instance-registry.js';
import { callerOf } from './registry/rules.js';

@Controller()
export class SecretsRpcController {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    private readonly instances: InstanceRegistry,
    private readonly groups: SecretGroupService,
  ) {}

  @RpcHandler('secrets.health')
  async health(): Promise<HealthResponse> {
    return healthReport('secrets', { database: () => pingDatabase(this.dataSource) });
  }

  // ---------- instance registry (service to service: lifecycle) ----------

  @RpcHandler('secrets.instance.activate')
  activateInstance(request: ValidatedRequestOf<'secrets.instance.activate'>): Promise<ResponseOf<'secrets.instance.activate'>> {
    return this.instances.activate(request);
  }

  @RpcHandler('secrets.instance.get')
  getInstance(request: ValidatedRequestOf<'secrets.instance.get'>): Promise<ResponseOf<'secrets.instance.get'>> {
    return this.instances.get(request.instanceGuid);
  }

  @RpcHandler('secrets.instance.set-plan')
  setInstancePlan(request: ValidatedRequestOf<'secrets.instance.set-plan'>): Promise<ResponseOf<'secrets.instance.set-plan'>> {
    return this.instances.setPlan(request);
  }

  @RpcHandler('secrets.instance.set-state')
  setInstanceState(request: ValidatedRequestOf<'secrets.instance.set-state'>): Promise<ResponseOf<'secrets.instance.set-state'>> {
    return this.instances.setState(request);
  }

  // ---------- secret groups (for the caller the gateway forwards) ----------

  @RpcHandler('secrets.group.create')
  createGroup(request: ValidatedRequestOf<'secrets.group.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.create'>> {
    return this.groups.create(callerOf(meta), request);
  }

  @RpcHandler('secrets.group.list')
  listGroups(request: ValidatedRequestOf<'secrets.group.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.list'>> {
    return this.groups.list(callerOf(meta), request);
  }

  @RpcHandler('secrets.group.get')
  getGroup(request: ValidatedRequestOf<'secrets.group.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.get'>> {
    return this.groups.get(callerOf(meta), request);
  }

  @RpcHandler('secrets.group.update')
  updateGroup(request: ValidatedRequestOf<'secrets.group.update'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.update'>> {
    return this.groups.update(callerOf(meta), request);
  }

  @RpcHandler('secrets.group.delete')
  deleteGroup(request: ValidatedRequestOf<'secrets.group.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.delete'>> {
    return this.groups.delete(callerOf(meta), request);
  }
}
