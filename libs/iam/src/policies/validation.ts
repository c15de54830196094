/**
 * What makes a policy body acceptable beyond its wire shape (which zod already checked): known
 * attributes, roles and services, the caller's own account, one subject key. Every problem is
 * reported with the field it is in, all at once.
 */
import { IamServiceNames, roleFromCrn, type FieldIssue, type IamWire, type RoleName } from '@sealbox/contracts';
import { validationFailed } from '@sealbox/platform';
import type { Attribute } from './engine.js';

export type PolicyType = 'access' | 'authorization';

/** A policy that passed validation, in the form it is stored and decided on. */
export interface ValidPolicy {
  readonly type: PolicyType;
  /** Access: the subject's iam_id. Authorization: the source service name. */
  readonly subjectKey: string;
  /** The resource's serviceName value, if it has one (the list filter `service_name`). */
  readonly resourceService: string | null;
  readonly subject: readonly Attribute[];
  readonly resource: readonly Attribute[];
  readonly roles: readonly RoleName[];
  readonly description: string | null;
}

/** Resource attributes an access policy may use. */
export const ACCESS_RESOURCE_ATTRIBUTES = [
  'accountId',
  'serviceName',
  'serviceInstance',
  'resourceType',
  'resource',
  'resourceGroupId',
  'region',
] as const;

export const AUTHORIZATION_SUBJECT_ATTRIBUTES = ['accountId', 'serviceName', 'serviceInstance'] as const;
export const AUTHORIZATION_RESOURCE_ATTRIBUTES = ['accountId', 'serviceName', 'serviceInstance', 'resourceType', 'resource'] as const;
/** Services an authorization policy may target. */
export const KMS_SERVICES = ['kms', 'hs-crypto'] as const;

const IAM_ID = /^(IBMid-|iam-ServiceId-)[A-Za-z0-9][A-Za-z0-9_-]{0,110}$/;

type WireAttribute = IamWire.PolicyBody['subjects'][number]['attributes'][number];

/** Collects issues while walking one body; the first problem found in a field is the one reported. */
class Issues {
  readonly list: FieldIssue[] = [];
  add(field: string, message: string): void {
    if (!this.list.some((issue) => issue.field === field)) this.list.push({ field, message });
  }
}

function normalize(attribute: WireAttribute): Attribute {
  return attribute.operator
    ? { name: attribute.name, value: attribute.value, operator: attribute.operator }
    : { name: attribute.name, value: attribute.value };
}

/**
 * Check names against `allowed`, refuse duplicates, and (unless `wildcards`) anything but
 * stringEquals. Returns the attributes by name.
 */
function checkAttributes(
  issues: Issues,
  path: string,
  attributes: readonly WireAttribute[],
  allowed: readonly string[],
  wildcards: boolean,
): Map<string, { attribute: Attribute; field: string }> {
  const byName = new Map<string, { attribute: Attribute; field: string }>();
  attributes.forEach((attribute, index) => {
    const field = `${path}.${index}`;
    if (!allowed.includes(attribute.name)) {
      issues.add(`${field}.name`, `Unknown attribute "${attribute.name}"; expected one of ${allowed.join(', ')}`);
      return;
    }
    if (byName.has(attribute.name)) {
      issues.add(`${field}.name`, `Attribute "${attribute.name}" is given more than once`);
      return;
    }
    if (attribute.operator === 'stringMatch' && !wildcards) {
      issues.add(`${field}.operator`, 'Only stringEquals is allowed here');
    }
    byName.set(attribute.name, { attribute: normalize(attribute), field });
  });
  return byName;
}

/** An attribute that must be there with an exact value. */
function requireExact(
  issues: Issues,
  path: string,
  byName: Map<string, { attribute: Attribute; field: string }>,
  name: string,
  check?: (value: string) => string | undefined,
): void {
  const entry = byName.get(name);
  if (!entry) {
    issues.add(path, `Attribute "${name}" is required`);
    return;
  }
  if (entry.attribute.operator === 'stringMatch') {
    issues.add(`${entry.field}.operator`, `"${name}" must use stringEquals`);
    return;
  }
  const problem = check?.(entry.attribute.value);
  if (problem) issues.add(`${entry.field}.value`, problem);
}

const sameAccount = (accountId: string) => (value: string) => (value === accountId ? undefined : 'Must be the account of the caller');

function checkRoles(issues: Issues, roles: IamWire.PolicyBody['roles'], allowed?: readonly RoleName[]): RoleName[] {
  const names: RoleName[] = [];
  roles.forEach((role, index) => {
    const name = roleFromCrn(role.role_id);
    if (!name) {
      issues.add(`roles.${index}.role_id`, `Unknown role "${role.role_id}"`);
    } else if (allowed && !allowed.includes(name)) {
      issues.add(`roles.${index}.role_id`, `This policy type can grant only ${allowed.join(', ')}`);
    } else if (!names.includes(name)) {
      names.push(name);
    }
  });
  return names;
}

function subjectAttributes(body: IamWire.PolicyBody): readonly WireAttribute[] {
  return body.subjects[0]?.attributes ?? [];
}

function resourceOf(body: IamWire.PolicyBody): IamWire.PolicyBody['resources'][number] | undefined {
  return body.resources[0];
}

function validateAccess(issues: Issues, body: IamWire.PolicyBody, accountId: string): Omit<ValidPolicy, 'type' | 'description'> {
  const subject = checkAttributes(issues, 'subjects.0.attributes', subjectAttributes(body), ['iam_id'], false);
  requireExact(issues, 'subjects.0.attributes', subject, 'iam_id', (value) =>
    IAM_ID.test(value) ? undefined : 'Must be the iam_id of a user (IBMid-…) or a service ID (iam-ServiceId-…)',
  );
  const resource = checkAttributes(issues, 'resources.0.attributes', resourceOf(body)?.attributes ?? [], ACCESS_RESOURCE_ATTRIBUTES, true);
  requireExact(issues, 'resources.0.attributes', resource, 'accountId', sameAccount(accountId));
  const roles = checkRoles(issues, body.roles);
  const service = resource.get('serviceName')?.attribute;
  return {
    subjectKey: subject.get('iam_id')?.attribute.value ?? '',
    resourceService: service?.value ?? null,
    subject: [...subject.values()].map((entry) => entry.attribute),
    resource: [...resource.values()].map((entry) => entry.attribute),
    roles,
  };
}

function validateAuthorization(issues: Issues, body: IamWire.PolicyBody, accountId: string): Omit<ValidPolicy, 'type' | 'description'> {
  const subject = checkAttributes(issues, 'subjects.0.attributes', subjectAttributes(body), AUTHORIZATION_SUBJECT_ATTRIBUTES, false);
  requireExact(issues, 'subjects.0.attributes', subject, 'accountId', sameAccount(accountId));
  requireExact(issues, 'subjects.0.attributes', subject, 'serviceName', (value) =>
    (IamServiceNames as readonly string[]).includes(value) ? undefined : `Unknown service "${value}"`,
  );
  const resource = checkAttributes(
    issues,
    'resources.0.attributes',
    resourceOf(body)?.attributes ?? [],
    AUTHORIZATION_RESOURCE_ATTRIBUTES,
    false,
  );
  requireExact(issues, 'resources.0.attributes', resource, 'accountId', sameAccount(accountId));
  requireExact(issues, 'resources.0.attributes', resource, 'serviceName', (value) =>
    (KMS_SERVICES as readonly string[]).includes(value) ? undefined : `An authorization can target only ${KMS_SERVICES.join(' or ')}`,
  );
  requireExact(issues, 'resources.0.attributes', resource, 'serviceInstance');
  const resourceType = resource.get('resourceType');
  if (resourceType && resourceType.attribute.value !== 'key') {
    issues.add(`${resourceType.field}.value`, 'The only resource type an authorization can name is "key"');
  }
  const key = resource.get('resource');
  if (key && !resourceType) {
    issues.add(`${key.field}.name`, '"resource" needs resourceType "key"');
  }
  const roles = checkRoles(issues, body.roles, ['Reader']);
  return {
    subjectKey: subject.get('serviceName')?.attribute.value ?? '',
    resourceService: resource.get('serviceName')?.attribute.value ?? null,
    subject: [...subject.values()].map((entry) => entry.attribute),
    resource: [...resource.values()].map((entry) => entry.attribute),
    roles,
  };
}

/**
 * Validate a policy body for a caller of `accountId`; throws VALIDATION_FAILED naming every bad
 * field.
 */
export function validatePolicy(body: IamWire.PolicyBody, accountId: string): ValidPolicy {
  const issues = new Issues();
  const tags = resourceOf(body)?.tags;
  if (tags && tags.length > 0) {
    // Ignoring a tag condition would grant more than asked for.
    issues.add('resources.0.tags', 'Tag conditions are not supported');
  }
  const checked = body.type === 'access' ? validateAccess(issues, body, accountId) : validateAuthorization(issues, body, accountId);
  if (issues.list.length > 0) throw validationFailed(issues.list, 'The policy');
  return { type: body.type, ...checked, description: body.description ?? null };
}
