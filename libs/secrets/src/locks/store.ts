import { In, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import type { TenantScope } from '../registry/store.js';
import { SecretLockEntity } from './entities.js';
import { containsPattern, type LockListPlan } from './rules.js';

export type LockChanges = Pick<SecretLockEntity, 'description' | 'attributes' | 'updatedAt'>;

export interface LockedSecretsFilter {
  /** Only secrets of these groups. */
  readonly groups?: readonly string[];
  /** Only locks whose name contains this (case-insensitive); secrets without such a lock are left out. */
  readonly search?: string;
}

/** IN lists are sent in chunks of this many parameters. */
const IN_CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += IN_CHUNK) out.push(items.slice(start, start + IN_CHUNK));
  return out;
}

/**
 * The only way to the `secret_locks` table. Every query names the account and the instance; a call
 * without either is refused rather than run unscoped.
 */
export class LockStore {
  constructor(private readonly manager: EntityManager) {}

  private scoped(scope: TenantScope): TenantScope {
    if (!scope.accountId || !scope.instanceGuid) throw new Error('Refusing a lock query without an account id and an instance GUID');
    return scope;
  }

  private query(scope: TenantScope): SelectQueryBuilder<SecretLockEntity> {
    const { accountId, instanceGuid } = this.scoped(scope);
    return this.manager
      .createQueryBuilder(SecretLockEntity, 'l')
      .where('l.accountId = :accountId', { accountId })
      .andWhere('l.instanceGuid = :instanceGuid', { instanceGuid });
  }

  /** The locks of one version, by name. */
  onVersion(scope: TenantScope, secretId: string, versionId: string): Promise<SecretLockEntity[]> {
    const { accountId, instanceGuid } = this.scoped(scope);
    return this.manager.find(SecretLockEntity, { where: { accountId, instanceGuid, secretId, versionId }, order: { name: 'ASC' } });
  }

  countOnVersion(scope: TenantScope, secretId: string, versionId: string): Promise<number> {
    const { accountId, instanceGuid } = this.scoped(scope);
    return this.manager.countBy(SecretLockEntity, { accountId, instanceGuid, secretId, versionId });
  }

  /** Version id and name of every lock of a secret (of the given versions only, when named). */
  async names(scope: TenantScope, secretId: string, versionIds?: readonly string[]): Promise<{ versionId: string; name: string }[]> {
    const select = () => this.query(scope).select(['l.versionId', 'l.name']).andWhere('l.secretId = :secretId', { secretId });
    if (versionIds === undefined) return select().getMany();
    const rows: { versionId: string; name: string }[] = [];
    for (const part of chunks(versionIds)) rows.push(...(await select().andWhere('l.versionId IN (:...part)', { part }).getMany()));
    return rows;
  }

  async insert(rows: readonly SecretLockEntity[]): Promise<void> {
    for (const row of rows) this.scoped(row);
    // One statement per chunk: a PostgreSQL statement takes at most 65535 parameters (11 a row).
    for (const part of chunks(rows)) await this.manager.insert(SecretLockEntity, part);
  }

  async update(scope: TenantScope, secretId: string, versionId: string, name: string, changes: LockChanges): Promise<void> {
    const { accountId, instanceGuid } = this.scoped(scope);
    await this.manager.update(SecretLockEntity, { accountId, instanceGuid, secretId, versionId, name }, changes);
  }

  /**
   * Remove locks of a secret: of one version when `versionId` is given, of every version otherwise;
   * only the named ones when `names` is given. Returns what was removed.
   */
  async remove(scope: TenantScope, secretId: string, versionId?: string, names?: readonly string[]): Promise<SecretLockEntity[]> {
    const { accountId, instanceGuid } = this.scoped(scope);
    const removed: SecretLockEntity[] = [];
    const parts = names === undefined ? [undefined] : chunks(names);
    for (const part of parts) {
      const select = this.query(scope).andWhere('l.secretId = :secretId', { secretId });
      if (versionId !== undefined) select.andWhere('l.versionId = :versionId', { versionId });
      if (part !== undefined) select.andWhere('l.name IN (:...part)', { part });
      const rows = await select.getMany();
      if (rows.length === 0) continue;
      await this.manager.delete(SecretLockEntity, {
        accountId,
        instanceGuid,
        secretId,
        ...(versionId === undefined ? {} : { versionId }),
        ...(part === undefined ? {} : { name: In(part) }),
      });
      removed.push(...rows);
    }
    return removed;
  }

  /** A page of the locks of a secret (of some of its versions when named), with the filtered total. */
  async page(scope: TenantScope, secretId: string, versionId: string | undefined, plan: LockListPlan): Promise<{ rows: SecretLockEntity[]; total: number }> {
    const select = this.query(scope).andWhere('l.secretId = :secretId', { secretId });
    if (versionId !== undefined) select.andWhere('l.versionId = :versionId', { versionId });
    if (plan.search !== undefined) select.andWhere("LOWER(l.name) LIKE :pattern ESCAPE '\\'", { pattern: containsPattern(plan.search) });
    const total = await select.getCount();
    for (const [index, order] of plan.orderBy.entries()) {
      const direction = order.direction === 'asc' ? 'ASC' : 'DESC';
      if (index === 0) select.orderBy(`l.${order.column}`, direction);
      else select.addOrderBy(`l.${order.column}`, direction);
    }
    const rows = await select.offset(plan.offset).limit(plan.limit).getMany();
    return { rows, total };
  }

  private lockedSecretsQuery(scope: TenantScope, filter: LockedSecretsFilter): SelectQueryBuilder<SecretLockEntity> {
    const select = this.query(scope);
    if (filter.groups !== undefined) {
      select.andWhere('l.secretGroupId IN (:...groups)', { groups: [...filter.groups] });
    }
    if (filter.search !== undefined) select.andWhere("LOWER(l.name) LIKE :pattern ESCAPE '\\'", { pattern: containsPattern(filter.search) });
    return select;
  }

  /**
   * A page of the ids of the secrets that hold locks (matching the filter), in the order they were
   * first locked (then by id), with the total of such secrets.
   */
  async lockedSecrets(scope: TenantScope, filter: LockedSecretsFilter, offset: number, limit: number): Promise<{ secretIds: string[]; total: number }> {
    const counted = await this.lockedSecretsQuery(scope, filter).select('COUNT(DISTINCT l.secretId)', 'total').getRawOne<{ total: string | number }>();
    const rows = await this.lockedSecretsQuery(scope, filter)
      .select('l.secretId', 'secretId')
      .addSelect('MIN(l.createdAt)', 'firstLockedAt')
      .groupBy('l.secretId')
      .orderBy('MIN(l.createdAt)', 'ASC')
      .addOrderBy('l.secretId', 'ASC')
      .offset(offset)
      .limit(limit)
      .getRawMany<{ secretId: string }>();
    return { secretIds: rows.map((row) => row.secretId), total: Number(counted?.total ?? 0) };
  }

  /** The locks of these secrets (only those whose name contains `search`, when given). */
  async locksOfSecrets(scope: TenantScope, secretIds: readonly string[], search?: string): Promise<SecretLockEntity[]> {
    const rows: SecretLockEntity[] = [];
    for (const part of chunks(secretIds)) {
      const select = this.lockedSecretsQuery(scope, search === undefined ? {} : { search }).andWhere('l.secretId IN (:...part)', { part });
      rows.push(...(await select.getMany()));
    }
    return rows;
  }

  /** How many locks each of these secrets holds; secrets without locks are absent. */
  async countBySecret(scope: TenantScope, secretIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const part of chunks([...new Set(secretIds)])) {
      const rows = await this.query(scope)
        .select('l.secretId', 'secretId')
        .addSelect('COUNT(*)', 'locks')
        .andWhere('l.secretId IN (:...part)', { part })
        .groupBy('l.secretId')
        .getRawMany<{ secretId: string; locks: string | number }>();
      for (const row of rows) counts.set(row.secretId, Number(row.locks));
    }
    return counts;
  }

  /** Remove every lock of a secret, or of one of its versions; returns how many. */
  async removeAll(scope: TenantScope, secretId: string, versionId?: string): Promise<number> {
    const { accountId, instanceGuid } = this.scoped(scope);
    const result = await this.manager.delete(SecretLockEntity, { accountId, instanceGuid, secretId, ...(versionId === undefined ? {} : { versionId }) });
    return result.affected ?? 0;
  }

  /** Remove every lock of the instance; returns how many. */
  async removeInstance(scope: TenantScope): Promise<number> {
    const { accountId, instanceGuid } = this.scoped(scope);
    const result = await this.manager.delete(SecretLockEntity, { accountId, instanceGuid });
    return result.affected ?? 0;
  }
}
