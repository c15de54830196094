import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RpcClient } from '@sealbox/platform';
import { objectBody } from './body.js';

/** Resource Controller v2 at the root. `id` may be a GUID or a percent-encoded CRN (with `%2F`). */
@ApiTags('Resource Controller')
@Controller('v2/resource_instances')
export class ResourceControllerRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Provision a resource instance' })
  create(@Body() body: unknown): Promise<Record<string, unknown>> {
    return this.rpc.send('lifecycle.instance.create', objectBody(body));
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a resource instance by GUID or CRN' })
  get(@Param('id') id: string): Promise<Record<string, unknown>> {
    return this.rpc.send('lifecycle.instance.get', { id });
  }
}
