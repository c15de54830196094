import { Controller, Get, Redirect } from '@nestjs/common';
import { SEALBOX_VERSION } from '@sealbox/platform';
import { Public } from './auth/access.decorators.js';
import { Operation, Tag } from './openapi/operation.js';
import { ReadinessService } from './readiness.service.js';
import { Liveness, ReadinessReport } from './wire.js';

@Tag('Health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('healthz')
  @Operation({ summary: 'Liveness: the gateway process is up', response: Liveness })
  healthz(): Liveness {
    return { status: 'ok', version: SEALBOX_VERSION };
  }

  @Get('readyz')
  @Operation({ summary: 'Readiness: NATS connected and every service answered its health subject within 1 s (else 503)', response: ReadinessReport })
  readyz(): Promise<ReadinessReport> {
    return this.readiness.check();
  }

  /** Where a browser pointed at the gateway lands: the API docs (a console, when there is one). */
  @Get()
  @Redirect('/docs', 302)
  @Operation({ summary: 'Redirect to the API docs', response: null })
  root(): void {}
}
