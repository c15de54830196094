import { Inject, Injectable } from '@nestjs/common';
import { Clock, dataSourceToken, isDomainError, outboxToken, rootLogger, type Outbox } from '@sealbox/platform';
import { Brackets, type DataSource, type EntityManager } from 'typeorm';
import {
  isSagaStep,
  nextStep,
  rollbackOf,
  stepPosition,
  STEP_LABELS,
  type ProvisionStep,
  type SagaKind,
  type SagaStep,
} from '../domain/saga.js';
import { ReclamationEntity, ResourceInstanceEntity } from '../persistence/entities.js';
import { LifecycleStore } from '../persistence/store.js';
import { InstanceResources, type RegistrationRef, type RootKeyRef } from '../ports.js';
import { LIFECYCLE_OPTIONS, type LifecycleDomainOptions } from '../tokens.js';

export const instanceRef = (row: ResourceInstanceEntity) => ({
  accountId: row.accountId,
  instanceId: row.guid,
  crn: row.crn,
  service: row.service,
  planId: row.planId,
});

export function keyOf(row: ResourceInstanceEntity): RootKeyRef {
  if (!row.kmsAccountId || !row.kmsInstanceId || !row.kmsKeyId) throw new Error(`Instance ${row.guid} has no root key`);
  return { accountId: row.kmsAccountId, instanceId: row.kmsInstanceId, keyId: row.kmsKeyId };
}

const registrationOf = (row: ResourceInstanceEntity): RegistrationRef => ({ key: keyOf(row), resourceCrn: row.crn });

/** What a step is doing, for `last_operation.description`. */
export function stepDescription(kind: SagaKind, step: SagaStep): string {
  const { index, of } = stepPosition(kind, step);
  return `${kind === 'provision' ? 'Provisioning' : 'Permanent delete'}: step ${index} of ${of}, ${STEP_LABELS[step]}`;
}

/** A message that may be shown to the caller: domain errors say what happened, anything else does not. */
const reasonOf = (error: unknown) => (isDomainError(error) ? `${error.code}: ${error.message}` : 'an internal error occurred (see the lifecycle logs)');

/** The fields that start a saga at its first step, recorded before the step runs. */
export function sagaStart(kind: SagaKind, step: SagaStep, now: number, leaseMs: number): Partial<ResourceInstanceEntity> {
  return { saga: kind, sagaStep: step, sagaStatus: 'running', sagaReason: null, sagaLeaseUntil: now + leaseMs, opState: 'in progress', opDescription: stepDescription(kind, step) };
}

/**
 * Runs the provisioning and permanent-delete sagas of Secrets Manager instances (domain/saga.ts).
 * The step to run is always the one recorded on the instance row; after it succeeds the next one is
 * recorded, then run. A replica runs a saga under a lease (`saga_lease_until`); a saga whose lease
 * ran out (its replica died), or that waits after a failure, is taken over by `resume`.
 *
 * Provisioning failures roll back (the failed step and those before it, the latest first) and leave
 * the instance `failed`. Permanent-delete failures are retried by the scheduler until they succeed:
 * `blocked` when the key registration cannot be deleted because its authorization is gone, else
 * `retrying`; each new reason is a `lifecycle.saga.step-failed` event.
 */
@Injectable()
export class SagaRunner {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @Inject(dataSourceToken('lifecycle')) private readonly dataSource: DataSource,
    @Inject(outboxToken('lifecycle')) private readonly outbox: Outbox,
    @Inject(LIFECYCLE_OPTIONS) private readonly options: LifecycleDomainOptions,
    private readonly resources: InstanceResources,
    private readonly clock: Clock,
  ) {}

  /** Run the saga of `guid` (already claimed by the caller) without waiting for it. */
  background(guid: string): void {
    const run = this.run(guid)
      .catch((error: unknown) => rootLogger().warn({ err: error, instanceId: guid }, 'lifecycle: a saga run stopped; the scheduler resumes it'))
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Resolves when no background run is left (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Take over the saga of `guid` when it waits or its lease ran out, and run it; false if another replica holds it. */
  async resume(guid: string): Promise<boolean> {
    const now = this.clock.nowMs();
    const claimed = await this.dataSource
      .createQueryBuilder()
      .update(ResourceInstanceEntity)
      .set({ sagaStatus: 'running', sagaLeaseUntil: now + this.options.sagaLeaseMs })
      .where('guid = :guid', { guid })
      .andWhere('saga IS NOT NULL')
      .andWhere(
        new Brackets((where) => {
          where.where('saga_status IN (:...waiting)', { waiting: ['retrying', 'blocked'] }).orWhere('saga_lease_until <= :now', { now });
        }),
      )
      .execute();
    if (claimed.affected !== 1) return false;
    await this.run(guid);
    return true;
  }

  /** Run the recorded step of the instance's saga and every step after it. */
  async run(guid: string): Promise<ResourceInstanceEntity | null> {
    let row = await new LifecycleStore(this.dataSource.manager).instanceByGuid(guid);
    if (!row?.saga || !isSagaStep(row.saga, row.sagaStep)) return row;
    const kind = row.saga;
    let step: SagaStep = row.sagaStep;
    for (;;) {
      try {
        await this.execute(row, step);
      } catch (error) {
        return kind === 'provision' ? this.failProvisioning(row, step as ProvisionStep, error) : this.holdDelete(row, step, error);
      }
      const next = nextStep(kind, step);
      if (!next) return this.finish(row);
      row = await this.record(row, kind, next);
      step = next;
    }
  }

  private async execute(row: ResourceInstanceEntity, step: SagaStep): Promise<void> {
    const customerKey = row.kmsMode === 'customer';
    switch (step) {
      case 'create_bucket':
        return this.resources.createBucket(row.guid);
      case 'create_registration':
        // Provider-managed keys are the provider's: the customer has no registration to see.
        return customerKey ? this.resources.createRegistration(registrationOf(row)) : undefined;
      case 'activate_secrets':
        return this.resources.activateSecrets({ accountId: row.accountId, guid: row.guid, crn: row.crn, region: row.region, key: keyOf(row), planId: row.planId });
      case 'purge_secrets':
        return this.resources.purgeSecrets(row.guid);
      case 'remove_bucket':
        return this.resources.removeBucket(row.guid);
      case 'delete_registration':
        return customerKey ? this.resources.deleteRegistration(registrationOf(row)) : undefined;
      case 'delete_policies':
        return this.resources.deleteInstancePolicies(row.accountId, row.service, row.guid);
    }
  }

  private undo(row: ResourceInstanceEntity, step: ProvisionStep): Promise<void> {
    switch (step) {
      case 'create_bucket':
        return this.resources.removeBucket(row.guid);
      case 'create_registration':
        return row.kmsMode === 'customer' ? this.resources.deleteRegistration(registrationOf(row)) : Promise.resolve();
      case 'activate_secrets':
        return this.resources.purgeSecrets(row.guid);
    }
  }

  /** Record `step` as the one that runs next (before it runs) and renew the lease. */
  private async record(row: ResourceInstanceEntity, kind: SagaKind, step: SagaStep): Promise<ResourceInstanceEntity> {
    const now = this.clock.nowMs();
    const changes: Partial<ResourceInstanceEntity> = {
      sagaStep: step,
      sagaStatus: 'running',
      sagaReason: null,
      sagaLeaseUntil: now + this.options.sagaLeaseMs,
      opDescription: stepDescription(kind, step),
    };
    await this.dataSource.manager.update(ResourceInstanceEntity, { guid: row.guid }, changes);
    return Object.assign(row, changes);
  }

  private async finish(row: ResourceInstanceEntity): Promise<ResourceInstanceEntity> {
    const now = this.clock.nowMs();
    const ended = { saga: null, sagaStep: null, sagaStatus: null, sagaReason: null, sagaLeaseUntil: null, updatedAt: now } as const;
    return this.dataSource.transaction(async (manager) => {
      if (row.saga === 'provision') {
        const changes = { ...ended, state: 'active', opState: 'succeeded', opDescription: 'Provisioned' } as const;
        await manager.update(ResourceInstanceEntity, { guid: row.guid }, changes);
        await this.outbox.record(manager, 'lifecycle.instance.created', { ...instanceRef(row), state: 'active' });
        return Object.assign(row, changes);
      }
      const changes = { ...ended, state: 'removed', opSubType: 'delete', opState: 'succeeded', opDescription: 'Permanently deleted' } as const;
      await manager.update(ResourceInstanceEntity, { guid: row.guid }, changes);
      if (row.reclamationId) await this.setReclamation(manager, row.reclamationId, 'RECLAIMED', now);
      await this.outbox.record(manager, 'lifecycle.instance.reclaimed', {
        ...instanceRef(row),
        ...(row.reclamationId ? { reclamationId: row.reclamationId } : {}),
        outcome: 'succeeded',
      });
      return Object.assign(row, changes);
    });
  }

  private async failProvisioning(row: ResourceInstanceEntity, step: ProvisionStep, error: unknown): Promise<ResourceInstanceEntity> {
    const reason = reasonOf(error);
    const leftovers: string[] = [];
    for (const undone of rollbackOf(step)) {
      try {
        await this.undo(row, undone);
      } catch (undoError) {
        leftovers.push(STEP_LABELS[undone]);
        rootLogger().warn({ err: undoError, instanceId: row.guid, step: undone }, 'lifecycle: a provisioning rollback step failed');
      }
    }
    const description =
      `Provisioning failed at "${STEP_LABELS[step]}" (${reason}); rolled back` +
      (leftovers.length ? `, except: ${leftovers.join(', ')} (deleting the instance cleans up)` : '');
    const changes = {
      state: 'failed',
      saga: null,
      sagaStep: null,
      sagaStatus: null,
      sagaReason: null,
      sagaLeaseUntil: null,
      opState: 'failed',
      opDescription: description.slice(0, 1024),
      updatedAt: this.clock.nowMs(),
    } as const;
    return this.dataSource.transaction(async (manager) => {
      await manager.update(ResourceInstanceEntity, { guid: row.guid }, changes);
      await this.outbox.record(manager, 'lifecycle.saga.step-failed', { ...instanceRef(row), saga: 'provision', step, reason });
      await this.outbox.record(manager, 'lifecycle.instance.created', { ...instanceRef(row), state: 'failed' });
      return Object.assign(row, changes);
    });
  }

  private async holdDelete(row: ResourceInstanceEntity, step: SagaStep, error: unknown): Promise<ResourceInstanceEntity> {
    const blocked = step === 'delete_registration' && isDomainError(error) && error.code === 'FORBIDDEN';
    const status = blocked ? 'blocked' : 'retrying';
    const reason = blocked
      ? `The key registration of key ${row.kmsKeyId} cannot be deleted: no authorization lets secrets-manager instance ${row.guid} read kms instance ${row.kmsInstanceId} any more. ` +
        'Create the authorization again (source secrets-manager, target the kms instance, role Reader); the deletion then resumes by itself'
      : `${STEP_LABELS[step]} failed (${reasonOf(error)}); retried by the scheduler`;
    const { index, of } = stepPosition('delete', step);
    const changes = {
      sagaStatus: status,
      sagaReason: reason.slice(0, 1024),
      sagaLeaseUntil: null,
      opDescription: `Permanent delete ${status} at step ${index} of ${of}: ${reason}`.slice(0, 1024),
    } as const;
    // A retry that fails for the same reason again is not news.
    const changed = row.sagaReason !== changes.sagaReason;
    rootLogger().warn({ err: error, instanceId: row.guid, step, status }, 'lifecycle: a permanent delete step failed; the scheduler retries it');
    await this.dataSource.transaction(async (manager) => {
      await manager.update(ResourceInstanceEntity, { guid: row.guid }, changes);
      if (changed) await this.outbox.record(manager, 'lifecycle.saga.step-failed', { ...instanceRef(row), saga: 'delete', step, reason: changes.sagaReason });
    });
    return Object.assign(row, changes);
  }

  async setReclamation(manager: EntityManager, id: string, state: string, now: number, by = 'system'): Promise<void> {
    await manager.update(ReclamationEntity, { id }, { state, updatedAt: now, updatedBy: by });
  }
}
