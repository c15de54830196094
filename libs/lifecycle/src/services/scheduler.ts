import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock, dataSourceToken, rootLogger, SchedulerLoop } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { LifecycleStore } from '../persistence/store.js';
import { LIFECYCLE_OPTIONS, type LifecycleDomainOptions } from '../tokens.js';
import { PlanService } from './plan.service.js';
import { ReclamationService } from './reclamation.service.js';
import { SagaRunner } from './saga-runner.js';

/** What one scheduler run did. */
export interface SchedulerRun {
  /** Unfinished sagas taken over and run (crashed replicas, retries, blocked ones). */
  resumed: number;
  /** Due reclamations whose permanent delete ran. */
  reclaimed: number;
  /** Instances of a retired plan deleted again for not changing plan in time. */
  planChangesMissed: number;
}

/**
 * The lifecycle scheduler, on the injected clock: resume unfinished sagas, sweep due reclamations
 * (indexed query, bounded batches), delete restored instances of retired plans that missed their plan
 * change. Runs at start and every `schedulerIntervalMs` (0: never by itself; tests call `runDue`).
 * Every replica runs its own: claims are conditional updates, so two replicas never run one saga.
 */
@Injectable()
export class LifecycleScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: SchedulerLoop;

  constructor(
    @Inject(dataSourceToken('lifecycle')) private readonly dataSource: DataSource,
    @Inject(LIFECYCLE_OPTIONS) private readonly options: LifecycleDomainOptions,
    private readonly sagas: SagaRunner,
    private readonly reclamations: ReclamationService,
    private readonly plans: PlanService,
    clock: Clock,
  ) {
    this.loop = new SchedulerLoop(options.schedulerIntervalMs, clock, [{ name: 'lifecycle', runner: this }], { runAtStart: true });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  async runDue(now: number): Promise<SchedulerRun> {
    const run: SchedulerRun = { resumed: await this.resumeSagas(now), reclaimed: 0, planChangesMissed: 0 };
    run.reclaimed = await this.reclamations.sweepDue(now);
    run.planChangesMissed = await this.plans.deleteOverduePlanChanges(now);
    if (run.resumed || run.reclaimed || run.planChangesMissed) rootLogger().info({ ...run }, 'lifecycle: scheduler run');
    return run;
  }

  /** One batch of unfinished sagas per run: a blocked saga waits for the next run anyway. */
  private async resumeSagas(now: number): Promise<number> {
    const rows = await new LifecycleStore(this.dataSource.manager).unfinishedSagas(now, this.options.sweepBatchSize);
    let resumed = 0;
    for (const row of rows) {
      try {
        if (await this.sagas.resume(row.guid)) resumed += 1;
      } catch (error) {
        rootLogger().warn({ err: error, instanceId: row.guid }, 'lifecycle: resuming a saga failed; the next run retries');
      }
    }
    return resumed;
  }
}
