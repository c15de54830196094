import { Controller, Inject } from '@nestjs/common';
import type { HealthResponse } from '@sealbox/contracts';
import { dataSourceToken, healthReport, pingDatabase, RpcHandler } from '@sealbox/platform';
import type { DataSource } from 'typeorm';

@Controller()
export class LifecycleRpcController {
  constructor(@Inject(dataSourceToken('lifecycle')) private readonly dataSource: DataSource) {}

  @RpcHandler('lifecycle.health')
  async health(): Promise<HealthResponse> {
    return healthReport('lifecycle', { database: () => pingDatabase(this.dataSource) });
  }
}
