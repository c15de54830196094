import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { LifecycleWire, type Action, type ResponseOf } from '@sealbox/contracts';
import { RpcClient, validationFailed, type Caller } from '@sealbox/platform';
import { CurrentCaller, param, RequiresAction, type RouteRequest } from '../auth/access.decorators.js';
import { Operation, requestBody, Tag } from '../openapi/operation.js';
import { checked, objectBody, pathOf, queryOf, requestFor } from './body.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The GUID an instance id names: the id itself, or the 8th field of a CRN
 * (`crn:v1:sealbox:public:<service>:<region>:a/<account>:<guid>::`). Anything else is passed on as
 * it is (lifecycle answers 404 for it).
 */
export function instanceGuidOf(id: string): string {
  if (GUID.test(id)) return id.toLowerCase();
  const fields = id.split(':');
  const guid = fields[0] === 'crn' && fields.length >= 8 ? fields[7] : undefined;
  return guid ? guid.toLowerCase() : id;
}

/** The account-level Resource Controller: the collection, and provisioning. */
const account = () => ({ serviceName: 'resource-controller' });
/**
 * One instance: a policy on the Resource Controller (account) or on this instance of it
 * (`serviceInstance` = the instance GUID, also when the path names it by CRN) grants access.
 */
const instance = (request: RouteRequest) => ({ serviceName: 'resource-controller', serviceInstance: instanceGuidOf(param(request, 'id')) });

/** Reading one instance: denied like an instance that does not exist (404). */
const readingInstance = (action: Action) => RequiresAction(action, instance, { deniedAs: 'NOT_FOUND' });
/** A change to one instance: denied with 403. */
const changingInstance = (action: Action) => RequiresAction(action, instance);

/** `true` / `false` as the SDK sends booleans in a header or a query string; absent → undefined. */
function booleanOf(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === true) return true;
  if (value === 'false' || value === false) return false;
  throw validationFailed([{ field: name, message: 'must be true or false' }]);
}

/** What the list route reads of the request: its URL, whose path `next_url` repeats. */
interface ListRequest {
  readonly url: string;
}

/**
 * Resource Controller v2 at the root (`serviceUrl` = the gateway), as `ResourceControllerV2` calls it.
 * `id` is a GUID or a percent-encoded CRN (`%2F` included; the router decodes it). Bodies and query
 * strings are checked here against LifecycleWire, so a bad field is named as the client wrote it.
 */
@Tag('Resource Controller', { id: 'The GUID of the instance, or its CRN percent-encoded' })
@Controller('v2/resource_instances')
export class ResourceControllerRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @RequiresAction('resource-controller.instance.create', account)
  @HttpCode(201)
  @Operation({ summary: 'Provision a resource instance (Entity-Lock: true creates it locked)', subject: 'lifecycle.instance.create', body: LifecycleWire.CreateResourceInstanceBody })
  create(
    @Body() body: unknown,
    @Headers('entity-lock') entityLock: string | undefined,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'lifecycle.instance.create'>> {
    const created = checked(LifecycleWire.CreateResourceInstanceBody, objectBody(body));
    const lock = booleanOf(entityLock, 'Entity-Lock');
    const request = requestFor('lifecycle.instance.create', { body: created, ...(lock === undefined ? {} : { entityLock: lock }) });
    return this.rpc.send('lifecycle.instance.create', request, { caller });
  }

  @Get()
  @RequiresAction('resource-controller.instance.list', account)
  @Operation({ summary:
      'List resource instances (guid, name, resource_group_id, resource_id, resource_plan_id, type, sub_type, state, updated_from, updated_to, limit, start); next_url is null on the last page', subject: 'lifecycle.instance.list', query: LifecycleWire.ListResourceInstancesQuery })
  list(@Query() query: unknown, @Req() http: ListRequest, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.instance.list'>> {
    const request = requestFor('lifecycle.instance.list', { path: pathOf(http), query: checked(LifecycleWire.ListResourceInstancesQuery, queryOf(query)) });
    return this.rpc.send('lifecycle.instance.list', request, { caller });
  }

  @Get(':id')
  @readingInstance('resource-controller.instance.read')
  @Operation({ summary: 'Get a resource instance by GUID or percent-encoded CRN (a removed one answers with state: removed)', subject: 'lifecycle.instance.get' })
  get(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.instance.get'>> {
    return this.rpc.send('lifecycle.instance.get', requestFor('lifecycle.instance.get', { id }), { caller });
  }

  @Patch(':id')
  @changingInstance('resource-controller.instance.update')
  @Operation({ summary: 'Update a resource instance: name, parameters, resource_plan_id, allow_cleanup (400 while locked)', subject: 'lifecycle.instance.update', body: LifecycleWire.UpdateResourceInstanceBody })
  update(@Param('id') id: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.instance.update'>> {
    const changes = checked(LifecycleWire.UpdateResourceInstanceBody, objectBody(body));
    return this.rpc.send('lifecycle.instance.update', requestFor('lifecycle.instance.update', { id, body: changes }), { caller });
  }

  @Delete(':id')
  @changingInstance('resource-controller.instance.delete')
  @HttpCode(204)
  @Operation({ summary: 'Delete a resource instance: into reclamation on plans that have it (recursive; 400 while locked, 410 when removed)', subject: 'lifecycle.instance.delete', query: requestBody('lifecycle.instance.delete', 'id') })
  async delete(@Param('id') id: string, @Query() query: unknown, @CurrentCaller() caller: Caller): Promise<void> {
    const recursive = booleanOf(queryOf(query)['recursive'], 'recursive');
    const request = requestFor('lifecycle.instance.delete', { id, ...(recursive === undefined ? {} : { recursive }) });
    await this.rpc.send('lifecycle.instance.delete', request, { caller });
  }

  @Post(':id/lock')
  @changingInstance('resource-controller.instance.lock')
  @HttpCode(200)
  @Operation({ summary: 'Lock a resource instance against update and delete', subject: 'lifecycle.instance.lock' })
  lock(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.instance.lock'>> {
    return this.rpc.send('lifecycle.instance.lock', requestFor('lifecycle.instance.lock', { id }), { caller });
  }

  @Delete(':id/lock')
  @changingInstance('resource-controller.instance.lock')
  @HttpCode(200)
  @Operation({ summary: 'Unlock a resource instance', subject: 'lifecycle.instance.unlock' })
  unlock(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.instance.unlock'>> {
    return this.rpc.send('lifecycle.instance.unlock', requestFor('lifecycle.instance.unlock', { id }), { caller });
  }
}
