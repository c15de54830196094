import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RpcClient } from '@sealbox/platform';
import { objectBody } from './body.js';

/** Secrets Manager v2, one instance per path prefix. */
@ApiTags('Secrets Manager')
@Controller('secrets-manager/:instance/api/v2')
export class SecretsManagerRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post('secrets')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a secret' })
  create(@Param('instance') instance: string, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.rpc.send('secrets.secret.create', { ...objectBody(body), instance });
  }

  @Get('secrets/:id')
  @ApiOperation({ summary: 'Get a secret with its payload' })
  get(@Param('instance') instance: string, @Param('id') id: string): Promise<Record<string, unknown>> {
    return this.rpc.send('secrets.secret.get', { instance, id });
  }
}
