import { Inject, Injectable } from '@nestjs/common';
import {
  isAction,
  PlatformRoles,
  ServiceRoles,
  type Action,
  type ResponseOf,
  type RoleName,
  type ValidatedRequestOf,
} from '@sealbox/contracts';
import { Clock, dataSourceToken, DomainError, forbidden, notFound, outboxToken, validationFailed, type Outbox } from '@sealbox/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AccessDecider, type AccountAdminGrant, type SubjectPolicyCleanup, type Decision, type Principal, type ResourceAttributes } from '../ports.js';
import { decide, decideAuthorization, decideRoles, providerManagedUse, type AccessGrant } from './engine.js';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { canListPolicies, canReadPolicies, missingManagementRole, type PolicyScope } from './management.js';
import {
  accessGrantOf,
  authorizationGrantOf,
  decodeCursor,
  encodeCursor,
  etagMatches,
  parseStored,
  storedContent,
  toWirePolicy,
} from './policy.codec.js';
import { PolicyEntity } from './policy.entity.js';
import { PolicyStore, type PolicyChanges, type PolicyFilter } from './policy.store.js';
import { roleCatalog } from './role-catalog.js';
import { validatePolicy, type ValidPolicy } from './validation.js';

/** Services whose resources are the platform's own (`service_type=platform_service`). */
const PLATFORM_SERVICES = ['iam-identity', 'iam-access-management', 'resource-controller'];

/** `created_by_id` of policies the system makes itself (an account's first administrator). */
export const SYSTEM_ACTOR = 'system';

const newEtag = () => randomBytes(16).toString('hex');

/** Access and authorization policies, roles, and the decisions made from them. */
@Injectable()
export class PolicyService extends AccessDecider implements AccountAdminGrant, SubjectPolicyCleanup {
  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(outboxToken('iam')) private readonly outbox: Outbox,
    private readonly clock: Clock,
    @Inject(IAM_OPTIONS) private readonly options: IamOptions,
  ) {
    super();
  }

  // ---------- decisions ----------

  async authorize(subject: Principal, action: Action, resource: ResourceAttributes): Promise<Decision> {
    if (subject.accountId !== resource.accountId) return decide([], subject, action, resource);
    return decide(await this.grantsOf(this.dataSource.manager, subject.iamId, resource.accountId), subject, action, resource);
  }

  async hasRole(subject: Principal, roles: readonly RoleName[], resource: ResourceAttributes): Promise<Decision> {
    if (subject.accountId !== resource.accountId) {
      return { allowed: false, reason: 'The resource belongs to another account' };
    }
    return decideRoles(await this.grantsOf(this.dataSource.manager, subject.iamId, resource.accountId), roles, resource);
  }

  /** `iam.authorize`: the action name arrives as a string; an unknown action is denied. */
  async authorizeRequest(request: ValidatedRequestOf<'iam.authorize'>): Promise<ResponseOf<'iam.authorize'>> {
    if (!isAction(request.action)) return { allowed: false, reason: `Unknown action "${request.action}"` };
    return this.authorize(request.subject, request.action, request.resource);
  }

  /** `iam.authorization.check`: does an authorization let the source service instance use the target? */
  async checkAuthorization(request: ValidatedRequestOf<'iam.authorization.check'>): Promise<ResponseOf<'iam.authorization.check'>> {
    if (providerManagedUse(request, this.options.providerAccountId)) return { allowed: true, reason: 'Provider-managed encryption' };
    const rows =
      request.source.accountId === request.target.accountId
        ? await new PolicyStore(this.dataSource.manager).bySubject(request.target.accountId, 'authorization', request.source.serviceName)
        : [];
    return decideAuthorization(rows.map(authorizationGrantOf), request);
  }

  async grantAccountAdmin(manager: EntityManager, accountId: string, iamId: string, nowMs: number): Promise<void> {
    const policy: ValidPolicy = {
      type: 'access',
      subjectKey: iamId,
      resourceService: null,
      subject: [{ name: 'iam_id', value: iamId }],
      resource: [{ name: 'accountId', value: accountId }],
      roles: [...PlatformRoles, ...ServiceRoles],
      description: 'Account administrator',
    };
    await this.insert(manager, this.newRow(accountId, policy, SYSTEM_ACTOR, nowMs));
  }

  /** Access policies of a deleted identity go with it, each with its event (SubjectPolicyCleanup). */
  async deletePoliciesOf(manager: EntityManager, accountId: string, iamId: string): Promise<number> {
    const rows = await manager.findBy(PolicyEntity, { accountId, type: 'access', subjectKey: iamId });
    for (const row of rows) {
      await new PolicyStore(manager).remove(accountId, row.id);
      await this.outbox.record(manager, 'iam.policy.deleted', { accountId, policyId: row.id, type: 'access' });
    }
    return rows.length;
  }

  /**
   * `iam.policy.delete-for-instance` (lifecycle's permanent delete): the authorization policies whose
   * subject names exactly this service instance go, each with its event; policies for every instance
   * of the service stay. Idempotent.
   */
  async deleteInstanceAuthorizations(request: ValidatedRequestOf<'iam.policy.delete-for-instance'>): Promise<ResponseOf<'iam.policy.delete-for-instance'>> {
    return this.dataSource.transaction(async (manager) => {
      const store = new PolicyStore(manager);
      const rows = await store.bySubject(request.accountId, 'authorization', request.serviceName);
      const scoped = rows.filter((row) =>
        parseStored(row).subject.some((attribute) => attribute.name === 'serviceInstance' && attribute.value === request.serviceInstance && attribute.operator !== 'stringMatch'),
      );
      for (const row of scoped) {
        await store.remove(request.accountId, row.id);
        await this.outbox.record(manager, 'iam.policy.deleted', { accountId: request.accountId, policyId: row.id, type: 'authorization' });
      }
      return { deleted: scoped.length };
    });
  }

  // ---------- policies ----------

  async create(caller: Principal, request: ValidatedRequestOf<'iam.policy.create'>): Promise<ResponseOf<'iam.policy.create'>> {
    const policy = validatePolicy(request, caller.accountId);
    const grants = await this.callerGrants(caller);
    this.requireManagement(grants, policy);
    const row = this.newRow(caller.accountId, policy, caller.iamId, this.clock.nowMs());
    await this.dataSource.transaction((manager) => this.insert(manager, row));
    return toWirePolicy(row);
  }

  async list(caller: Principal, request: ValidatedRequestOf<'iam.policy.list'>): Promise<ResponseOf<'iam.policy.list'>> {
    if (request.account_id !== caller.accountId) {
      throw forbidden('You can list only the policies of your own account');
    }
    if (!canListPolicies(await this.callerGrants(caller), caller.accountId)) {
      throw forbidden('Listing policies needs the Viewer role on iam-access-management');
    }
    const filter = this.filterOf(request);
    const after = request.start !== undefined ? decodeCursor(request.start) : undefined;
    // Nothing of a deleted policy remains, so there is never a deleted one to list.
    const rows =
      request.state === 'deleted'
        ? []
        : await new PolicyStore(this.dataSource.manager).page(caller.accountId, filter, after, request.limit + 1);
    const page = rows.slice(0, request.limit);
    const last = page.at(-1);
    const more = rows.length > request.limit && last !== undefined;
    const start = more ? encodeCursor(last) : undefined;
    return {
      limit: request.limit,
      first: { href: listHref(request) },
      ...(start ? { next: { href: listHref(request, start), start } } : {}),
      policies: page.map(toWirePolicy),
    };
  }

  async get(caller: Principal, id: string): Promise<ResponseOf<'iam.policy.get'>> {
    const row = await new PolicyStore(this.dataSource.manager).find(caller.accountId, id);
    if (!row) throw policyNotFound();
    const grants = await this.callerGrants(caller);
    if (!canReadPolicies(grants, caller.accountId) && missingManagementRole(grants, scopeOf(row))) throw policyNotFound();
    return toWirePolicy(row);
  }

  async replace(caller: Principal, request: ValidatedRequestOf<'iam.policy.replace'>): Promise<ResponseOf<'iam.policy.replace'>> {
    const store = new PolicyStore(this.dataSource.manager);
    const existing = await store.find(caller.accountId, request.id);
    if (!existing) throw policyNotFound();
    const grants = await this.callerGrants(caller);
    this.requireManagementOfExisting(grants, caller, existing);
    if (request.type !== existing.type) {
      throw validationFailed([{ field: 'type', message: `The type of a policy cannot change (it is ${existing.type})` }], 'The policy');
    }
    const policy = validatePolicy(request, caller.accountId);
    this.requireManagement(grants, policy);
    if (!etagMatches(request.if_match, existing.etag)) throw stalePolicy();

    const changes: PolicyChanges = {
      ...storedContent(policy),
      subjectKey: policy.subjectKey,
      resourceService: policy.resourceService,
      description: policy.description,
      lastModifiedAt: this.clock.nowMs(),
      lastModifiedBy: caller.iamId,
      etag: newEtag(),
    };
    await this.dataSource.transaction(async (manager) => {
      // Conditional on the etag read above: a concurrent replace makes this one stale.
      if (!(await new PolicyStore(manager).replace(caller.accountId, existing.id, existing.etag, changes))) throw stalePolicy();
      await this.outbox.record(manager, 'iam.policy.updated', { accountId: caller.accountId, policyId: existing.id, type: existing.type });
    });
    const changed: PolicyEntity = { ...existing, ...changes };
    return toWirePolicy(changed);
  }

  async delete(caller: Principal, id: string): Promise<void> {
    const existing = await new PolicyStore(this.dataSource.manager).find(caller.accountId, id);
    if (!existing) throw policyNotFound();
    this.requireManagementOfExisting(await this.callerGrants(caller), caller, existing);
    await this.dataSource.transaction(async (manager) => {
      if (!(await new PolicyStore(manager).remove(caller.accountId, id))) throw policyNotFound();
      await this.outbox.record(manager, 'iam.policy.deleted', { accountId: caller.accountId, policyId: id, type: existing.type });
    });
  }

  async listRoles(request: ValidatedRequestOf<'iam.role.list'>): Promise<ResponseOf<'iam.role.list'>> {
    return roleCatalog(request);
  }

  // ---------- helpers ----------

  /** The access policies naming `iamId` in `accountId`, as grants. */
  private async grantsOf(manager: EntityManager, iamId: string, accountId: string): Promise<AccessGrant[]> {
    const rows = await new PolicyStore(manager).bySubject(accountId, 'access', iamId);
    return rows.map(accessGrantOf);
  }

  private callerGrants(caller: Principal): Promise<AccessGrant[]> {
    return this.grantsOf(this.dataSource.manager, caller.iamId, caller.accountId);
  }

  private requireManagement(grants: readonly AccessGrant[], policy: PolicyScope): void {
    const missing = missingManagementRole(grants, policy);
    if (missing) throw forbidden(missing);
  }

  /** A caller who may neither manage nor read a policy is told it does not exist. */
  private requireManagementOfExisting(grants: readonly AccessGrant[], caller: Principal, existing: PolicyEntity): void {
    const missing = missingManagementRole(grants, scopeOf(existing));
    if (!missing) return;
    throw canReadPolicies(grants, caller.accountId) ? forbidden(missing) : policyNotFound();
  }

  private newRow(accountId: string, policy: ValidPolicy, actor: string, nowMs: number): PolicyEntity {
    return Object.assign(new PolicyEntity(), {
      id: randomUUID(),
      accountId,
      type: policy.type,
      subjectKey: policy.subjectKey,
      resourceService: policy.resourceService,
      ...storedContent(policy),
      description: policy.description,
      createdAt: nowMs,
      createdBy: actor,
      lastModifiedAt: nowMs,
      lastModifiedBy: actor,
      etag: newEtag(),
    });
  }

  private async insert(manager: EntityManager, row: PolicyEntity): Promise<void> {
    await new PolicyStore(manager).insert(row);
    await this.outbox.record(manager, 'iam.policy.created', { accountId: row.accountId, policyId: row.id, type: row.type });
  }

  private filterOf(request: ValidatedRequestOf<'iam.policy.list'>): PolicyFilter {
    const serviceType = request.service_type;
    if (serviceType !== undefined && serviceType !== 'service' && serviceType !== 'platform_service') {
      throw validationFailed([{ field: 'service_type', message: 'Must be service or platform_service' }]);
    }
    return {
      ...(request.type ? { type: request.type } : {}),
      ...(request.iam_id !== undefined ? { iamId: request.iam_id } : {}),
      ...(request.service_name !== undefined ? { serviceName: request.service_name } : {}),
      ...(serviceType ? { serviceIn: { services: PLATFORM_SERVICES, negate: serviceType === 'service' } } : {}),
    };
  }
}

function scopeOf(row: PolicyEntity): PolicyScope {
  const { subject, resource } = parseStored(row);
  return { type: row.type, subject, resource };
}

const policyNotFound = () => notFound('The policy');

const stalePolicy = () =>
  new DomainError('PRECONDITION_FAILED', 'The policy was changed since it was read (If-Match does not match its ETag)');

/** `/v1/policies?account_id=…` with the request's filters, its limit and, for a next page, `start`. */
function listHref(request: ValidatedRequestOf<'iam.policy.list'>, start?: string): string {
  const query = new URLSearchParams({ account_id: request.account_id });
  for (const name of ['iam_id', 'type', 'service_type', 'service_name', 'state'] as const) {
    const value = request[name];
    if (value !== undefined) query.set(name, value);
  }
  query.set('limit', String(request.limit));
  if (start !== undefined) query.set('start', start);
  return `/v1/policies?${query.toString()}`;
}
