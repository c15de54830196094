import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from './auth/access.decorators.js';
import { SEALBOX_VERSION } from '@sealbox/platform';
import { ReadinessService, type ReadinessReport } from './readiness.service.js';

@ApiTags('Health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the gateway process is up' })
  healthz(): { status: 'ok'; version: string } {
    return { status: 'ok', version: SEALBOX_VERSION };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: NATS connected and every service answered its health subject within 1 s' })
  readyz(): Promise<ReadinessReport> {
    return this.readiness.check();
  }
}
