import { Controller, Inject, type OnApplicationShutdown } from '@nestjs/common';
import type { HealthResponse } from '@sealbox/contracts';
import type { Hsm } from '@sealbox/hsm';
import { dataSourceToken, healthReport, pingDatabase, RpcHandler } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { KMS_HSM } from './tokens.js';

/** The HSM as kms holds it: the port, plus the backends' health probe when there is one. */
type ProbedHsm = Hsm & { open?(): Promise<void> };

@Controller()
export class KmsRpcController implements OnApplicationShutdown {
  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(KMS_HSM) private readonly hsm: ProbedHsm,
  ) {}

  @RpcHandler('kms.health')
  async health(): Promise<HealthResponse> {
    return healthReport('kms', {
      database: () => pingDatabase(this.dataSource),
      hsm: async () => {
        await this.hsm.open?.();
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.hsm.close();
  }
}
