import { Inject, Injectable } from '@nestjs/common';
import type { LifecycleWire } from '@sealbox/contracts';
import { Clock, conflict, dataSourceToken, DomainError, forbidden, isDomainError, notFound, outboxToken, validationFailed, type Caller, type Outbox } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { planCatalog, requirePlan, requireRegion, requireSameService, type CatalogPlan } from '../domain/catalog.js';
import { instanceCrn, parseRootKeyCrn, type KeyService } from '../domain/crn.js';
import { decodeCursor, encodeCursor, nextUrl } from '../domain/cursor.js';
import { firstStep } from '../domain/saga.js';
import { ProviderKeyEntity, ResourceInstanceEntity, RetiredPlanEntity } from '../persistence/entities.js';
import { LifecycleStore, type InstanceFilter } from '../persistence/store.js';
import { InstanceResources, type RootKeyRef } from '../ports.js';
import { LIFECYCLE_OPTIONS, type LifecycleDomainOptions } from '../tokens.js';
import { toWireInstance } from '../wire.js';
import { instanceRef, SagaRunner, sagaStart } from './saga-runner.js';
import { ReclamationService } from './reclamation.service.js';

const KEY_STATE_NAMES: Record<number, string> = { 0: 'pre-activation', 1: 'active', 2: 'suspended', 3: 'deactivated', 5: 'destroyed' };

/** The parameters of an instance Sealbox reads; the others are kept as given. */
function purgeProtectionOf(parameters: Record<string, unknown>): boolean {
  const value = parameters['purge_protection'];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw validationFailed([{ field: 'parameters.purge_protection', message: 'must be true or false' }]);
  return value;
}

/** Resource instances (`lifecycle.instance.*`): every query is scoped to the caller's account. */
@Injectable()
export class InstanceService {
  readonly catalog: CatalogPlan[];

  constructor(
    @Inject(dataSourceToken('lifecycle')) private readonly dataSource: DataSource,
    @Inject(outboxToken('lifecycle')) private readonly outbox: Outbox,
    @Inject(LIFECYCLE_OPTIONS) private readonly options: LifecycleDomainOptions,
    private readonly resources: InstanceResources,
    private readonly sagas: SagaRunner,
    private readonly reclamations: ReclamationService,
    private readonly clock: Clock,
  ) {
    this.catalog = planCatalog(options.reclamationPlans);
  }

  async retiredPlans(): Promise<Set<string>> {
    return new Set((await this.dataSource.manager.find(RetiredPlanEntity)).map((row) => row.planId));
  }

  planOf(row: ResourceInstanceEntity): CatalogPlan {
    const plan = this.catalog.find((candidate) => candidate.id === row.planId);
    if (!plan) throw new DomainError('INTERNAL', `Instance ${row.guid} has a plan no longer in the catalog`);
    return plan;
  }

  // ---------- create ----------

  async create(caller: Caller, request: LifecycleWire.CreateInstanceRequest): Promise<LifecycleWire.ResourceInstance> {
    const body = request.body;
    const plan = requirePlan(this.catalog, await this.retiredPlans(), body.resource_plan_id);
    const region = requireRegion(this.options.regions, body.target);
    const parameters = body.parameters ?? {};
    const purgeProtection = purgeProtectionOf(parameters);
    const guid = randomUUID();
    const crn = instanceCrn(plan.service, region, caller.accountId, guid);
    const now = this.clock.nowMs();

    let key: (RootKeyRef & { mode: 'customer' | 'provider' }) | undefined;
    if (plan.service === 'secrets-manager') {
      key =
        parameters['kms_key'] !== undefined
          ? { ...(await this.customerKey(caller, parameters['kms_key'], region, guid)), mode: 'customer' }
          : { ...(await this.providerKey(region)), mode: 'provider' };
    } else if (parameters['kms_key'] !== undefined) {
      throw validationFailed([{ field: 'parameters.kms_key', message: `only secrets-manager instances take a kms_key, not ${plan.service}` }]);
    }

    const row: ResourceInstanceEntity = Object.assign(new ResourceInstanceEntity(), {
      guid,
      accountId: caller.accountId,
      crn,
      name: body.name,
      service: plan.service,
      planId: plan.id,
      region,
      resourceGroupId: body.resource_group,
      tags: JSON.stringify(body.tags ?? []),
      parameters: JSON.stringify(parameters),
      allowCleanup: body.allow_cleanup ?? false,
      locked: request.entityLock ?? false,
      purgeProtection,
      state: 'provisioning',
      kmsMode: key?.mode ?? null,
      kmsAccountId: key?.accountId ?? null,
      kmsInstanceId: key?.instanceId ?? null,
      kmsKeyId: key?.keyId ?? null,
      planHistory: JSON.stringify([{ resource_plan_id: plan.id, start_date: new Date(now).toISOString(), requestor_id: caller.iamId }]),
      createdAt: now,
      createdBy: caller.iamId,
      updatedAt: now,
      updatedBy: caller.iamId,
      deletedAt: null,
      deletedBy: null,
      deletionReason: null,
      scheduledReclaimAt: null,
      restoredAt: null,
      restoredBy: null,
      planChangeDueAt: null,
      opType: 'create',
      opSubType: null,
      opState: 'in progress',
      opDescription: null,
      saga: null,
      sagaStep: null,
      sagaStatus: null,
      sagaReason: null,
      sagaLeaseUntil: null,
      reclamationId: null,
    });

    if (plan.service === 'secrets-manager') {
      Object.assign(row, sagaStart('provision', firstStep('provision'), now, this.options.sagaLeaseMs));
      await this.dataSource.manager.insert(ResourceInstanceEntity, row);
      const done = await this.sagas.run(guid);
      return toWireInstance(done ?? row);
    }
    return this.createKeyInstance(row, plan.service as KeyService);
  }

  /** A kms / hs-crypto instance: one call to kms, no saga. */
  private async createKeyInstance(row: ResourceInstanceEntity, service: KeyService): Promise<LifecycleWire.ResourceInstance> {
    await this.dataSource.manager.insert(ResourceInstanceEntity, row);
    let failure: unknown;
    try {
      await this.resources.createKmsInstance(row.accountId, row.guid, service, row.region);
    } catch (error) {
      failure = error;
    }
    const changes: Pick<ResourceInstanceEntity, 'state' | 'opState' | 'opDescription'> = failure
      ? { state: 'failed', opState: 'failed', opDescription: `Provisioning failed: ${isDomainError(failure) ? failure.message : 'an internal error occurred'}` }
      : { state: 'active', opState: 'succeeded', opDescription: 'Provisioned' };
    await this.dataSource.transaction(async (manager) => {
      await manager.update(ResourceInstanceEntity, { guid: row.guid }, { ...changes, updatedAt: this.clock.nowMs() });
      await this.outbox.record(manager, 'lifecycle.instance.created', { ...instanceRef(row), state: changes.state });
    });
    return toWireInstance(Object.assign(row, changes));
  }

  /**
   * `parameters.kms_key`: a root key of the caller's account, active, in a KMS instance of the
   * instance's region, readable by this instance through an authorization.
   */
  private async customerKey(caller: Caller, value: unknown, region: string, guid: string): Promise<RootKeyRef> {
    const field = 'parameters.kms_key';
    const crn = parseRootKeyCrn(value);
    if (crn.accountId !== caller.accountId) {
      throw forbidden(`The root key ${crn.keyId} belongs to another account (${crn.accountId}): a Secrets Manager instance can use keys of its own account only`);
    }
    const key: RootKeyRef = { accountId: crn.accountId, instanceId: crn.instanceId, keyId: crn.keyId };
    let info;
    try {
      info = await this.resources.describeRootKey(caller, key);
    } catch (error) {
      if (isDomainError(error) && error.code === 'NOT_FOUND') {
        throw validationFailed([{ field, message: `no key ${crn.keyId} in ${crn.service} instance ${crn.instanceId} of your account` }]);
      }
      throw error;
    }
    if (info.service !== crn.service) {
      throw validationFailed([{ field, message: `instance ${crn.instanceId} is a ${info.service} instance, the CRN says ${crn.service}` }]);
    }
    if (info.region !== region) {
      throw validationFailed([{ field, message: `the key's ${info.service} instance is in region ${info.region}, the Secrets Manager instance would be in ${region}: they must be in the same region` }]);
    }
    if (info.extractable) throw new DomainError('KEY_ROOT_REQ_ERR', `Key ${crn.keyId} is a standard key: parameters.kms_key must be a root key`);
    if (info.state !== 1) {
      throw new DomainError('KEY_NOT_ACTIVE', `Key ${crn.keyId} is ${KEY_STATE_NAMES[info.state] ?? `in state ${info.state}`}, not active: it cannot protect a new instance`);
    }
    const authorized = await this.resources.keyAuthorized({ accountId: caller.accountId, serviceInstance: guid }, { ...key, service: crn.service });
    if (!authorized) {
      throw forbidden(
        `No authorization lets Secrets Manager read key ${crn.keyId} of ${crn.service} instance ${crn.instanceId}: create an authorization policy ` +
          `with source service secrets-manager (all instances, or this one) and target service ${crn.service}, instance ${crn.instanceId} (or key ${crn.keyId}), role Reader`,
      );
    }
    return key;
  }

  /** The provider's root key of the region (provider-managed encryption), made on first need. */
  private async providerKey(region: string): Promise<RootKeyRef> {
    const manager = this.dataSource.manager;
    const existing = await manager.findOneBy(ProviderKeyEntity, { region });
    if (existing) return { accountId: existing.accountId, instanceId: existing.kmsInstanceId, keyId: existing.keyId };
    const accountId = this.options.providerAccountId;
    const made = await this.resources.createProviderRootKey(accountId, region, randomUUID());
    try {
      await manager.insert(ProviderKeyEntity, { region, accountId, kmsInstanceId: made.instanceId, keyId: made.keyId, createdAt: this.clock.nowMs() });
      return made;
    } catch (error) {
      // Another request made one at the same time: everybody uses the one recorded first.
      const winner = await manager.findOneBy(ProviderKeyEntity, { region });
      if (!winner) throw error;
      return { accountId: winner.accountId, instanceId: winner.kmsInstanceId, keyId: winner.keyId };
    }
  }

  // ---------- read ----------

  async require(caller: Caller, id: string): Promise<ResourceInstanceEntity> {
    const row = await new LifecycleStore(this.dataSource.manager).instance(caller.accountId, id);
    if (!row) throw notFound(`Resource instance ${id}`);
    return row;
  }

  async get(caller: Caller, id: string): Promise<LifecycleWire.ResourceInstance> {
    return toWireInstance(await this.require(caller, id));
  }

  async list(caller: Caller, request: LifecycleWire.ListInstancesRequest): Promise<LifecycleWire.ResourceInstancesList> {
    const query = request.query;
    const limit = query.limit;
    // Only service instances exist here, with no sub type.
    if ((query.type !== undefined && query.type !== 'service_instance') || query.sub_type !== undefined) return { rows_count: 0, next_url: null, resources: [] };
    const filter: InstanceFilter = {
      ...(query.guid !== undefined ? { guid: query.guid } : {}),
      ...(query.name !== undefined ? { name: query.name } : {}),
      ...(query.resource_group_id !== undefined ? { resourceGroupId: query.resource_group_id } : {}),
      ...(query.resource_id !== undefined ? { service: query.resource_id } : {}),
      ...(query.resource_plan_id !== undefined ? { planId: query.resource_plan_id } : {}),
      ...(query.state !== undefined ? { state: query.state } : {}),
      ...(query.updated_from !== undefined ? { updatedFrom: Date.parse(query.updated_from) } : {}),
      ...(query.updated_to !== undefined ? { updatedTo: Date.parse(query.updated_to) } : {}),
    };
    const after = query.start !== undefined ? decodeCursor(query.start) : undefined;
    const rows = await new LifecycleStore(this.dataSource.manager).page(caller.accountId, filter, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const more = rows.length > limit && last !== undefined;
    const { limit: _limit, start: _start, ...filters } = query;
    return {
      rows_count: page.length,
      next_url: more ? nextUrl(request.path, filters, encodeCursor({ createdAt: last.createdAt, guid: last.guid }), limit) : null,
      resources: page.map(toWireInstance),
    };
  }

  // ---------- change ----------

  /** The instance, if it may change: not removed (GONE), not locked (INSTANCE_LOCKED), active (INSTANCE_NOT_ACTIVE). */
  private async changeable(caller: Caller, id: string, what: string): Promise<ResourceInstanceEntity> {
    const row = await this.require(caller, id);
    if (row.state === 'removed') throw new DomainError('GONE', `Resource instance ${id} was deleted`);
    if (row.locked) throw new DomainError('INSTANCE_LOCKED', `Resource instance ${id} is locked: unlock it before you ${what} it`);
    return row;
  }

  async update(caller: Caller, request: LifecycleWire.UpdateInstanceRequest): Promise<LifecycleWire.ResourceInstance> {
    const row = await this.changeable(caller, request.id, 'update');
    if (row.state !== 'active') throw new DomainError('INSTANCE_NOT_ACTIVE', `Resource instance ${request.id} is ${row.state}: only an active instance can be updated`);
    const body = request.body;
    const now = this.clock.nowMs();
    const changes: Partial<ResourceInstanceEntity> = { updatedAt: now, updatedBy: caller.iamId, opType: 'update', opSubType: null, opState: 'succeeded', opDescription: null };
    if (body.name !== undefined) changes.name = body.name;
    if (body.allow_cleanup !== undefined) changes.allowCleanup = body.allow_cleanup;
    if (body.parameters !== undefined) {
      const current = JSON.parse(row.parameters) as Record<string, unknown>;
      const merged = { ...current, ...body.parameters };
      if (body.parameters['kms_key'] !== undefined && body.parameters['kms_key'] !== current['kms_key']) {
        throw validationFailed([{ field: 'parameters.kms_key', message: 'the root key of an instance cannot change' }]);
      }
      changes.purgeProtection = purgeProtectionOf(merged);
      changes.parameters = JSON.stringify(merged);
    }
    if (body.resource_plan_id !== undefined && body.resource_plan_id !== row.planId) {
      const plan = requirePlan(this.catalog, await this.retiredPlans(), body.resource_plan_id);
      requireSameService(this.planOf(row), plan);
      const history = JSON.parse(row.planHistory) as unknown[];
      history.push({ resource_plan_id: plan.id, start_date: new Date(now).toISOString(), requestor_id: caller.iamId });
      Object.assign(changes, { planId: plan.id, planHistory: JSON.stringify(history), planChangeDueAt: null });
      // The secrets service first: if the change below fails, a retry of the same change sets it again.
      if (row.service === 'secrets-manager') await this.resources.setSecretsPlan(row.guid, plan.id);
    }
    return this.save(row, changes);
  }

  async setLocked(caller: Caller, id: string, locked: boolean): Promise<LifecycleWire.ResourceInstance> {
    const row = await this.require(caller, id);
    if (row.state === 'removed') throw new DomainError('GONE', `Resource instance ${id} was deleted`);
    if (row.locked === locked) return toWireInstance(row);
    const now = this.clock.nowMs();
    return this.save(row, { locked, updatedAt: now, updatedBy: caller.iamId, opType: locked ? 'lock' : 'unlock', opSubType: null, opState: 'succeeded', opDescription: null });
  }

  /** Apply changes to an instance nobody changed since it was read (CONFLICT otherwise), with its event. */
  private async save(row: ResourceInstanceEntity, changes: Partial<ResourceInstanceEntity>): Promise<LifecycleWire.ResourceInstance> {
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(ResourceInstanceEntity, { guid: row.guid, updatedAt: row.updatedAt, state: row.state }, changes);
      if (result.affected !== 1) throw conflict(`Resource instance ${row.guid} was changed by another request at the same time; retry`);
      await this.outbox.record(manager, 'lifecycle.instance.updated', instanceRef({ ...row, ...changes } as ResourceInstanceEntity));
    });
    return toWireInstance(Object.assign(row, changes));
  }

  // ---------- delete ----------

  async delete(caller: Caller, id: string): Promise<void> {
    const row = await this.changeable(caller, id, 'delete');
    if (row.state === 'pending_reclamation') {
      throw conflict(`Resource instance ${id} is already deleted and pending reclamation: restore or reclaim its reclamation`);
    }
    if (row.state === 'provisioning' || row.state === 'pending_removal') {
      throw conflict(`Resource instance ${id} is ${row.state}: wait until its operation ends`);
    }
    if (row.service !== 'secrets-manager') return this.deleteKeyInstance(caller, row);
    if (row.state === 'active' && this.planOf(row).reclamation) {
      await this.reclamations.deleteIntoReclamation(row, 'user', caller.iamId);
      return;
    }
    if (await this.reclamations.startPermanentDelete(row, null, caller.iamId, 'user')) this.sagas.background(row.guid);
  }

  /** kms / hs-crypto: kms refuses (CONFLICT) while keys remain, as Key Protect does. */
  private async deleteKeyInstance(caller: Caller, row: ResourceInstanceEntity): Promise<void> {
    try {
      await this.resources.deleteKmsInstance(row.accountId, row.guid);
    } catch (error) {
      // A failed provisioning may have made no kms instance.
      if (!(row.state === 'failed' && isDomainError(error) && error.code === 'NOT_FOUND')) throw error;
    }
    const now = this.clock.nowMs();
    const changes = { state: 'removed', deletedAt: now, deletedBy: caller.iamId, updatedAt: now, updatedBy: caller.iamId, opType: 'delete', opSubType: null, opState: 'succeeded', opDescription: 'Deleted' } as const;
    await this.dataSource.transaction(async (manager) => {
      await manager.update(ResourceInstanceEntity, { guid: row.guid }, changes);
      await this.outbox.record(manager, 'lifecycle.instance.deleted', { ...instanceRef(row), reason: 'user' });
    });
  }
}
