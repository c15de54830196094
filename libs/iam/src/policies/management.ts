/**
 * Who may manage which policy: pure rules over the caller's own access policies (the grants naming
 * the caller in the caller's account).
 */
import { PlatformRoles, rolesGranting, type RoleName } from '@sealbox/contracts';
import { covers, decideRoles, type AccessGrant, type Attribute } from './engine.js';
import type { PolicyType } from './validation.js';

/** The parts of a policy the management rules look at. */
export interface PolicyScope {
  readonly type: PolicyType;
  readonly subject: readonly Attribute[];
  readonly resource: readonly Attribute[];
}

const pick = (attributes: readonly Attribute[], names: readonly string[]) =>
  attributes.filter((attribute) => names.includes(attribute.name));

const valueOf = (attributes: readonly Attribute[], name: string) => attributes.find((attribute) => attribute.name === name)?.value;

/** Does one of `grants` give one of `roles` on a resource covering `requested`? */
export function holdsCovering(grants: readonly AccessGrant[], roles: readonly RoleName[], requested: readonly Attribute[]): boolean {
  return grants.some((grant) => grant.roles.some((role) => roles.includes(role)) && covers(grant.resource, requested));
}

/**
 * Why the caller may not create, replace or delete `policy`, or undefined if it may:
 * - access: Administrator on a resource covering the policy's resource;
 * - authorization: Administrator on the target KMS instance and at least Viewer on the source.
 */
export function missingManagementRole(grants: readonly AccessGrant[], policy: PolicyScope): string | undefined {
  if (policy.type === 'access') {
    return holdsCovering(grants, ['Administrator'], policy.resource)
      ? undefined
      : 'Managing this access policy needs the Administrator role on a resource covering its resource';
  }
  const target = pick(policy.resource, ['accountId', 'serviceName', 'serviceInstance']);
  if (!holdsCovering(grants, ['Administrator'], target)) {
    const [service, instance] = [valueOf(target, 'serviceName'), valueOf(target, 'serviceInstance')];
    return `Managing this authorization needs the Administrator role on ${service} instance ${instance}`;
  }
  const source = pick(policy.subject, ['accountId', 'serviceName', 'serviceInstance']);
  if (!holdsCovering(grants, PlatformRoles, source)) {
    const instance = valueOf(source, 'serviceInstance');
    const what = `${valueOf(source, 'serviceName')}${instance ? ` instance ${instance}` : ''}`;
    return `Managing this authorization needs at least the Viewer role on the source service ${what}`;
  }
  return undefined;
}

const policyService = (accountId: string) => ({ accountId, serviceName: 'iam-access-management' });

/** May the caller read the policies of its account (`iam-access-management.policy.read`)? */
export function canReadPolicies(grants: readonly AccessGrant[], accountId: string): boolean {
  return decideRoles(grants, rolesGranting('iam-access-management.policy.read'), policyService(accountId)).allowed;
}

/** May the caller list the policies of its account (`iam-access-management.policy.list`)? */
export function canListPolicies(grants: readonly AccessGrant[], accountId: string): boolean {
  return decideRoles(grants, rolesGranting('iam-access-management.policy.list'), policyService(accountId)).allowed;
}
