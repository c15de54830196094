import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock, SchedulerLoop } from '@sealbox/platform';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { ManagedApiKeys } from './managed-api-keys.js';

/**
 * Runs `ManagedApiKeys.sweepExpired` at the clock's time every `apiKeySweepIntervalMs`
 * (`SEALBOX_IAM_APIKEY_SWEEP_INTERVAL_S`), from application bootstrap until module destroy (which
 * waits for a run in progress, so the database is not closed under it). Absent or 0: never (tests
 * call `sweep()` themselves). A tick while a run still goes is skipped; a failed run is logged and
 * the next tick retries. Every replica runs its own: the sweep is safe to run concurrently.
 */
@Injectable()
export class ExpiredApiKeySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: SchedulerLoop;

  constructor(
    @Inject(IAM_OPTIONS) options: IamOptions,
    private readonly keys: ManagedApiKeys,
    private readonly clock: Clock,
  ) {
    this.loop = new SchedulerLoop(options.apiKeySweepIntervalMs ?? 0, clock, [
      { name: 'iam expired API key sweep', runner: { runDue: (now) => keys.sweepExpired(now) } },
    ]);
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  /** One sweep at the clock's now; resolves to the number of keys deleted (the sweep is safe to run concurrently). */
  sweep(): Promise<number> {
    return this.keys.sweepExpired(this.clock.nowMs());
  }
}
