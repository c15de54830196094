import { Controller, Inject } from '@nestjs/common';
import type { HealthResponse } from '@sealbox/contracts';
import { dataSourceToken, healthReport, pingDatabase, RpcHandler } from '@sealbox/platform';
import type { DataSource } from 'typeorm';

@Controller()
export class IamRpcController {
  constructor(@Inject(dataSourceToken('iam')) private readonly dataSource: DataSource) {}

  @RpcHandler('iam.health')
  async health(): Promise<HealthResponse> {
    return healthReport('iam', { database: () => pingDatabase(this.dataSource) });
  }
}
