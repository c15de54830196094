import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RpcClient, type Caller } from '@sealbox/platform';
import { CurrentCaller, param, RequiresAction, type RouteRequest } from '../auth/access.decorators.js';
import { objectBody } from './body.js';

const instance = (request: RouteRequest) => ({ serviceName: 'secrets-manager', serviceInstance: param(request, 'instance') });
const secret = (request: RouteRequest) => ({ ...instance(request), resourceType: 'secret', resource: param(request, 'id') });

/** Secrets Manager v2, one instance per path prefix. */
@ApiTags('Secrets Manager')
@Controller('secrets-manager/:instance/api/v2')
export class SecretsManagerRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('secrets')
  @RequiresAction('secrets-manager.secret.create', instance)
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a secret' })
  create(@Param('instance') instanceId: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<Record<string, unknown>> {
    return this.rpc.send('secrets.secret.create', { ...objectBody(body), instance: instanceId }, { caller });
  }

  @Get('secrets/:id')
  @RequiresAction('secrets-manager.secret.read', secret, { deniedAs: 'NOT_FOUND' })
  @ApiOperation({ summary: 'Get a secret with its payload' })
  get(@Param('instance') instanceId: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<Record<string, unknown>> {
    return this.rpc.send('secrets.secret.get', { instance: instanceId, id }, { caller });
  }
}
