import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock, rootLogger } from '@sealbox/platform';
import { KMS_OPTIONS, type KmsDomainOptions } from '../tokens.js';
import { KeyPurgeScheduler, KeyRotationScheduler, type ScheduledRun } from './key-schedulers.js';

/** What the loop runs: anything with `runDue(now)`. */
export interface DueRunner {
  runDue(now: number): Promise<ScheduledRun>;
}

export interface NamedRunner {
  readonly name: string;
  readonly runner: DueRunner;
}

/**
 * Runs schedulers every `intervalMs` at the clock's time, one after the other. 0 means never (tests
 * call `runDue` themselves). A tick while the previous run still goes is skipped; a failing runner is
 * logged, the others still run, and the next tick retries.
 */
export class SchedulerLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly runners: readonly NamedRunner[],
  ) {}

  /** Whether the interval timer is set. */
  get started(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    // The timer alone does not keep the process alive.
    this.timer.unref();
  }

  /** Stop the timer and wait for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One run of every runner at the clock's now; while one is in progress, that one. */
  tick(): Promise<void> {
    this.running ??= this.runAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runAll(): Promise<void> {
    const now = this.clock.nowMs();
    for (const { name, runner } of this.runners) {
      try {
        await runner.runDue(now);
      } catch (error) {
        rootLogger().warn({ err: error }, `kms: the ${name} scheduler run failed; the next tick retries`);
      }
    }
  }
}

/**
 * The kms schedulers' timer: rotation then purge every `schedulerIntervalMs`
 * (`SEALBOX_KMS_SCHEDULER_INTERVAL_MS`, default 60 s), started when the application has bootstrapped
 * and stopped (waiting for a run in progress) before the database closes. Every replica runs its own:
 * the schedulers are safe to run concurrently.
 */
@Injectable()
export class KmsSchedulerTimer implements OnApplicationBootstrap, OnModuleDestroy {
  readonly loop: SchedulerLoop;

  constructor(
    @Inject(KMS_OPTIONS) options: KmsDomainOptions,
    rotation: KeyRotationScheduler,
    purge: KeyPurgeScheduler,
    clock: Clock,
  ) {
    this.loop = new SchedulerLoop(options.schedulerIntervalMs, clock, [
      { name: 'rotation', runner: rotation },
      { name: 'purge', runner: purge },
    ]);
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }
}
