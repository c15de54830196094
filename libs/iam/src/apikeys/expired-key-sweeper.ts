import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock, rootLogger } from '@sealbox/platform';
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
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(IAM_OPTIONS) private readonly options: IamOptions,
    private readonly keys: ManagedApiKeys,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.options.apiKeySweepIntervalMs ?? 0;
    if (interval <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) => rootLogger().warn({ err: error }, 'iam: the expired API key sweep failed; the next run retries'));
    }, interval);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sweep at the clock's now (the one in progress, if any); resolves to the number of keys deleted. */
  sweep(): Promise<number> {
    this.running ??= this.keys.sweepExpired(this.clock.nowMs()).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
