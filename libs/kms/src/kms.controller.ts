import { Controller, Inject, type OnApplicationShutdown } from '@nestjs/common';
import type { HealthResponse } from '@sealbox/contracts';
import { dataSourceToken, healthReport, pingDatabase, RpcHandler } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import type { HsmProbe } from './hsm-probe.js';
import { HSM_PROBE } from './tokens.js';

@Controller()
export class KmsRpcController implements OnApplicationShutdown {
  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(HSM_PROBE) private readonly hsm: HsmProbe,
  ) {}

  @RpcHandler('kms.health')
  async health(): Promise<HealthResponse> {
    return healthReport('kms', { database: () => pingDatabase(this.dataSource), hsm: () => this.hsm.check() });
  }

  onApplicationShutdown(): void {
    this.hsm.close();
  }
}
