import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock, dataSourceToken, IdempotencyRecords, isDomainError, outboxToken, rootLogger, SchedulerLoop, type Outbox } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { parseVersionObjectKey, SECRETS_KEY_PREFIX } from '../domain/context.js';
import { InstanceRegistry } from '../registry/instance-registry.js';
import { ExpiryNotice, SecretEntity } from './entities.js';
import { SECRETS_OPTIONS, type SecretsDomainOptions } from './options.js';
import { uuidV7Time } from './ids.js';
import { secretEventRef } from './secret.service.js';
import { SecretStore, type DueCursor } from './store.js';
import { ROTATION_ACTOR, VersionService } from './version.service.js';
import { VersionVault } from './vault.js';
import { CrlRefreshScheduler } from './types/private-cert/crl-scheduler.js';

/** What one scheduler run did. */
export interface SchedulerRun {
  done: number;
  /** Changed by someone else between the read and the write (a request, another replica): left to them. */
  lost: number;
  /** Failed; logged and still due, so the next run retries. */
  failed: number;
}

/**
 * Read due secrets a batch at a time in a fixed keyset order, handle each on its own (a failure is
 * logged and does not stop the others). These queries are the only ones over every tenant; each
 * secret is then changed within its own account and instance.
 */
async function runBatches(
  name: string,
  batchSize: number,
  due: (after: DueCursor | undefined) => Promise<SecretEntity[]>,
  position: (secret: SecretEntity) => DueCursor,
  handle: (secret: SecretEntity) => Promise<'done' | 'lost'>,
): Promise<SchedulerRun> {
  const run: SchedulerRun = { done: 0, lost: 0, failed: 0 };
  let after: DueCursor | undefined;
  for (;;) {
    const secrets = await due(after);
    for (const secret of secrets) {
      after = position(secret);
      try {
        run[await handle(secret)] += 1;
      } catch (error) {
        run.failed += 1;
        rootLogger().warn({ err: error, accountId: secret.accountId, instanceId: secret.instanceGuid, secretId: secret.id }, `secrets: the ${name} scheduler could not handle a due secret; the next run retries`);
      }
    }
    if (secrets.length < batchSize) break;
  }
  if (run.done || run.failed) rootLogger().info({ ...run }, `secrets: ${name} scheduler run`);
  return run;
}

/**
 * Automatic rotation: a secret whose rotation policy has `auto_rotate` gets a new version when its
 * `next_rotation_at` has come (a generated password for username_password, a new API key for
 * iam_credentials), `auto_rotated: true`, with `secrets.secret.rotated {auto: true}`. A rotation that
 * loses to a concurrent one (CONFLICT) is `lost`.
 */
@Injectable()
export class RotationScheduler {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(SECRETS_OPTIONS) private readonly options: SecretsDomainOptions,
    private readonly instances: InstanceRegistry,
    private readonly versions: VersionService,
  ) {}

  runDue(now: number): Promise<SchedulerRun> {
    const store = new SecretStore(this.dataSource.manager);
    return runBatches(
      'rotation',
      this.options.schedulerBatchSize,
      (after) => store.dueRotationsOfAllTenants(now, this.options.schedulerBatchSize, after),
      (secret) => ({ at: secret.nextRotationAt ?? 0, id: secret.id }),
      async (secret) => {
        const instance = await this.instances.requireActive(this.dataSource.manager, secret.accountId, secret.instanceGuid);
        try {
          await this.versions.rotate(instance, secret, {}, { actor: ROTATION_ACTOR, auto: true });
        } catch (error) {
          if (isDomainError(error) && (error.code === 'CONFLICT' || error.code === 'NOT_FOUND')) return 'lost';
          throw error;
        }
        return 'done';
      },
    );
  }
}

/**
 * Expiry notices: `secrets.secret.expiring` once when a secret's expiration_date comes within the
 * warning period, `secrets.secret.expired` once when it is reached (only that one when the secret is
 * first seen already expired). The notice is marked by a conditional update in the event's
 * transaction, so two replicas send it once. An expired secret stays active (state 1) and keeps
 * reporting its expiration_date: IBM's reference documents no state change for it.
 */
@Injectable()
export class ExpiryScheduler {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(outboxToken('secrets')) private readonly outbox: Outbox,
    @Inject(SECRETS_OPTIONS) private readonly options: SecretsDomainOptions,
  ) {}

  runDue(now: number): Promise<SchedulerRun> {
    const store = new SecretStore(this.dataSource.manager);
    return runBatches(
      'expiry',
      this.options.schedulerBatchSize,
      (after) => store.dueExpiryNoticesOfAllTenants(now, now + this.options.expiryWarningMs, this.options.schedulerBatchSize, after),
      (secret) => ({ at: secret.expirationAt ?? 0, id: secret.id }),
      (secret) => this.notify(secret, now),
    );
  }

  private async notify(secret: SecretEntity, now: number): Promise<'done' | 'lost'> {
    if (secret.expirationAt === null) return 'lost';
    const notice = secret.expirationAt <= now ? ExpiryNotice.expired : ExpiryNotice.expiring;
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        SecretEntity,
        { accountId: secret.accountId, instanceGuid: secret.instanceGuid, id: secret.id, expiryNotice: secret.expiryNotice, expirationAt: secret.expirationAt },
        { expiryNotice: notice },
      );
      if ((result.affected ?? 0) === 0) return 'lost';
      const data = { ...secretEventRef(secret), expirationDate: new Date(secret.expirationAt ?? 0).toISOString() };
      await this.outbox.record(manager, notice === ExpiryNotice.expired ? 'secrets.secret.expired' : 'secrets.secret.expiring', data);
      return 'done';
    });
  }
}

/** What one sweep did. */
export interface SweepRun {
  instances: number;
  objects: number;
  removed: number;
  failed: number;
}

const SWEEP_PAGE = 1000;

/**
 * The orphan sweep: an object in an instance's bucket whose version row does not exist (a create
 * whose transaction failed, a deleted secret whose objects could not be removed) or whose data was
 * deleted is removed. Objects younger than the grace age — by the time in their UUID v7 version id —
 * are left alone: their create may still be committing.
 */
@Injectable()
export class OrphanSweep {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    @Inject(SECRETS_OPTIONS) private readonly options: SecretsDomainOptions,
    private readonly vault: VersionVault,
  ) {}

  async runDue(now: number): Promise<SweepRun> {
    const run: SweepRun = { instances: 0, objects: 0, removed: 0, failed: 0 };
    const store = new SecretStore(this.dataSource.manager);
    let after: string | undefined;
    for (;;) {
      const instances = await store.activeInstancesOfAllTenants(after, 100);
      for (const instance of instances) {
        after = instance.instanceGuid;
        run.instances += 1;
        try {
          await this.sweepInstance({ accountId: instance.accountId, instanceGuid: instance.instanceGuid }, now, run);
        } catch (error) {
          run.failed += 1;
          rootLogger().warn({ err: error, instanceId: instance.instanceGuid }, 'secrets: the orphan sweep could not visit an instance; the next run retries');
        }
      }
      if (instances.length < 100) break;
    }
    if (run.removed || run.failed) rootLogger().info({ ...run }, 'secrets: orphan sweep run');
    return run;
  }

  private async sweepInstance(scope: { accountId: string; instanceGuid: string }, now: number, run: SweepRun): Promise<void> {
    const store = new SecretStore(this.dataSource.manager);
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.vault.list(scope.instanceGuid, SECRETS_KEY_PREFIX, startAfter, SWEEP_PAGE);
      run.objects += page.keys.length;
      const candidates = page.keys.flatMap((key) => {
        const parsed = parseVersionObjectKey(key);
        if (!parsed) return [];
        const createdAt = uuidV7Time(parsed.versionId);
        // Not one of ours (no time in the id) or old enough: a candidate.
        if (createdAt !== undefined && now - createdAt < this.options.orphanGraceMs) return [];
        return [parsed];
      });
      const states = await store.versionStates(scope, candidates.map((candidate) => candidate.versionId));
      for (const candidate of candidates) {
        const state = states.get(candidate.versionId);
        if (state && state.secretId === candidate.secretId && state.payloadAvailable) continue;
        await this.vault.remove(scope.instanceGuid, candidate.secretId, candidate.versionId);
        run.removed += 1;
      }
      if (page.nextStartAfter === undefined) break;
      startAfter = page.nextStartAfter;
    }
  }
}

/** Removes the Idempotency-Keys of creates and new versions once their 24 hours are over. */
@Injectable()
export class IdempotencyRecordPurge {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    private readonly records: IdempotencyRecords,
  ) {}

  runDue(): Promise<number> {
    return this.records.purgeExpired(this.dataSource.manager);
  }
}

/**
 * The timers of the secrets schedulers: rotation then expiry (and the purge of expired
 * Idempotency-Keys) every SEALBOX_SECRETS_SCHEDULER_INTERVAL_MS, the orphan sweep every SEALBOX_SECRETS_ORPHAN_SWEEP_INTERVAL_MS, at the injected clock's time.
 * Started once the application has bootstrapped, stopped (waiting for a run) before the database closes.
 */
@Injectable()
export class SecretsSchedulerTimer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loops: SchedulerLoop[];

  constructor(
    @Inject(SECRETS_OPTIONS) options: SecretsDomainOptions,
    clock: Clock,
    rotation: RotationScheduler,
    expiry: ExpiryScheduler,
    sweep: OrphanSweep,
    crls: CrlRefreshScheduler,
    idempotency: IdempotencyRecordPurge,
  ) {
    this.loops = [
      new SchedulerLoop(options.schedulerIntervalMs, clock, [
        { name: 'secrets rotation', runner: rotation },
        { name: 'secrets expiry', runner: expiry },
        { name: 'private_cert CRLs', runner: crls },
        { name: 'secrets idempotency key purge', runner: idempotency },
      ]),
      new SchedulerLoop(options.orphanSweepIntervalMs, clock, [{ name: 'secrets orphan sweep', runner: sweep }]),
    ];
  }

  onApplicationBootstrap(): void {
    for (const loop of this.loops) loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.stop()));
  }
}
