import { Inject, Injectable } from '@nestjs/common';
import { healthSubject, ServiceNames, type ServiceName } from '@sealbox/contracts';
import { DomainError, rootLogger, RpcClient, TRANSPORT_STATUS, type TransportStatus } from '@sealbox/platform';
import { RevocationList } from './auth/revocations.js';
import type { ReadinessReport, ServiceReadiness } from './wire.js';

export const READINESS_TIMEOUT_MS = 1000;

export type { ReadinessReport, ServiceReadiness } from './wire.js';

/**
 * Ready = the transport is connected and every service answered its health subject, healthy, within 1 s.
 * The public only learns ready / not ready, so the reason is logged (once per change) for the operator.
 */
@Injectable()
export class ReadinessService {
  private lastReason: string | undefined;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(TRANSPORT_STATUS) private readonly transport: TransportStatus,
    private readonly revocations: RevocationList,
  ) {}

  async check(): Promise<ReadinessReport> {
    try {
      const report = await this.evaluate();
      this.noteReason(undefined);
      return report;
    } catch (error) {
      if (error instanceof DomainError) this.noteReason(error.message);
      throw error;
    }
  }

  private noteReason(reason: string | undefined): void {
    if (reason === this.lastReason) return;
    if (reason === undefined) rootLogger().info('readiness: ready');
    else rootLogger().warn({ reason }, `readiness: ${reason}`);
    this.lastReason = reason;
  }

  private async evaluate(): Promise<ReadinessReport> {
    if (!this.transport.isConnected()) {
      throw new DomainError('SERVICE_UNAVAILABLE', `Not ready: ${this.transport.describe()}`);
    }
    const results = await Promise.all(ServiceNames.map((service) => this.probe(service)));
    const services = Object.fromEntries(ServiceNames.map((service, index) => [service, results[index]])) as Record<
      ServiceName,
      ServiceReadiness
    >;
    const missing = ServiceNames.filter((service) => !services[service].ok).map(
      (service) => `${service} (${services[service].detail ?? 'not ok'})`,
    );
    if (missing.length) throw new DomainError('SERVICE_UNAVAILABLE', `Not ready: ${missing.join(', ')}`);
    // Authenticated requests wait for the token revocations: not ready until they are loaded once.
    if (!this.revocations.loaded) {
      await this.revocations.reconcile().catch(() => {
        throw new DomainError('SERVICE_UNAVAILABLE', 'Not ready: token revocations not loaded from iam yet');
      });
    }
    return { status: 'ready', transport: this.transport.describe(), services };
  }

  private async probe(service: ServiceName): Promise<ServiceReadiness> {
    try {
      const health = await this.rpc.send(healthSubject(service), {}, { timeoutMs: READINESS_TIMEOUT_MS });
      const failing = Object.entries(health.checks)
        .filter(([, check]) => !check.ok)
        .map(([name, check]) => `${name}: ${check.detail ?? 'failed'}`);
      return {
        ok: health.status === 'ok',
        version: health.version,
        replica: health.replica,
        ...(failing.length ? { detail: failing.join('; ') } : {}),
      };
    } catch (error) {
      return {
        ok: false,
        detail: error instanceof DomainError && error.code === 'SERVICE_UNAVAILABLE' ? 'no answer' : 'error',
      };
    }
  }
}
