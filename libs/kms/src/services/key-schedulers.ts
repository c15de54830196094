import { Inject, Injectable } from '@nestjs/common';
import { KmsWire } from '@sealbox/contracts';
import { dataSourceToken, DomainError, Outbox, outboxToken, rootLogger } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { viaProvider } from '../domain/provider-errors.js';
import { AUTO_PURGE_AFTER_MS, rescheduled } from '../domain/schedules.js';
import { InstanceEntity, KeyEntity, KeyVersionEntity, RegistrationEntity } from '../persistence/entities.js';
import { findInstance, removeKeyRows, updateKey, versionRowOf } from '../persistence/kms-store.js';
import { InstanceService } from './instance.service.js';
import { WrapTargets } from './wrap-targets.js';

/** How many due keys one query reads; a run goes on, batch after batch, until none is left. */
export const SCHEDULER_BATCH_SIZE = 100;

/** What one run of a scheduler did. */
export interface ScheduledRun {
  /** Keys rotated (purged). */
  done: number;
  /** Keys changed by someone else between the read and the update (another replica, a request): left to them. */
  lost: number;
  /** Keys that were not due after all (a registration now prevents the purge). */
  skipped: number;
  /** Keys that failed; logged, and still due, so the next run tries again. */
  failed: number;
}

export type Outcome = 'done' | 'lost' | 'skipped';

/** Keyset position in the due order, so a run reads each due key once even when some fail. */
interface Cursor {
  readonly at: number;
  readonly id: string;
}

const keyRef = (key: KeyEntity) => ({ accountId: key.accountId, instanceId: key.instanceId, keyId: key.id });

/**
 * The loop both schedulers share: read due keys a batch at a time in a fixed order (by due time, then
 * id), handle each on its own (a failure is logged and does not stop the others), stop early when
 * the HSM is unavailable (every other key would fail the same way; the next run retries).
 *
 * These are the only queries of kms that are not scoped to one account: a scheduler serves every
 * tenant. Each key is then changed with its own account id, as a request would.
 */
async function runBatches(
  name: string,
  due: (after: Cursor | undefined) => Promise<KeyEntity[]>,
  position: (key: KeyEntity) => Cursor,
  handle: (key: KeyEntity) => Promise<Outcome>,
): Promise<ScheduledRun> {
  const run: ScheduledRun = { done: 0, lost: 0, skipped: 0, failed: 0 };
  let after: Cursor | undefined;
  for (;;) {
    const keys = await due(after);
    for (const key of keys) {
      // Read before handling: a rotation moves the key's due time.
      after = position(key);
      try {
        run[await handle(key)] += 1;
      } catch (error) {
        run.failed += 1;
        rootLogger().warn({ err: error, accountId: key.accountId, instanceId: key.instanceId, keyId: key.id }, `kms: the ${name} scheduler could not handle a due key; the next run retries`);
        if (error instanceof DomainError && error.code === 'SERVICE_UNAVAILABLE') return run;
      }
    }
    if (keys.length < SCHEDULER_BATCH_SIZE) break;
  }
  if (run.done || run.failed) rootLogger().info({ ...run }, `kms: ${name} scheduler run`);
  return run;
}

/**
 * Automatic rotation: an active root key with an enabled `rotation` policy gets a new version when
 * its `next_rotation_at` (last rotation or creation + `interval_month`, domain/schedules.ts) has come,
 * with a `kms.key.rotated` event, exactly as a manual rotation. Imported root keys are never due (a
 * scheduler has no new key material for them), nor standard keys; disabled, expired and deleted keys
 * wait (a disabled key rotates once enabled), and so do the keys of an HPCS instance without an
 * active master key.
 *
 * Safe with several replicas running `runDue` at once: the version is committed only by a conditional
 * update on the key's row version as it was read, so of two replicas that read the same due key one
 * commits and the other rolls back and destroys the material it made (`lost`).
 */
@Injectable()
export class KeyRotationScheduler {
  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(outboxToken('kms')) private readonly outbox: Outbox,
    private readonly instances: InstanceService,
    private readonly targets: WrapTargets,
  ) {}

  /** Rotate every key due at `now`. */
  runDue(now: number): Promise<ScheduledRun> {
    return runBatches(
      'rotation',
      (after) => this.dueKeys(now, SCHEDULER_BATCH_SIZE, after),
      (key) => ({ at: key.nextRotationAt ?? 0, id: key.id }),
      (key) => this.rotateDue(key, now),
    );
  }

  /** Keys due at `now` (after `after` in the due order), on the (state, next_rotation_at) index. */
  dueKeys(now: number, limit: number, after?: Cursor): Promise<KeyEntity[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(KeyEntity, 'k')
      .innerJoin(InstanceEntity, 'i', 'i.id = k.instance_id AND i.account_id = k.account_id')
      .where('k.state = :active', { active: KmsWire.KEY_STATE_ACTIVE })
      .andWhere('k.next_rotation_at <= :now', { now })
      .andWhere('(k.expires_at IS NULL OR k.expires_at > :now)', { now })
      .andWhere("i.master_key_status IN ('active', 'not_applicable')");
    if (after) {
      query.andWhere('(k.next_rotation_at > :afterAt OR (k.next_rotation_at = :afterAt AND k.id > :afterId))', { afterAt: after.at, afterId: after.id });
    }
    return query.orderBy('k.next_rotation_at', 'ASC').addOrderBy('k.id', 'ASC').limit(limit).getMany();
  }

  /**
   * Rotate `key` as it was read (a due key): a new generated version, committed only if the key's row
   * is unchanged since (`lost` otherwise, and the new material is destroyed).
   */
  async rotateDue(key: KeyEntity, now: number): Promise<Outcome> {
    if (key.imported || key.extractable) return 'skipped';
    const instance = await findInstance(this.dataSource.manager, key.accountId, key.instanceId);
    if (!instance) return 'lost';
    this.instances.requireInitialized(instance);
    const provider = this.instances.providerOf(instance);
    const material = await viaProvider(() => provider.createVersion(this.instances.contextOf(instance)));
    const versionId = randomUUID();
    try {
      await this.dataSource.transaction(async (manager) => {
        // Versions sort by creation time: a rotation within the same millisecond still comes after.
        const at = Math.max(now, key.currentVersionAt + 1);
        await manager.insert(KeyVersionEntity, versionRowOf(key, { id: versionId, material, fingerprint: null }, at));
        await updateKey(manager, key, rescheduled(key, { currentVersionId: versionId, currentVersionAt: at, rotatedAt: at }), at);
        await this.outbox.record(manager, 'kms.key.rotated', { ...keyRef(key), keyVersionId: versionId });
      });
    } catch (error) {
      await this.instances.destroyMaterials(instance, [material]);
      if (error instanceof DomainError && error.code === 'CONFLICT') return 'lost';
      throw error;
    }
    this.targets.keyChanged('kms.key.rotated', keyRef(key));
    return 'done';
  }
}

/**
 * Automatic purge: a key deleted (state 5) at least 90 days ago is purged as `DELETE
 * /keys/{id}/purge` would (its rows removed, `kms.key.purged`, then its versions' material destroyed
 * through the provider), unless a registration with `preventKeyDeletion` still names it.
 *
 * Safe with several replicas: the rows go only if the key's row version is the one read (a restore
 * or another replica's purge in between makes this one `lost`, with nothing removed), and only the
 * replica that committed destroys the material.
 */
@Injectable()
export class KeyPurgeScheduler {
  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(outboxToken('kms')) private readonly outbox: Outbox,
    private readonly instances: InstanceService,
    private readonly targets: WrapTargets,
  ) {}

  /** Purge every key due at `now`. */
  runDue(now: number): Promise<ScheduledRun> {
    return runBatches(
      'purge',
      (after) => this.dueKeys(now, SCHEDULER_BATCH_SIZE, after),
      (key) => ({ at: key.deletedAt ?? 0, id: key.id }),
      (key) => this.purgeDue(key),
    );
  }

  /** Keys deleted at least 90 days before `now` that no registration protects, on the (state, deleted_at) index. */
  dueKeys(now: number, limit: number, after?: Cursor): Promise<KeyEntity[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(KeyEntity, 'k')
      .where('k.state = :destroyed', { destroyed: KmsWire.KEY_STATE_DESTROYED })
      .andWhere('k.deleted_at <= :cutoff', { cutoff: now - AUTO_PURGE_AFTER_MS })
      .andWhere((outer) => {
        const preventing = outer
          .subQuery()
          .select('1')
          .from(RegistrationEntity, 'r')
          // A literal: SQLite stores booleans as 0/1 and binds none; TRUE means the same in both databases.
          .where('r.account_id = k.account_id AND r.key_id = k.id AND r.prevent_key_deletion = TRUE')
          .getQuery();
        return `NOT EXISTS ${preventing}`;
      });
    if (after) {
      query.andWhere('(k.deleted_at > :afterAt OR (k.deleted_at = :afterAt AND k.id > :afterId))', { afterAt: after.at, afterId: after.id });
    }
    return query.orderBy('k.deleted_at', 'ASC').addOrderBy('k.id', 'ASC').limit(limit).getMany();
  }

  /** Purge `key` as it was read (a due key), if its row is unchanged since (`lost` otherwise). */
  async purgeDue(key: KeyEntity): Promise<Outcome> {
    const instance = await findInstance(this.dataSource.manager, key.accountId, key.instanceId);
    if (!instance) return 'lost';
    let materials: string[] | undefined;
    try {
      materials = await this.dataSource.transaction(async (manager) => {
        const registrations = await manager.find(RegistrationEntity, { where: { accountId: key.accountId, keyId: key.id } });
        if (registrations.some((registration) => registration.preventKeyDeletion)) return undefined;
        const removed = await removeKeyRows(manager, key);
        await this.outbox.record(manager, 'kms.key.purged', keyRef(key));
        return removed;
      });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'CONFLICT') return 'lost';
      throw error;
    }
    if (!materials) return 'skipped';
    this.targets.keyChanged('kms.key.purged', keyRef(key));
    await this.instances.destroyMaterials(instance, materials);
    return 'done';
  }
}
