import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DomainError, RpcClient, type Caller } from '@sealbox/platform';
import { CurrentCaller, header, param, RequiresAction, type RouteRequest } from '../auth/access.decorators.js';
import { objectBody, requestFor } from './body.js';

const keyResource = (request: RouteRequest) => ({
  serviceName: 'kms',
  serviceInstance: header(request, 'bluemix-instance'),
  resourceType: 'key',
  resource: param(request, 'id'),
});

/** Key Protect v2 under /kms; the instance travels in the `Bluemix-Instance` header. */
@ApiTags('Key Protect')
@Controller('kms/api/v2')
export class KmsRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('keys/:id/actions/wrap')
  @RequiresAction('kms.key.wrap', keyResource, { deniedAs: 'NOT_FOUND' })
  @HttpCode(200)
  @ApiOperation({ summary: 'Wrap a data key' })
  wrap(@Param('id') id: string, @Headers('bluemix-instance') instance: string | undefined, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    return this.rpc.send('kms.api.key.wrap', requestFor('kms.api.key.wrap', { ...objectBody(body), instanceId: requireInstance(instance), id }), { caller });
  }

  @Post('keys/:id/actions/unwrap')
  @RequiresAction('kms.key.unwrap', keyResource, { deniedAs: 'NOT_FOUND' })
  @HttpCode(200)
  @ApiOperation({ summary: 'Unwrap a data key' })
  unwrap(@Param('id') id: string, @Headers('bluemix-instance') instance: string | undefined, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    return this.rpc.send('kms.api.key.unwrap', requestFor('kms.api.key.unwrap', { ...objectBody(body), instanceId: requireInstance(instance), id }), { caller });
  }
}

function requireInstance(instance: string | undefined): string {
  if (!instance) {
    throw new DomainError('VALIDATION_FAILED', 'The Bluemix-Instance header is required', [
      { field: 'Bluemix-Instance', message: 'required header' },
    ]);
  }
  return instance;
}
