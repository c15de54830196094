import type { EntityManager } from 'typeorm';
import { PolicyEntity } from './policy.entity.js';
import type { PolicyType } from './validation.js';

/** Where a page starts: just after this row in (created_at, id) order. */
export interface PageCursor {
  readonly createdAt: number;
  readonly id: string;
}

export interface PolicyFilter {
  readonly type?: PolicyType;
  /** Access policies whose subject is this iam_id. */
  readonly iamId?: string;
  /** Policies whose resource serviceName is this value. */
  readonly serviceName?: string;
  /** Policies whose resource serviceName is (`in`) or is not (`notIn`) one of these. */
  readonly serviceIn?: { readonly services: readonly string[]; readonly negate: boolean };
}

export type PolicyChanges = Pick<
  PolicyEntity,
  'subjectKey' | 'resourceService' | 'subjects' | 'roles' | 'resources' | 'description' | 'lastModifiedAt' | 'lastModifiedBy' | 'etag'
>;

/**
 * The only way to the policies table. Every query is scoped to one account, and a call without one
 * is refused rather than run unscoped.
 */
export class PolicyStore {
  constructor(private readonly manager: EntityManager) {}

  private scoped(accountId: string): string {
    if (!accountId) throw new Error('Refusing a policy query without an account id');
    return accountId;
  }

  find(accountId: string, id: string): Promise<PolicyEntity | null> {
    return this.manager.findOneBy(PolicyEntity, { accountId: this.scoped(accountId), id });
  }

  /** The policies of one type whose subject key is `subjectKey`, oldest first. */
  bySubject(accountId: string, type: PolicyType, subjectKey: string): Promise<PolicyEntity[]> {
    return this.manager.find(PolicyEntity, {
      where: { accountId: this.scoped(accountId), type, subjectKey },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /** Up to `limit` policies after `after` in (created_at, id) order. */
  page(accountId: string, filter: PolicyFilter, after: PageCursor | undefined, limit: number): Promise<PolicyEntity[]> {
    const query = this.manager
      .createQueryBuilder(PolicyEntity, 'p')
      .where('p.accountId = :accountId', { accountId: this.scoped(accountId) });
    if (filter.type) query.andWhere('p.type = :type', { type: filter.type });
    if (filter.iamId !== undefined) {
      query.andWhere('p.type = :access AND p.subjectKey = :iamId', { access: 'access', iamId: filter.iamId });
    }
    if (filter.serviceName !== undefined) query.andWhere('p.resourceService = :serviceName', { serviceName: filter.serviceName });
    if (filter.serviceIn) {
      query.andWhere(
        filter.serviceIn.negate
          ? 'p.resourceService IS NOT NULL AND p.resourceService NOT IN (:...services)'
          : 'p.resourceService IN (:...services)',
        { services: filter.serviceIn.services },
      );
    }
    if (after) {
      query.andWhere('(p.createdAt > :afterAt OR (p.createdAt = :afterAt AND p.id > :afterId))', {
        afterAt: after.createdAt,
        afterId: after.id,
      });
    }
    return query.orderBy('p.createdAt', 'ASC').addOrderBy('p.id', 'ASC').limit(limit).getMany();
  }

  async insert(policy: PolicyEntity): Promise<void> {
    this.scoped(policy.accountId);
    await this.manager.insert(PolicyEntity, policy);
  }

  /** Replace the content of a policy whose etag is still `etag`; false if it changed or is gone. */
  async replace(accountId: string, id: string, etag: string, changes: PolicyChanges): Promise<boolean> {
    const result = await this.manager.update(PolicyEntity, { accountId: this.scoped(accountId), id, etag }, changes);
    return (result.affected ?? 0) > 0;
  }

  /** Delete a policy; false if it was not there. */
  async remove(accountId: string, id: string): Promise<boolean> {
    const result = await this.manager.delete(PolicyEntity, { accountId: this.scoped(accountId), id });
    return (result.affected ?? 0) > 0;
  }
}
