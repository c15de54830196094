import { Inject, Injectable } from '@nestjs/common';
import { dataSourceToken, rootLogger } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { InstanceRegistry } from '../../../registry/instance-registry.js';
import { PrivateCertEngine } from './engine.js';
import { seconds } from './policy.js';

/** CRLs are re-signed once less than a third of their validity is left. */
const REFRESH_FRACTION = 1 / 3;
/** How far ahead the scheduler looks: the longest CRL validity it refreshes early (30 days). */
const LOOKAHEAD_MS = 30 * 86_400_000;
const BATCH = 100;
const DEFAULT_CRL_EXPIRY_SECONDS = 72 * 3600;

/** Keeps every CA's CRL valid: a CRL whose nextUpdate comes within a third of its validity is re-signed. */
@Injectable()
export class CrlRefreshScheduler {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    private readonly engine: PrivateCertEngine,
    private readonly instances: InstanceRegistry,
  ) {}

  async runDue(now: number): Promise<{ done: number; failed: number }> {
    const run = { done: 0, failed: 0 };
    for (const ca of await this.engine.dueCrls(now + LOOKAHEAD_MS, BATCH)) {
      const validityMs = (seconds(ca.settings['crl_expiry'] as string | undefined) ?? DEFAULT_CRL_EXPIRY_SECONDS) * 1000;
      if (ca.crlNextUpdate !== null && ca.crlNextUpdate - now > validityMs * REFRESH_FRACTION) continue;
      try {
        const instance = await this.instances.requireActive(this.dataSource.manager, ca.accountId, ca.instanceGuid);
        await this.engine.refreshCrl(instance, { accountId: ca.accountId, instanceGuid: ca.instanceGuid }, ca.name, now);
        run.done += 1;
      } catch (error) {
        run.failed += 1;
        rootLogger().warn({ err: error, instanceId: ca.instanceGuid, name: ca.name }, 'secrets: could not re-sign a CRL; the next run retries');
      }
    }
    if (run.done || run.failed) rootLogger().info(run, 'secrets: CRL refresh run');
    return run;
  }
}
