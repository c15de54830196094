import { Actions, rolesGranting, type Action, type RoleName } from '@sealbox/contracts';
import type { EntityManager } from 'typeorm';
import { AccessDecider, AccountAdminGrant, type Decision, type Principal, type ResourceAttributes } from '../../ports.js';

/** Test doubles for the policies area's ports (that area is built in parallel). Not used by src. */

interface FakeGrant {
  readonly id: string;
  readonly subject: Principal;
  readonly actions: ReadonlySet<Action>;
  /** Attributes a resource must have, beyond the subject's account; none = the whole account. */
  readonly scope: Partial<Omit<ResourceAttributes, 'accountId'>>;
}

export interface AskedDecision {
  readonly subject: Principal;
  readonly action: Action;
  readonly resource: ResourceAttributes;
}

/**
 * Grants by role over the real action table: a grant covers a resource of the subject's own account
 * when every attribute of its scope equals the resource's (so a grant scoped to one service ID does
 * not cover the account, while an account-wide grant covers every service ID). Cross-account is
 * always denied.
 */
export class FakeAccessDecider extends AccessDecider {
  private readonly grants: FakeGrant[] = [];
  readonly asked: AskedDecision[] = [];

  grantRole(subject: Principal, role: RoleName, scope: FakeGrant['scope'] = {}): void {
    const actions = new Set(Actions.filter((action) => rolesGranting(action).includes(role)));
    this.grants.push({ id: `fake-policy-${this.grants.length + 1}`, subject, actions, scope });
  }

  grantEverything(subject: Principal): void {
    this.grants.push({ id: `fake-policy-${this.grants.length + 1}`, subject, actions: new Set(Actions), scope: {} });
  }

  async authorize(subject: Principal, action: Action, resource: ResourceAttributes): Promise<Decision> {
    this.asked.push({ subject, action, resource });
    if (subject.accountId !== resource.accountId) return { allowed: false, reason: 'cross-account' };
    const grant = this.grants.find(
      (candidate) =>
        candidate.subject.iamId === subject.iamId &&
        candidate.subject.accountId === resource.accountId &&
        candidate.actions.has(action) &&
        Object.entries(candidate.scope).every(([name, value]) => resource[name as keyof ResourceAttributes] === value),
    );
    return grant ? { allowed: true, policyId: grant.id } : { allowed: false, reason: 'no policy' };
  }

  async hasRole(_subject: Principal, _roles: readonly RoleName[], _resource: ResourceAttributes): Promise<Decision> {
    return { allowed: false, reason: 'not asked by the identities area' };
  }
}

/** Records account-admin grants and gives the administrator every action in the fake decider. */
export class FakeAccountAdminGrant extends AccountAdminGrant {
  readonly granted: { accountId: string; iamId: string; nowMs: number }[] = [];

  constructor(private readonly decider: FakeAccessDecider) {
    super();
  }

  async grantAccountAdmin(_manager: EntityManager, accountId: string, iamId: string, nowMs: number): Promise<void> {
    this.granted.push({ accountId, iamId, nowMs });
    this.decider.grantEverything({ iamId, accountId });
  }
}
