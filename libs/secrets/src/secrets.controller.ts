import { Controller, Inject } from '@nestjs/common';
import type { HealthResponse } from '@sealbox/contracts';
import { dataSourceToken, healthReport, pingDatabase, RpcHandler } from '@sealbox/platform';
import type { DataSource } from 'typeorm';

@Controller()
export class SecretsRpcController {
  constructor(@Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource) {}

  @RpcHandler('secrets.health')
  async health(): Promise<HealthResponse> {
    return healthReport('secrets', { database: () => pingDatabase(this.dataSource) });
  }
}
