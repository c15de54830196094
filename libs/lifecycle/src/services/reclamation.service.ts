import { Inject, Injectable } from '@nestjs/common';
import type { LifecycleWire } from '@sealbox/contracts';
import { Clock, conflict, dataSourceToken, DomainError, forbidden, notFound, outboxToken, type Caller, type Outbox } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { firstStep } from '../domain/saga.js';
import { ReclamationEntity, ResourceInstanceEntity, RetiredPlanEntity } from '../persistence/entities.js';
import { LifecycleStore } from '../persistence/store.js';
import { InstanceResources } from '../ports.js';
import { LIFECYCLE_OPTIONS, type LifecycleDomainOptions } from '../tokens.js';
import { toWireReclamation } from '../wire.js';
import { instanceRef, SagaRunner, sagaStart } from './saga-runner.js';

type Reason = 'user' | 'plan_retired';

/** Deletion into reclamation, restore, reclaim, and the start of the permanent delete. */
@Injectable()
export class ReclamationService {
  constructor(
    @Inject(dataSourceToken('lifecycle')) private readonly dataSource: DataSource,
    @Inject(outboxToken('lifecycle')) private readonly outbox: Outbox,
    @Inject(LIFECYCLE_OPTIONS) private readonly options: LifecycleDomainOptions,
    private readonly resources: InstanceResources,
    private readonly sagas: SagaRunner,
    private readonly clock: Clock,
  ) {}

  /**
   * Disable an active Secrets Manager instance (its API answers INSTANCE_NOT_ACTIVE, its data stays)
   * and schedule its reclamation at now + retention. False when it was not active any more.
   */
  async deleteIntoReclamation(row: ResourceInstanceEntity, reason: Reason, actor: string): Promise<boolean> {
    await this.resources.setSecretsState(row.guid, 'disabled');
    const now = this.clock.nowMs();
    const targetTime = now + this.options.retentionMs;
    const reclamation: ReclamationEntity = Object.assign(new ReclamationEntity(), {
      id: randomUUID(),
      accountId: row.accountId,
      instanceGuid: row.guid,
      instanceCrn: row.crn,
      resourceGroupId: row.resourceGroupId,
      state: 'SCHEDULED',
      targetTime,
      reason,
      purgeProtection: row.purgeProtection,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
      updatedBy: actor,
    });
    const changes = {
      state: 'pending_reclamation',
      deletedAt: now,
      deletedBy: actor,
      deletionReason: reason,
      scheduledReclaimAt: targetTime,
      planChangeDueAt: null,
      reclamationId: reclamation.id,
      updatedAt: now,
      updatedBy: actor,
      opType: 'reclamation',
      opSubType: 'pending',
      opState: 'succeeded',
      opDescription: `Pending reclamation until ${new Date(targetTime).toISOString()}${reason === 'plan_retired' ? ' (its plan was retired)' : ''}`,
    } as const;
    const done = await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(ResourceInstanceEntity, { guid: row.guid, state: 'active' }, changes);
      if (result.affected !== 1) return false;
      await manager.insert(ReclamationEntity, reclamation);
      await this.outbox.record(manager, 'lifecycle.instance.deleted', { ...instanceRef(row), reclamationId: reclamation.id, targetTime: new Date(targetTime).toISOString(), reason });
      return true;
    });
    if (done) Object.assign(row, changes);
    return done;
  }

  /**
   * Record the permanent delete at its first step (`pending_removal`), then run it in the background.
   * With a reclamation: only from SCHEDULED (it becomes RECLAIMING); false if it was not SCHEDULED any more.
   */
  async startPermanentDelete(row: ResourceInstanceEntity, reclamation: ReclamationEntity | null, actor: string, reason: Reason | null): Promise<boolean> {
    const now = this.clock.nowMs();
    const changes: Partial<ResourceInstanceEntity> = {
      ...sagaStart('delete', firstStep('delete'), now, this.options.sagaLeaseMs),
      state: 'pending_removal',
      deletedAt: row.deletedAt ?? now,
      deletedBy: row.deletedBy ?? actor,
      reclamationId: reclamation?.id ?? null,
      planChangeDueAt: null,
      updatedAt: now,
      updatedBy: actor,
      opType: reclamation ? 'reclamation' : 'delete',
      opSubType: reclamation ? 'delete' : null,
    };
    const started = await this.dataSource.transaction(async (manager) => {
      if (reclamation) {
        const claimed = await manager.update(ReclamationEntity, { id: reclamation.id, state: 'SCHEDULED' }, { state: 'RECLAIMING', updatedAt: now, updatedBy: actor });
        if (claimed.affected !== 1) return false;
      }
      const result = await manager.update(ResourceInstanceEntity, { guid: row.guid, state: row.state }, changes);
      if (result.affected !== 1) throw conflict(`Resource instance ${row.guid} was changed by another request at the same time; retry`);
      if (!reclamation && reason) await this.outbox.record(manager, 'lifecycle.instance.deleted', { ...instanceRef(row), reason });
      return true;
    });
    if (!started) return false;
    Object.assign(row, changes);
    if (reclamation) Object.assign(reclamation, { state: 'RECLAIMING', updatedAt: now, updatedBy: actor });
    return true;
  }

  async list(caller: Caller, request: LifecycleWire.ListReclamationsRequest): Promise<LifecycleWire.ReclamationsList> {
    const query = request.query;
    if (query.account_id !== undefined && query.account_id !== caller.accountId) throw forbidden('You can list only the reclamations of your own account');
    const rows = await new LifecycleStore(this.dataSource.manager).reclamations(caller.accountId, {
      ...(query.resource_instance_id !== undefined ? { instanceGuid: query.resource_instance_id } : {}),
      ...(query.resource_group_id !== undefined ? { resourceGroupId: query.resource_group_id } : {}),
    });
    return { resources: rows.map(toWireReclamation) };
  }

  async action(caller: Caller, request: LifecycleWire.ReclamationActionRequest): Promise<LifecycleWire.Reclamation> {
    const store = new LifecycleStore(this.dataSource.manager);
    const reclamation = await store.reclamation(caller.accountId, request.id);
    if (!reclamation) throw notFound(`Reclamation ${request.id}`);
    const row = await store.instanceByGuid(reclamation.instanceGuid);
    if (!row) throw notFound(`Reclamation ${request.id}`);
    return request.action === 'restore' ? this.restore(reclamation, row, caller.iamId) : this.reclaim(reclamation, row, caller.iamId);
  }

  private async restore(reclamation: ReclamationEntity, row: ResourceInstanceEntity, actor: string): Promise<LifecycleWire.Reclamation> {
    if (reclamation.state !== 'SCHEDULED') {
      throw conflict(`Reclamation ${reclamation.id} is ${reclamation.state}: only a SCHEDULED reclamation can be restored`);
    }
    const now = this.clock.nowMs();
    const claimed = await this.dataSource.manager.update(ReclamationEntity, { id: reclamation.id, state: 'SCHEDULED' }, { state: 'RESTORING', updatedAt: now, updatedBy: actor });
    if (claimed.affected !== 1) throw conflict(`Reclamation ${reclamation.id} changed at the same time; read it again`);
    try {
      await this.resources.setSecretsState(row.guid, 'active');
    } catch (error) {
      await this.dataSource.manager.update(ReclamationEntity, { id: reclamation.id, state: 'RESTORING' }, { state: 'SCHEDULED', updatedAt: now, updatedBy: actor });
      throw error;
    }
    const planRetired = (await this.dataSource.manager.countBy(RetiredPlanEntity, { planId: row.planId })) > 0;
    const changes = {
      state: 'active',
      restoredAt: now,
      restoredBy: actor,
      deletedAt: null,
      deletedBy: null,
      deletionReason: null,
      scheduledReclaimAt: null,
      reclamationId: null,
      planChangeDueAt: planRetired ? now + this.options.planChangeGraceMs : null,
      updatedAt: now,
      updatedBy: actor,
      opType: 'reclamation',
      opSubType: 'restore',
      opState: 'succeeded',
      opDescription: planRetired ? `Restored; its plan ${row.planId} is retired: change the plan before ${new Date(now + this.options.planChangeGraceMs).toISOString()} or it is deleted again` : 'Restored',
    } as const;
    await this.dataSource.transaction(async (manager) => {
      await manager.update(ResourceInstanceEntity, { guid: row.guid }, changes);
      await manager.update(ReclamationEntity, { id: reclamation.id }, { state: 'RESTORED', updatedAt: now, updatedBy: actor });
      await this.outbox.record(manager, 'lifecycle.instance.restored', { ...instanceRef(row), reclamationId: reclamation.id });
    });
    return toWireReclamation(Object.assign(reclamation, { state: 'RESTORED', updatedAt: now, updatedBy: actor }));
  }

  private async reclaim(reclamation: ReclamationEntity, row: ResourceInstanceEntity, actor: string): Promise<LifecycleWire.Reclamation> {
    if (reclamation.state === 'RECLAIMED') throw new DomainError('GONE', `Reclamation ${reclamation.id} was already reclaimed: the instance is deleted`);
    if (reclamation.state !== 'SCHEDULED') {
      throw conflict(`Reclamation ${reclamation.id} is ${reclamation.state}: only a SCHEDULED reclamation can be reclaimed`);
    }
    const now = this.clock.nowMs();
    if (reclamation.purgeProtection && now < reclamation.targetTime) {
      throw forbidden(`Instance ${row.guid} has purge protection: it cannot be reclaimed before ${new Date(reclamation.targetTime).toISOString()}`);
    }
    if (!(await this.startPermanentDelete(row, reclamation, actor, null))) {
      throw conflict(`Reclamation ${reclamation.id} changed at the same time; read it again`);
    }
    this.sagas.background(row.guid);
    return toWireReclamation(reclamation);
  }

  /**
   * The scheduler's sweep: every SCHEDULED reclamation due at `now` (by the indexed due query, a
   * batch at a time) goes RECLAIMING and its permanent delete runs. Returns how many were started.
   */
  async sweepDue(now: number): Promise<number> {
    const store = new LifecycleStore(this.dataSource.manager);
    let after: { targetTime: number; id: string } | undefined;
    let started = 0;
    for (;;) {
      const due = await store.dueReclamations(now, after, this.options.sweepBatchSize);
      for (const reclamation of due) {
        after = { targetTime: reclamation.targetTime, id: reclamation.id };
        const row = await store.instanceByGuid(reclamation.instanceGuid);
        if (!row || row.state !== 'pending_reclamation') continue;
        if (await this.startPermanentDelete(row, reclamation, 'system', null)) {
          started += 1;
          await this.sagas.run(row.guid);
        }
      }
      if (due.length < this.options.sweepBatchSize) return started;
    }
  }
}
