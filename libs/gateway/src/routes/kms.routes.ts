import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DomainError, RpcClient } from '@sealbox/platform';
import { objectBody } from './body.js';

/** Key Protect v2 under /kms; the instance travels in the `Bluemix-Instance` header. */
@ApiTags('Key Protect')
@Controller('kms/api/v2')
export class KmsRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('keys/:id/actions/:action')
  @HttpCode(200)
  @ApiOperation({ summary: 'Key actions (wrap, unwrap)' })
  action(
    @Param('id') id: string,
    @Param('action') action: string,
    @Headers('bluemix-instance') instance: string | undefined,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    if (!instance) throw new DomainError('VALIDATION_FAILED', 'The Bluemix-Instance header is required', [
      { field: 'Bluemix-Instance', message: 'required header' },
    ]);
    const request = { ...objectBody(body), instance, id };
    switch (action) {
      case 'wrap':
        return this.rpc.send('kms.key.wrap', request);
      case 'unwrap':
        return this.rpc.send('kms.key.unwrap', request);
      default:
        throw new DomainError('NOT_FOUND', `Key action ${action} does not exist`);
    }
  }
}
