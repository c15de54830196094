/**
 * The decision engine: pure functions over policies already loaded for one account. No I/O, no
 * clock; the service around it loads the candidate policies and records nothing here.
 */
import { rolesGranting, type Action, type RoleName } from '@sealbox/contracts';
import type { Decision, Principal, ResourceAttributes } from '../ports.js';

export type Operator = 'stringEquals' | 'stringMatch';

/** One `{name, value, operator}` condition of a policy subject or resource. */
export interface Attribute {
  readonly name: string;
  readonly value: string;
  /** `stringEquals` when absent. */
  readonly operator?: Operator;
}

/** An access policy as the engine sees it: what it grants, on what. */
export interface AccessGrant {
  readonly id: string;
  readonly roles: readonly RoleName[];
  readonly resource: readonly Attribute[];
}

/** An authorization policy (service to service) as the engine sees it. */
export interface AuthorizationGrant {
  readonly id: string;
  readonly subject: readonly Attribute[];
  readonly resource: readonly Attribute[];
  readonly roles: readonly RoleName[];
}

/** A source service instance asking to use a target resource with a role. */
export interface AuthorizationQuestion {
  readonly source: { readonly accountId: string; readonly serviceName: string; readonly serviceInstance?: string };
  readonly target: ResourceAttributes;
  readonly role: RoleName;
}

// ---------- values ----------

const STAR = Symbol('*');
type Token = string | typeof STAR;

/** A value as a token list: characters, and `*` as a wildcard only under stringMatch. */
function tokensOf(attribute: Attribute): Token[] {
  const characters = Array.from(attribute.value);
  return attribute.operator === 'stringMatch' ? characters.map((c) => (c === '*' ? STAR : c)) : characters;
}

/**
 * Does pattern `granted` match every string `requested` can stand for? A wildcard of `granted`
 * absorbs any run of `requested` (wildcards included); a literal character of `granted` matches only
 * the same literal. A literal `requested` makes this plain glob matching. Sound for covering: when it
 * says yes, every expansion of `requested` is matched by `granted`. Characters are never interpreted
 * as anything but themselves, so `.`, `(`, `\` or `?` need no escaping.
 */
function tokensCover(granted: readonly Token[], requested: readonly Token[]): boolean {
  let g = 0;
  let r = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (r < requested.length) {
    const token = granted[g];
    if (g < granted.length && token !== STAR && token === requested[r]) {
      g++;
      r++;
    } else if (g < granted.length && token === STAR) {
      starAt = g++;
      resumeAt = r;
    } else if (starAt >= 0) {
      g = starAt + 1;
      r = ++resumeAt;
    } else {
      return false;
    }
  }
  while (g < granted.length && granted[g] === STAR) g++;
  return g === granted.length;
}

/** Does the condition `granted` hold for every value the condition `requested` allows? */
export function attributeCovers(granted: Attribute, requested: Attribute): boolean {
  return granted.name === requested.name && tokensCover(tokensOf(granted), tokensOf(requested));
}

/** Does one literal value satisfy a condition (stringEquals exact, stringMatch with `*`)? */
export function valueMatches(condition: Attribute, value: string): boolean {
  return tokensCover(tokensOf(condition), Array.from(value));
}

// ---------- resources ----------

/**
 * Does a granted resource cover a requested one? Every attribute of `granted` must be present in
 * `requested` and hold for whatever it allows; `requested` may be narrower (more attributes).
 */
export function covers(granted: readonly Attribute[], requested: readonly Attribute[]): boolean {
  return granted.every((condition) => requested.some((candidate) => attributeCovers(condition, candidate)));
}

/** The attributes a concrete resource has, as exact conditions. */
export function attributesOf(resource: ResourceAttributes): Attribute[] {
  return Object.entries(resource).flatMap(([name, value]) => (typeof value === 'string' ? [{ name, value }] : []));
}

/** Does a policy's resource match a concrete resource? A policy attribute the resource lacks is no match. */
export function resourceMatches(policyResource: readonly Attribute[], resource: ResourceAttributes): boolean {
  return covers(policyResource, attributesOf(resource));
}

// ---------- decisions ----------

/** The first of `grants` giving one of `roles` on `resource`. */
export function decideRoles(grants: readonly AccessGrant[], roles: readonly RoleName[], resource: ResourceAttributes): Decision {
  const match = grants.find((grant) => grant.roles.some((role) => roles.includes(role)) && resourceMatches(grant.resource, resource));
  if (match) return { allowed: true, policyId: match.id };
  return { allowed: false, reason: `No policy grants one of the roles ${roles.join(', ')} on this resource` };
}

/**
 * May `subject` perform `action` on `resource`, given the access policies naming the subject in the
 * resource's account? Another account's resource is always denied.
 */
export function decide(grants: readonly AccessGrant[], subject: Principal, action: Action, resource: ResourceAttributes): Decision {
  if (subject.accountId !== resource.accountId) {
    return { allowed: false, reason: 'The resource belongs to another account' };
  }
  const decision = decideRoles(grants, rolesGranting(action), resource);
  return decision.allowed ? decision : { allowed: false, reason: `No policy allows ${action} on this resource` };
}

const conditionOf = (attributes: readonly Attribute[], name: string) => attributes.find((attribute) => attribute.name === name);

/** Does one authorization policy let the source use the target with the role? */
export function authorizationCovers(grant: AuthorizationGrant, question: AuthorizationQuestion): boolean {
  const { source, target } = question;
  const subjectHolds = (name: string, value: string | undefined) => {
    const condition = conditionOf(grant.subject, name);
    return condition !== undefined && value !== undefined && valueMatches(condition, value);
  };
  if (!subjectHolds('accountId', source.accountId) || !subjectHolds('serviceName', source.serviceName)) return false;
  if (conditionOf(grant.subject, 'serviceInstance') && !subjectHolds('serviceInstance', source.serviceInstance)) return false;
  // An authorization always names one target instance; one that does not covers nothing.
  if (!conditionOf(grant.resource, 'serviceInstance')) return false;
  return grant.roles.includes(question.role) && resourceMatches(grant.resource, target);
}

/** Is there an authorization letting `source` use `target` with `role`? */
/**
 * Provider-managed encryption: a `secrets-manager` instance of any account reads (role Reader) the
 * root keys of the provider's own `kms` instances. The operator owns those keys, so there is no
 * customer authorization to ask for; nothing else of the provider account is reachable this way.
 */
export function providerManagedUse(question: AuthorizationQuestion, providerAccountId: string | undefined): boolean {
  return (
    providerAccountId !== undefined &&
    question.target.accountId === providerAccountId &&
    question.target.serviceName === 'kms' &&
    question.source.serviceName === 'secrets-manager' &&
    question.source.serviceInstance !== undefined &&
    question.role === 'Reader'
  );
}

export function decideAuthorization(grants: readonly AuthorizationGrant[], question: AuthorizationQuestion): Decision {
  if (question.source.accountId !== question.target.accountId) {
    return { allowed: false, reason: 'The source and the target are in different accounts' };
  }
  const match = grants.find((grant) => authorizationCovers(grant, question));
  if (match) return { allowed: true, policyId: match.id };
  const { source, role, target } = question;
  return { allowed: false, reason: `No authorization gives ${source.serviceName} the ${role} role on this ${target.serviceName} resource` };
}
