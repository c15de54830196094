import { Controller, Inject } from '@nestjs/common';
import type { HealthResponse } from '@sealbox/contracts';
import { healthReport, RpcHandler } from '@sealbox/platform';
import { OBJECT_STORE_PROBE } from './tokens.js';

@Controller()
export class StorageRpcController {
  constructor(@Inject(OBJECT_STORE_PROBE) private readonly probe: () => Promise<void>) {}

  @RpcHandler('storage.health')
  async health(): Promise<HealthResponse> {
    return healthReport('storage', { objectStore: this.probe });
  }
}
