/**
 * The lifecycle scheduler's sweep of due reclamations, in-process on an in-memory SQLite database (the
 * real entities, migrations and outbox; no fsync), with the heavy
 * saga steps (secrets purge, bucket removal, registration delete, policies) stubbed behind the
 * InstanceResources port. Each row seeds N reclamations already due, runs ONE scheduler run that
 * reclaims them all, and times each reclamation (the gap between two consecutive finished sagas:
 * due query share, claim, four recorded steps, the final transaction with its outbox event). The
 * 10,000 row's baseline is the 1,000 row: a ratio near 1 shows the time per reclamation does not grow
 * with the number due (the due query reads the (state, target_time) index a batch at a time).
 */
import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  InstanceResources,
  LifecycleModule,
  LifecycleScheduler,
  ReclamationEntity,
  ResourceInstanceEntity,
  type RegistrationRef,
  type RootKeyInfo,
  type RootKeyRef,
  type SecretsInstanceRef,
} from '@sealbox/lifecycle';
import { createLogger, dataSourceToken, InProcessBus, InProcessClient, InProcessEventBus, ManualClock, PlatformModule } from '@sealbox/platform';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { BenchCase, Measurement } from '../bench.js';
import { LatencySamples, summarize } from '../stats.js';

/** The saga steps answer at once; the end of each permanent delete is timed. */
class StubResources extends InstanceResources {
  readonly samples = new LatencySamples();
  private last = performance.now();
  reclaimed = 0;

  start(): void {
    this.last = performance.now();
  }

  async deleteInstancePolicies(): Promise<void> {
    const now = performance.now();
    this.samples.push(now - this.last);
    this.last = now;
    this.reclaimed += 1;
  }
  async purgeSecrets(): Promise<void> {}
  async removeBucket(): Promise<void> {}
  async deleteRegistration(_registration: RegistrationRef): Promise<void> {}
  async setSecretsState(): Promise<void> {}
  async setSecretsPlan(): Promise<void> {}
  async createBucket(): Promise<void> {}
  async createRegistration(_registration: RegistrationRef): Promise<void> {}
  async activateSecrets(_instance: SecretsInstanceRef): Promise<void> {}
  async createKmsInstance(): Promise<void> {}
  async deleteKmsInstance(): Promise<void> {}
  async keyAuthorized(): Promise<boolean> {
    return true;
  }
  async describeRootKey(): Promise<RootKeyInfo> {
    throw new Error('not in this bench');
  }
  async createProviderRootKey(): Promise<RootKeyRef> {
    throw new Error('not in this bench');
  }
}

const DAY = 86_400_000;

/** N Secrets Manager instances pending reclamation, each with a SCHEDULED reclamation due a day ago. */
async function seed(dataSource: DataSource, count: number, now: number): Promise<void> {
  const accountId = 'bench-account';
  const chunk = 250;
  for (let offset = 0; offset < count; offset += chunk) {
    const instances: ResourceInstanceEntity[] = [];
    const reclamations: ReclamationEntity[] = [];
    for (let index = offset; index < Math.min(count, offset + chunk); index++) {
      const guid = randomUUID();
      const crn = `crn:v1:sealbox:public:secrets-manager:us-south:a/${accountId}:${guid}::`;
      const reclamationId = randomUUID();
      const targetTime = now - DAY + index;
      instances.push(
        Object.assign(new ResourceInstanceEntity(), {
          guid, accountId, crn, name: `i${index}`, service: 'secrets-manager', planId: 'secrets-manager-standard', region: 'us-south',
          resourceGroupId: 'default', tags: '[]', parameters: '{}', allowCleanup: false, locked: false, purgeProtection: false,
          state: 'pending_reclamation', kmsMode: 'customer', kmsAccountId: accountId, kmsInstanceId: 'kms-1', kmsKeyId: 'key-1',
          planHistory: '[]', createdAt: now - 8 * DAY, createdBy: 'bench', updatedAt: now - 8 * DAY, updatedBy: 'bench',
          deletedAt: targetTime - 7 * DAY, deletedBy: 'bench', deletionReason: 'user', scheduledReclaimAt: targetTime, restoredAt: null, restoredBy: null,
          planChangeDueAt: null, opType: 'reclamation', opSubType: 'pending', opState: 'succeeded', opDescription: null,
          saga: null, sagaStep: null, sagaStatus: null, sagaReason: null, sagaLeaseUntil: null, reclamationId,
        }),
      );
      reclamations.push(
        Object.assign(new ReclamationEntity(), {
          id: reclamationId, accountId, instanceGuid: guid, instanceCrn: crn, resourceGroupId: 'default', state: 'SCHEDULED', targetTime,
          reason: 'user', purgeProtection: false, createdAt: targetTime - 7 * DAY, createdBy: 'bench', updatedAt: targetTime - 7 * DAY, updatedBy: 'bench',
        }),
      );
    }
    await dataSource.manager.insert(ResourceInstanceEntity, instances);
    await dataSource.manager.insert(ReclamationEntity, reclamations);
  }
}

async function measureSweep(count: number): Promise<Measurement> {
  const resources = new StubResources();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const events = new InProcessEventBus();
  @Module({
    imports: [
      PlatformModule.forRoot({
        logger: createLogger({ app: 'bench', level: 'silent' }),
        clientProxy: new InProcessClient(new InProcessBus()),
        rpcTimeoutMs: 5000,
        eventPublisher: events,
        eventSubscriber: events,
        clock,
      }),
      LifecycleModule.register({
        // In memory: the row measures the sweep's own work and how it scales, not the disk's fsync.
        database: { type: 'sqlite', path: ':memory:' },
        lifecycle: { schedulerIntervalMs: 0, sweepBatchSize: 100 },
        resources,
      }),
    ],
  })
  class BenchRoot {}
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(BenchRoot, { logger: false });
    await seed(app.get<DataSource>(dataSourceToken('lifecycle')), count, clock.nowMs());
    const scheduler = app.get(LifecycleScheduler);
    resources.start();
    const begun = performance.now();
    const run = await scheduler.runDue(clock.nowMs());
    const elapsedMs = performance.now() - begun;
    const errors = count - run.reclaimed;
    const summary = summarize(resources.samples, elapsedMs);
    return {
      unit: 'ops/s',
      concurrency: 1,
      errors,
      elapsedMs,
      ...summary,
      ...(errors > 0 ? { firstError: `${errors} of ${count} due reclamations were not reclaimed` } : {}),
    };
  } finally {
    await app?.close();
  }
}

export function lifecycleCases(): BenchCase[] {
  return [
    {
      name: 'lifecycle.sweep.1k',
      description: 'one scheduler run reclaiming 1,000 due reclamations (in-memory SQLite, saga steps stubbed behind InstanceResources); ops = reclamations',
      run: () => measureSweep(1_000),
    },
    {
      name: 'lifecycle.sweep.10k',
      description: 'the same with 10,000 due: a ratio near 1 means the time per reclamation does not grow with the number due',
      baseline: 'lifecycle.sweep.1k',
      run: () => measureSweep(10_000),
    },
  ];
}
