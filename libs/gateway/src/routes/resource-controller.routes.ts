import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ResponseOf } from '@sealbox/contracts';
import { RpcClient, type Caller } from '@sealbox/platform';
import { CurrentCaller, RequiresAction } from '../auth/access.decorators.js';
import { objectBody, requestFor } from './body.js';

/** Resource Controller v2 at the root. `id` may be a GUID or a percent-encoded CRN (with `%2F`). */
@ApiTags('Resource Controller')
@Controller('v2/resource_instances')
export class ResourceControllerRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @RequiresAction('resource-controller.instance.create', () => ({ serviceName: 'resource-controller' }))
  @HttpCode(201)
  @ApiOperation({ summary: 'Provision a resource instance' })
  create(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.instance.create'>> {
    return this.rpc.send('lifecycle.instance.create', requestFor('lifecycle.instance.create', { body: objectBody(body) }), { caller });
  }

  @Get(':id')
  @RequiresAction('resource-controller.instance.read', () => ({ serviceName: 'resource-controller' }), { deniedAs: 'NOT_FOUND' })
  @ApiOperation({ summary: 'Get a resource instance by GUID or CRN' })
  get(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'lifecycle.instance.get'>> {
    return this.rpc.send('lifecycle.instance.get', { id }, { caller });
  }
}
