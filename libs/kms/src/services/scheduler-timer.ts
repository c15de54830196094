import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock, SchedulerLoop } from '@sealbox/platform';
import { KMS_OPTIONS, type KmsDomainOptions } from '../tokens.js';
import { KeyPurgeScheduler, KeyRotationScheduler } from './key-schedulers.js';

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
      { name: 'kms key rotation', runner: rotation },
      { name: 'kms key purge', runner: purge },
    ]);
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }
}
