import { Controller, Get, Redirect, Req } from '@nestjs/common';
import { DomainError, SEALBOX_VERSION } from '@sealbox/platform';
import { header, Public, type RouteRequest } from './auth/access.decorators.js';
import { DecisionService } from './auth/decision.service.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { ConsoleAssets } from './console.js';
import { Operation, Tag } from './openapi/operation.js';
import { ReadinessService } from './readiness.service.js';
import { Liveness, Readiness, type PublicReadiness, type ReadinessReport } from './wire.js';

@Tag('Health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly tokens: TokenVerifier,
    private readonly decisions: DecisionService,
    private readonly console: ConsoleAssets,
  ) {}

  @Get('healthz')
  @Operation({ summary: 'Liveness: the gateway process is up', response: Liveness })
  healthz(): Liveness {
    return { status: 'ok', version: SEALBOX_VERSION };
  }

  /**
   * Readiness for probes: 200 `{status: 'ready'}` or 503 "not ready". The report behind it (transport,
   * every service's version, replica and failing checks) only goes to a caller whose token is allowed
   * `sealbox.readiness.read` (administrators); a missing or bad token is simply the public answer.
   */
  @Get('readyz')
  @Operation({
    summary: 'Readiness: NATS connected, every service answered its health subject within 1 s and the token revocations are loaded (else 503); the details for administrators',
    response: Readiness,
  })
  async readyz(@Req() request: RouteRequest): Promise<ReadinessReport | PublicReadiness> {
    const detailed = await this.mayReadDetails(header(request, 'authorization'));
    try {
      const report = await this.readiness.check();
      return detailed ? report : { status: report.status };
    } catch (error) {
      if (detailed || !(error instanceof DomainError)) throw error;
      throw new DomainError(error.code, 'Not ready');
    }
  }

  /** Where a browser pointed at the gateway lands: the web console when it is built, else the API docs. */
  @Get()
  @Redirect('/docs', 302)
  @Operation({ summary: 'Redirect to the web console (/console/), or to the API docs (/docs) when the console is not built', response: null })
  root(): { url: string } {
    return { url: this.console.home };
  }

  private async mayReadDetails(authorization: string): Promise<boolean> {
    if (!authorization) return false;
    try {
      const caller = await this.tokens.verify(authorization);
      const decision = await this.decisions.decide(caller, 'sealbox.readiness.read', { accountId: caller.accountId, serviceName: 'sealbox' });
      return decision.allowed;
    } catch {
      return false;
    }
  }
}
