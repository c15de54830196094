import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ResponseOf } from '@sealbox/contracts';
import { RpcClient } from '@sealbox/platform';
import { objectBody, requestFor } from './body.js';

/** IAM at the root, as iam.cloud.ibm.com serves it. */
@ApiTags('IAM')
@Controller()
export class IamRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('identity/token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange an API key or refresh token for an access token (form-encoded)' })
  token(@Body() body: unknown): Promise<ResponseOf<'iam.token.exchange'>> {
    return this.rpc.send('iam.token.exchange', requestFor('iam.token.exchange', objectBody(body)));
  }

  @Get('identity/keys')
  @ApiOperation({ summary: 'JWKS: public keys that verify access tokens' })
  keys(): Promise<ResponseOf<'iam.jwks.get'>> {
    return this.rpc.send('iam.jwks.get', {});
  }
}
