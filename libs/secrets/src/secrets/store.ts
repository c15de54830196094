import type { EntityManager, QueryDeepPartialEntity, SelectQueryBuilder } from 'typeorm';
import type { OrderBy, SecretListPlan, SortColumn } from '../domain/listing.js';
import { InstanceEntity, SecretGroupEntity } from '../registry/entities.js';
import type { TenantScope } from '../registry/store.js';
import { ExpiryNotice, SecretEntity, SecretLabelEntity, SecretVersionEntity } from './entities.js';

export type SecretChanges = Partial<Omit<SecretEntity, 'instanceGuid' | 'id' | 'accountId'>>;
export type VersionChanges = Partial<Pick<SecretVersionEntity, 'payloadAvailable' | 'versionCustomMetadata' | 'downloaded' | 'details'>>;

/** Keyset position of the schedulers' due order. */
export interface DueCursor {
  readonly at: number;
  readonly id: string;
}

const SORT_PROPERTY: Record<SortColumn, keyof SecretEntity> = {
  id: 'id',
  name: 'name',
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  retrieved_at: 'retrievedAt',
  expiration_date: 'expirationAt',
  secret_type: 'secretType',
};

/** `%`, `_` and the escape character itself, escaped for `LIKE … ESCAPE '!'`. */
export function likeContains(text: string): string {
  return `%${text.replace(/[!%_]/g, (character) => `!${character}`)}%`;
}

/**
 * The only way to the secrets, versions and labels tables. Tenant queries need the account id and
 * the instance GUID; a call without either is refused rather than run unscoped. The schedulers'
 * due queries are the exception (they serve every tenant) and say so in their names.
 */
export class SecretStore {
  constructor(private readonly manager: EntityManager) {}

  private scoped(scope: TenantScope): TenantScope {
    if (!scope.accountId || !scope.instanceGuid) throw new Error('Refusing a secrets query without an account id and an instance GUID');
    return { accountId: scope.accountId, instanceGuid: scope.instanceGuid };
  }

  // ---------- secrets ----------

  secret(scope: TenantScope, id: string): Promise<SecretEntity | null> {
    return this.manager.findOneBy(SecretEntity, { ...this.scoped(scope), id });
  }

  secretByName(scope: TenantScope, groupId: string, secretType: string, name: string): Promise<SecretEntity | null> {
    return this.manager.findOneBy(SecretEntity, { ...this.scoped(scope), groupId, secretType, name });
  }

  countInGroup(scope: TenantScope, groupId: string): Promise<number> {
    return this.manager.countBy(SecretEntity, { ...this.scoped(scope), groupId });
  }

  async insertSecret(row: SecretEntity): Promise<void> {
    this.scoped(row);
    await this.manager.insert(SecretEntity, row as QueryDeepPartialEntity<SecretEntity>);
    // A new secret has no label rows to replace: insert them (no DELETE in the create's transaction).
    await this.insertLabels(row, row.id, row.labels);
  }

  /**
   * Update a secret; with `expectedOrdinal`, only if its current version is still that one (a
   * concurrent rotation wins otherwise). Returns whether a row changed.
   */
  async updateSecret(scope: TenantScope, id: string, changes: SecretChanges, expectedOrdinal?: number): Promise<boolean> {
    const where = { ...this.scoped(scope), id, ...(expectedOrdinal === undefined ? {} : { currentOrdinal: expectedOrdinal }) };
    const result = await this.manager.update(SecretEntity, where, changes as QueryDeepPartialEntity<SecretEntity>);
    if (changes.labels !== undefined) await this.replaceLabels(scope, id, changes.labels);
    return (result.affected ?? 0) > 0;
  }

  async replaceLabels(scope: TenantScope, secretId: string, labels: readonly string[]): Promise<void> {
    const { accountId, instanceGuid } = this.scoped(scope);
    await this.manager.delete(SecretLabelEntity, { accountId, instanceGuid, secretId });
    await this.insertLabels(scope, secretId, labels);
  }

  private async insertLabels(scope: TenantScope, secretId: string, labels: readonly string[]): Promise<void> {
    const { accountId, instanceGuid } = this.scoped(scope);
    if (labels.length > 0) await this.manager.insert(SecretLabelEntity, labels.map((label) => ({ accountId, instanceGuid, secretId, label })));
  }

  /** Remove a secret with its versions and labels. */
  async removeSecret(scope: TenantScope, id: string): Promise<void> {
    const scoped = this.scoped(scope);
    await this.manager.delete(SecretVersionEntity, { ...scoped, secretId: id });
    await this.manager.delete(SecretLabelEntity, { ...scoped, secretId: id });
    await this.manager.delete(SecretEntity, { ...scoped, id });
  }

  /** One page of an instance's secrets by a plan, and how many match in all: filtered, ordered and paged in SQL. */
  async list(scope: TenantScope, plan: SecretListPlan): Promise<{ rows: SecretEntity[]; totalCount: number }> {
    const query = this.filtered(scope, plan);
    const totalCount = await query.clone().getCount();
    if (plan.offset >= totalCount) return { rows: [], totalCount };
    plan.orderBy.forEach((order: OrderBy, index) => {
      const sort = `s.${SORT_PROPERTY[order.column]}`;
      const direction = order.direction === 'asc' ? 'ASC' : 'DESC';
      const nulls = order.nulls === 'first' ? 'NULLS FIRST' : 'NULLS LAST';
      if (index === 0) query.orderBy(sort, direction, nulls);
      else query.addOrderBy(sort, direction, nulls);
    });
    const rows = await query.offset(plan.offset).limit(plan.limit).getMany();
    return { rows, totalCount };
  }

  private filtered(scope: TenantScope, plan: SecretListPlan): SelectQueryBuilder<SecretEntity> {
    const { accountId, instanceGuid } = this.scoped(scope);
    const query = this.manager
      .createQueryBuilder(SecretEntity, 's')
      .where('s.instance_guid = :instanceGuid AND s.account_id = :accountId', { instanceGuid, accountId });
    const { filters } = plan;
    if (filters.groups !== undefined) query.andWhere('s.secret_group_id IN (:...groups)', { groups: [...filters.groups] });
    if (filters.secretTypes !== undefined) query.andWhere('s.secret_type IN (:...secretTypes)', { secretTypes: [...filters.secretTypes] });
    (filters.labels ?? []).forEach((label, index) => {
      query.andWhere(
        `EXISTS (SELECT 1 FROM secret_labels l${index} WHERE l${index}.instance_guid = s.instance_guid AND l${index}.secret_id = s.id AND l${index}.label = :label${index})`,
        { [`label${index}`]: label },
      );
    });
    if (filters.search !== undefined && filters.search !== '') {
      const needle = likeContains(filters.search.toLowerCase());
      query.andWhere(
        `(LOWER(s.id) LIKE :needle ESCAPE '!' OR LOWER(s.name) LIKE :needle ESCAPE '!' OR LOWER(COALESCE(s.description, '')) LIKE :needle ESCAPE '!'` +
          ` OR LOWER(s.secret_type) LIKE :needle ESCAPE '!'` +
          ` OR EXISTS (SELECT 1 FROM secret_labels ls WHERE ls.instance_guid = s.instance_guid AND ls.secret_id = s.id AND LOWER(ls.label) LIKE :needle ESCAPE '!'))`,
        { needle },
      );
    }
    return query;
  }

  // ---------- versions ----------

  version(scope: TenantScope, secretId: string, id: string): Promise<SecretVersionEntity | null> {
    return this.manager.findOneBy(SecretVersionEntity, { ...this.scoped(scope), secretId, id });
  }

  versionByOrdinal(scope: TenantScope, secretId: string, ordinal: number): Promise<SecretVersionEntity | null> {
    return this.manager.findOneBy(SecretVersionEntity, { ...this.scoped(scope), secretId, ordinal });
  }

  /** Every version of a secret, newest first. */
  versions(scope: TenantScope, secretId: string): Promise<SecretVersionEntity[]> {
    return this.manager.find(SecretVersionEntity, { where: { ...this.scoped(scope), secretId }, order: { ordinal: 'DESC' } });
  }

  /** Versions at or below an ordinal, oldest first (those beyond the number a secret keeps). */
  versionsUpTo(scope: TenantScope, secretId: string, ordinal: number): Promise<SecretVersionEntity[]> {
    return this.manager
      .createQueryBuilder(SecretVersionEntity, 'v')
      .where('v.instance_guid = :instanceGuid AND v.account_id = :accountId AND v.secret_id = :secretId', { ...this.scoped(scope), secretId })
      .andWhere('v.ordinal <= :ordinal', { ordinal })
      .orderBy('v.ordinal', 'ASC')
      .getMany();
  }

  async insertVersion(row: SecretVersionEntity): Promise<void> {
    this.scoped(row);
    await this.manager.insert(SecretVersionEntity, row as QueryDeepPartialEntity<SecretVersionEntity>);
  }

  async updateVersion(scope: TenantScope, secretId: string, id: string, changes: VersionChanges): Promise<boolean> {
    const result = await this.manager.update(SecretVersionEntity, { ...this.scoped(scope), secretId, id }, changes as QueryDeepPartialEntity<SecretVersionEntity>);
    return (result.affected ?? 0) > 0;
  }

  async removeVersions(scope: TenantScope, secretId: string, ids: readonly string[]): Promise<void> {
    const scoped = this.scoped(scope);
    for (const id of ids) await this.manager.delete(SecretVersionEntity, { ...scoped, secretId, id });
  }

  /** Of these version ids of the instance, which exist, with whether their data is still available. */
  async versionStates(scope: TenantScope, ids: readonly string[]): Promise<Map<string, { secretId: string; payloadAvailable: boolean }>> {
    const states = new Map<string, { secretId: string; payloadAvailable: boolean }>();
    if (ids.length === 0) return states;
    const rows = await this.manager
      .createQueryBuilder(SecretVersionEntity, 'v')
      .select(['v.id', 'v.secretId', 'v.payloadAvailable'])
      .where('v.instance_guid = :instanceGuid AND v.account_id = :accountId', this.scoped(scope))
      .andWhere('v.id IN (:...ids)', { ids: [...ids] })
      .getMany();
    for (const row of rows) states.set(row.id, { secretId: row.secretId, payloadAvailable: row.payloadAvailable });
    return states;
  }

  // ---------- the whole instance ----------

  /** Remove every secret, version, label and group row of the instance, and the instance. Returns how many secrets and versions. */
  async purgeInstance(scope: TenantScope): Promise<{ secrets: number; versions: number }> {
    const scoped = this.scoped(scope);
    const versions = await this.manager.countBy(SecretVersionEntity, scoped);
    const secrets = await this.manager.countBy(SecretEntity, scoped);
    await this.manager.delete(SecretVersionEntity, scoped);
    await this.manager.delete(SecretLabelEntity, scoped);
    await this.manager.delete(SecretEntity, scoped);
    await this.manager.delete(SecretGroupEntity, scoped);
    await this.manager.delete(InstanceEntity, scoped);
    return { secrets, versions };
  }

  // ---------- the schedulers' queries (every tenant) ----------

  /** Active instances, by GUID, a page at a time (the orphan sweep visits each). */
  activeInstancesOfAllTenants(after: string | undefined, limit: number): Promise<InstanceEntity[]> {
    const query = this.manager.createQueryBuilder(InstanceEntity, 'i').where("i.state = 'active'");
    if (after !== undefined) query.andWhere('i.instance_guid > :after', { after });
    return query.orderBy('i.instanceGuid', 'ASC').limit(limit).getMany();
  }

  /** Secrets of active instances whose next rotation is due at `now`, in (next_rotation_at, id) order after `after`. */
  dueRotationsOfAllTenants(now: number, limit: number, after?: DueCursor): Promise<SecretEntity[]> {
    const query = this.activeSecrets().andWhere('s.next_rotation_at <= :now', { now });
    if (after) query.andWhere('(s.next_rotation_at > :afterAt OR (s.next_rotation_at = :afterAt AND s.id > :afterId))', { afterAt: after.at, afterId: after.id });
    return query.orderBy('s.nextRotationAt', 'ASC').addOrderBy('s.id', 'ASC').limit(limit).getMany();
  }

  /**
   * Secrets of active instances owed an expiry notice: `expiring` not yet sent and the date within
   * the warning period (before `warnUntil`), or `expired` not yet sent and the date reached.
   */
  dueExpiryNoticesOfAllTenants(now: number, warnUntil: number, limit: number, after?: DueCursor): Promise<SecretEntity[]> {
    const query = this.activeSecrets().andWhere(
      '((s.expiry_notice = :none AND s.expiration_at <= :warnUntil) OR (s.expiry_notice = :expiring AND s.expiration_at <= :now))',
      { none: ExpiryNotice.none, expiring: ExpiryNotice.expiring, warnUntil, now },
    );
    if (after) query.andWhere('(s.expiration_at > :afterAt OR (s.expiration_at = :afterAt AND s.id > :afterId))', { afterAt: after.at, afterId: after.id });
    return query.orderBy('s.expirationAt', 'ASC').addOrderBy('s.id', 'ASC').limit(limit).getMany();
  }

  private activeSecrets(): SelectQueryBuilder<SecretEntity> {
    return this.manager
      .createQueryBuilder(SecretEntity, 's')
      .innerJoin(InstanceEntity, 'i', 'i.instance_guid = s.instance_guid AND i.account_id = s.account_id')
      .where("i.state = 'active'");
  }
}
