import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { LifecycleWire, type ResponseOf } from '@sealbox/contracts';
import { RpcClient, validationFailed, type Caller } from '@sealbox/platform';
import { Authenticated, CurrentCaller, param, RequiresAction, type RouteRequest } from '../auth/access.decorators.js';
import { Operation, Tag } from '../openapi/operation.js';
import { checked, objectBody, queryOf, requestFor } from './body.js';

const account = () => ({ serviceName: 'resource-controller' });
/** One reclamation: policies on the Resource Controller of the account grant it (a reclamation names no instance in its path). */
const reclamation = (request: RouteRequest) => ({ serviceName: 'resource-controller', resourceType: 'reclamation', resource: param(request, 'id') });

/** The path parameters under IBM's names, for errors. */
const ACTION_PATH = { id: 'id', action: 'action_name' } as const;

/**
 * Reclamations of the Resource Controller (`/v1/reclamations`, as `ResourceControllerV2` calls them):
 * an instance deleted on a plan with reclamation waits here, `SCHEDULED`, until it is restored,
 * reclaimed, or its `target_time` passes. Restoring needs `resource-controller.reclamation.restore`
 * (Editor), reclaiming `resource-controller.reclamation.reclaim` (Administrator).
 */
@Tag('Resource Controller', { id: 'The id of the reclamation' })
@Controller('v1/reclamations')
export class ReclamationRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @RequiresAction('resource-controller.reclamation.list', account)
  @Operation({ summary: 'List reclamations of the account (account_id, resource_instance_id, resource_group_id)', subject: 'lifecycle.reclamation.list', query: LifecycleWire.ListReclamationsQuery })
  list(@Query() query: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.reclamation.list'>> {
    const request = requestFor('lifecycle.reclamation.list', { query: checked(LifecycleWire.ListReclamationsQuery, queryOf(query)) });
    return this.rpc.send('lifecycle.reclamation.list', request, { caller });
  }

  @Post(':id/actions/restore')
  @RequiresAction('resource-controller.reclamation.restore', reclamation)
  @HttpCode(200)
  @Operation({ summary: 'Restore a SCHEDULED reclamation: the instance becomes active again (409 when not SCHEDULED)', subject: 'lifecycle.reclamation.action', body: LifecycleWire.ReclamationActionBody, bodyRequired: false })
  restore(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.reclamation.action'>> {
    return this.run(id, 'restore', body, caller);
  }

  @Post(':id/actions/reclaim')
  @RequiresAction('resource-controller.reclamation.reclaim', reclamation)
  @HttpCode(200)
  @Operation({ summary: 'Reclaim: permanently delete the instance now (a resumable saga; 403 under purge protection before target_time)', subject: 'lifecycle.reclamation.action', body: LifecycleWire.ReclamationActionBody, bodyRequired: false })
  reclaim(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.reclamation.action'>> {
    return this.run(id, 'reclaim', body, caller);
  }

  /** Any other action name: 400 naming `action_name` (the static routes above win over this one). */
  @Post(':id/actions/:action_name')
  @Authenticated('resource-controller.reclamation.action')
  @Operation({ summary: 'Unknown reclamation action: 400 (only restore and reclaim exist)', response: null })
  unknownAction(@Param('action_name') action: string): never {
    throw validationFailed([{ field: 'action_name', message: `must be one of ${LifecycleWire.ReclamationActions.join(', ')} (got "${action.slice(0, 64)}")` }]);
  }

  private run(id: string, action: LifecycleWire.ReclamationAction, body: unknown, caller: Caller): Promise<ResponseOf<'lifecycle.reclamation.action'>> {
    // The SDK sends `{}` when request_by and comment are absent.
    const request = requestFor('lifecycle.reclamation.action', { id, action, body: checked(LifecycleWire.ReclamationActionBody, objectBody(body)) }, ACTION_PATH);
    return this.rpc.send('lifecycle.reclamation.action', request, { caller });
  }
}

/**
 * The plan catalog (a Sealbox extension: IBM serves plans from its Global Catalog). Plans are the
 * deployment's configuration, the same for every account, so any authenticated caller may read them.
 * Retiring a plan affects every account and so is an operator operation on NATS only
 * (`lifecycle.plan.retire`), like creating accounts.
 */
@Tag('Resource Controller', { id: 'The id of the reclamation' })
@Controller('v1/plans')
export class PlanRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @Authenticated('resource-controller.plan.list')
  @Operation({ summary: 'The plan catalog: id, name, service, reclamation, retentionSeconds, retired (Sealbox extension)', subject: 'lifecycle.plan.list' })
  list(@CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.plan.list'>> {
    return this.rpc.send('lifecycle.plan.list', {}, { caller });
  }
}
