import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ResponseOf } from '@sealbox/contracts';
import { RpcClient, type Caller } from '@sealbox/platform';
import { CurrentCaller, param, RequiresAction, type RouteRequest } from '../auth/access.decorators.js';
import { objectBody, requestFor } from './body.js';

const instance = (request: RouteRequest) => ({ serviceName: 'secrets-manager', serviceInstance: param(request, 'instance') });
const secret = (request: RouteRequest) => ({ ...instance(request), resourceType: 'secret', resource: param(request, 'id') });

/**
 * Secrets Manager v2, one instance per path prefix (`{serviceUrl}/secrets-manager/{instance_guid}`).
 * Secret groups are checked on the instance; reading one group the caller may not read answers 404,
 * like a group that does not exist.
 */
@ApiTags('Secrets Manager')
@Controller('secrets-manager/:instance/api/v2')
export class SecretsManagerRoutes {
  constructor(private readonly rpc: RpcClient) {}

  // ---- secret groups ----

  @Post('secret_groups')
  @RequiresAction('secrets-manager.secret-group.create', instance)
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a secret group (name unique in the instance)' })
  createGroup(@Param('instance') instanceGuid: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.create'>> {
    const request = requestFor('secrets.group.create', { ...objectBody(body), instanceGuid });
    return this.rpc.send('secrets.group.create', request, { caller });
  }

  @Get('secret_groups')
  @RequiresAction('secrets-manager.secret-group.list', instance)
  @ApiOperation({ summary: 'List the secret groups of the instance (default first)' })
  listGroups(@Param('instance') instanceGuid: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.list'>> {
    return this.rpc.send('secrets.group.list', requestFor('secrets.group.list', { instanceGuid }), { caller });
  }

  @Get('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.read', instance, { deniedAs: 'NOT_FOUND' })
  @ApiOperation({ summary: 'Get a secret group' })
  getGroup(@Param('instance') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.group.get'>> {
    return this.rpc.send('secrets.group.get', requestFor('secrets.group.get', { instanceGuid, id }), { caller });
  }

  @Patch('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.update', instance)
  @ApiOperation({ summary: 'Update the name or description of a secret group (application/merge-patch+json)' })
  updateGroup(
    @Param('instance') instanceGuid: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ResponseOf<'secrets.group.update'>> {
    const request = requestFor('secrets.group.update', { ...objectBody(body), instanceGuid, id });
    return this.rpc.send('secrets.group.update', request, { caller });
  }

  @Delete('secret_groups/:id')
  @RequiresAction('secrets-manager.secret-group.delete', instance)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an empty secret group (not default)' })
  async deleteGroup(@Param('instance') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.rpc.send('secrets.group.delete', requestFor('secrets.group.delete', { instanceGuid, id }), { caller });
  }

  // ---- secrets ----

  @Post('secrets')
  @RequiresAction('secrets-manager.secret.create', instance)
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a secret' })
  create(@Param('instance') instanceGuid: string, @Body() body: unknown, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.create'>> {
    return this.rpc.send('secrets.secret.create', requestFor('secrets.secret.create', { instanceGuid, secret: objectBody(body) }), { caller });
  }

  @Get('secrets/:id')
  @RequiresAction('secrets-manager.secret.read', secret, { deniedAs: 'NOT_FOUND' })
  @ApiOperation({ summary: 'Get a secret with its payload' })
  get(@Param('instance') instanceGuid: string, @Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ResponseOf<'secrets.secret.get'>> {
    return this.rpc.send('secrets.secret.get', requestFor('secrets.secret.get', { instanceGuid, id }), { caller });
  }
}
