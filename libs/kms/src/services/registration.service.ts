import { Inject, Injectable } from '@nestjs/common';
import { KmsWire, type ResponseOf, type ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, dataSourceToken, Outbox, outboxToken, validationFailed, type Caller } from '@sealbox/platform';
import { In, type DataSource } from 'typeorm';
import { ServiceAuthorizations, type AuthorizationSource } from '../authorization/service-authorizations.js';
import { requireNotDestroyed } from '../domain/key-lifecycle.js';
import { requireRootKey } from '../domain/standard-key.js';
import { KeyEntity, KeyVersionEntity, RegistrationEntity } from '../persistence/entities.js';
import { findKey, requireInstance, requireKey } from '../persistence/kms-store.js';
import { registrationJson } from './wire.js';

/**
 * The resource a CRN names, as the source of a service-to-service authorization:
 * `crn:v1:<cloud>:<type>:<service-name>:<location>:a/<account>:<service-instance>:<resource-type>:<resource>`.
 */
export function sourceOfCrn(crn: string, fallbackAccountId: string): AuthorizationSource {
  const parts = crn.split(':');
  const [prefix, version, , , serviceName, , scope, serviceInstance] = parts;
  if (parts.length < 8 || prefix !== 'crn' || version !== 'v1' || !serviceName || !serviceInstance) {
    throw validationFailed([{ field: 'resourceCrn', message: 'must be a CRN naming a service and a service instance' }]);
  }
  const accountId = scope?.startsWith('a/') ? scope.slice(2) : fallbackAccountId;
  return { accountId: accountId || fallbackAccountId, serviceName, serviceInstance };
}

/** `*` matches any run of characters; everything else literally (LIKE with `\` as escape). */
function likePattern(query: string): string {
  return query.replace(/[\\%_]/g, (char) => `\\${char}`).replaceAll('*', '%');
}

/**
 * Registrations: which resource's data a key protects. Lifecycle creates and removes them over NATS
 * (removal is checked against the resource's service-to-service authorization, which therefore
 * outlives it); users list them. A registration with `preventKeyDeletion` blocks deleting its key.
 */
@Injectable()
export class RegistrationService {
  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(outboxToken('kms')) private readonly outbox: Outbox,
    private readonly authorizations: ServiceAuthorizations,
    private readonly clock: Clock,
  ) {}

  /** Create, or update an existing one (a retried saga step sees the same answer). */
  async create(request: ValidatedRequestOf<'kms.registration.create'>, createdBy: string): Promise<ResponseOf<'kms.registration.create'>> {
    return this.dataSource.transaction(async (manager) => {
      const instance = await requireInstance(manager, request.accountId, request.key.instanceId);
      const key = await requireKey(manager, instance, request.key.keyId);
      requireNotDestroyed(key);
      // A registration says which root key protects a resource's data keys: standard keys protect none.
      requireRootKey(key, 'a registration');
      const now = this.clock.nowMs();
      const scope = { accountId: key.accountId, keyId: key.id, resourceCrn: request.resourceCrn };
      const existing = await manager.findOne(RegistrationEntity, { where: scope });
      const row = Object.assign(existing ?? new RegistrationEntity(), {
        ...scope,
        instanceId: instance.id,
        preventKeyDeletion: request.preventKeyDeletion,
        description: request.description ?? existing?.description ?? null,
        keyVersionId: existing?.keyVersionId ?? key.currentVersionId,
        createdAt: existing?.createdAt ?? now,
        createdBy: existing?.createdBy ?? createdBy,
        updatedAt: now,
      });
      await manager.save(RegistrationEntity, row);
      if (!existing) {
        await this.outbox.record(manager, 'kms.registration.created', {
          accountId: key.accountId,
          instanceId: instance.id,
          keyId: key.id,
          resourceCrn: request.resourceCrn,
        });
      }
      return { keyId: key.id, resourceCrn: row.resourceCrn, preventKeyDeletion: row.preventKeyDeletion, creationDate: new Date(row.createdAt).toISOString() };
    });
  }

  /**
   * Remove a registration; the registered resource's service instance (from its CRN) must still be
   * authorized to use the key. Removing one that is not there succeeds (idempotent).
   */
  async delete(request: ValidatedRequestOf<'kms.registration.delete'>): Promise<void> {
    const instance = await requireInstance(this.dataSource.manager, request.accountId, request.key.instanceId);
    const key = await findKey(this.dataSource.manager, instance, request.key.keyId);
    await this.authorizations.require(sourceOfCrn(request.resourceCrn, request.accountId), {
      accountId: instance.accountId,
      serviceName: instance.serviceName,
      serviceInstance: instance.id,
      resourceType: 'key',
      resource: key?.id ?? request.key.keyId,
    });
    if (!key) return;
    await this.dataSource.transaction(async (manager) => {
      const removed = await manager.delete(RegistrationEntity, { accountId: key.accountId, keyId: key.id, resourceCrn: request.resourceCrn });
      if (removed.affected) {
        await this.outbox.record(manager, 'kms.registration.deleted', {
          accountId: key.accountId,
          instanceId: instance.id,
          keyId: key.id,
          resourceCrn: request.resourceCrn,
        });
      }
    });
  }

  /** Key Protect: the registrations of one key (`id`) or of every key of the instance. */
  async list(caller: Caller, request: ValidatedRequestOf<'kms.api.registration.list'>): Promise<KmsWire.RegistrationCollection> {
    const manager = this.dataSource.manager;
    const instance = await requireInstance(manager, caller.accountId, request.instanceId);
    const key = request.id !== undefined ? await requireKey(manager, instance, request.id) : undefined;
    const query = manager
      .createQueryBuilder(RegistrationEntity, 'r')
      .where('r.account_id = :accountId AND r.instance_id = :instanceId', { accountId: instance.accountId, instanceId: instance.id });
    if (key) query.andWhere('r.key_id = :keyId', { keyId: key.id });
    if (request.preventKeyDeletion !== undefined) {
      // SQLite stores booleans as 0/1 and binds no booleans; PostgreSQL compares booleans only with booleans.
      const prevent = this.dataSource.options.type === 'postgres' ? request.preventKeyDeletion : Number(request.preventKeyDeletion);
      query.andWhere('r.prevent_key_deletion = :prevent', { prevent });
    }
    if (request.urlEncodedResourceCRNQuery !== undefined) {
      query.andWhere("r.resource_crn LIKE :pattern ESCAPE '\\'", { pattern: likePattern(request.urlEncodedResourceCRNQuery) });
    }
    const total = request.totalCount ? await query.clone().getCount() : undefined;
    const rows = await query.orderBy('r.created_at', 'ASC').addOrderBy('r.key_id', 'ASC').addOrderBy('r.resource_crn', 'ASC').offset(request.offset).limit(request.limit).getMany();

    const keyIds = [...new Set(rows.map((row) => row.keyId))];
    const keys = keyIds.length ? await manager.find(KeyEntity, { where: { accountId: instance.accountId, id: In(keyIds) } }) : [];
    const versionIds = [...new Set(rows.map((row) => row.keyVersionId))];
    const versions = versionIds.length ? await manager.find(KeyVersionEntity, { where: { accountId: instance.accountId, id: In(versionIds) } }) : [];
    const keyById = new Map(keys.map((item) => [item.id, item]));
    const versionAt = new Map(versions.map((version) => [version.id, version.createdAt]));
    const resources = rows.flatMap((row) => {
      const owner = keyById.get(row.keyId);
      return owner ? [registrationJson(row, owner, versionAt.get(row.keyVersionId) ?? owner.createdAt)] : [];
    });
    return {
      metadata: { collectionType: KmsWire.REGISTRATION_COLLECTION_TYPE, collectionTotal: resources.length, ...(total !== undefined ? { totalCount: total } : {}) },
      resources,
    };
  }
}
