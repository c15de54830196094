import { roleCrn, Subjects, type FieldIssue, type IamWire } from '@sealbox/contracts';
import { DomainError, fieldIssuesOf } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { validatePolicy } from './validation.js';

const A = 'account-a';
type Body = IamWire.PolicyBody;
type WireAttribute = Body['resources'][number]['attributes'][number];

const attr = (name: string, value: string, operator?: 'stringEquals' | 'stringMatch'): WireAttribute =>
  operator ? { name, value, operator } : { name, value };

const access = (overrides: Partial<Body> = {}): Body => ({
  type: 'access',
  subjects: [{ attributes: [attr('iam_id', 'IBMid-alice')] }],
  roles: [{ role_id: roleCrn('Viewer') }, { role_id: roleCrn('Reader') }],
  resources: [{ attributes: [attr('accountId', A), attr('serviceName', 'secrets-manager')] }],
  ...overrides,
});

const authorization = (overrides: Partial<Body> = {}): Body => ({
  type: 'authorization',
  subjects: [{ attributes: [attr('accountId', A), attr('serviceName', 'secrets-manager')] }],
  roles: [{ role_id: roleCrn('Reader') }],
  resources: [{ attributes: [attr('accountId', A), attr('serviceName', 'kms'), attr('serviceInstance', 'kms-1')] }],
  ...overrides,
});

/** The fields of the VALIDATION_FAILED the body is refused with. */
function refusedFields(body: Body, accountId = A): string[] {
  try {
    validatePolicy(body, accountId);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const domainError = error as DomainError;
    expect(domainError.code).toBe('VALIDATION_FAILED');
    return (domainError.fields ?? []).map((issue: FieldIssue) => issue.field);
  }
  throw new Error('the policy was accepted');
}

const subjects = (...attributes: WireAttribute[]): Body['subjects'] => [{ attributes }];
const resources = (...attributes: WireAttribute[]): Body['resources'] => [{ attributes }];

describe('access policies', () => {
  it('accepts a well-formed policy and keys it by the subject iam_id', () => {
    const policy = validatePolicy(access({ description: 'readers' }), A);
    expect(policy).toEqual({
      type: 'access',
      subjectKey: 'IBMid-alice',
      resourceService: 'secrets-manager',
      subject: [{ name: 'iam_id', value: 'IBMid-alice' }],
      resource: [
        { name: 'accountId', value: A },
        { name: 'serviceName', value: 'secrets-manager' },
      ],
      roles: ['Viewer', 'Reader'],
      description: 'readers',
    });
  });

  it('accepts a service ID subject, stringMatch on non-account attributes and every known attribute', () => {
    const policy = validatePolicy(
      access({
        subjects: subjects(attr('iam_id', 'iam-ServiceId-1234abcd-0000')),
        resources: resources(
          attr('accountId', A, 'stringEquals'),
          attr('serviceName', 'secrets-manager'),
          attr('serviceInstance', 'prod-*', 'stringMatch'),
          attr('resourceType', 'secret'),
          attr('resource', '*', 'stringMatch'),
          attr('resourceGroupId', 'rg-1'),
          attr('region', 'us-south'),
        ),
      }),
      A,
    );
    expect(policy.subjectKey).toBe('iam-ServiceId-1234abcd-0000');
    expect(policy.resource).toHaveLength(7);
    expect(policy.resource[2]).toEqual({ name: 'serviceInstance', value: 'prod-*', operator: 'stringMatch' });
  });

  it('has no resource service for an account-wide policy and drops repeated roles', () => {
    const policy = validatePolicy(
      access({ resources: resources(attr('accountId', A)), roles: [{ role_id: roleCrn('Viewer') }, { role_id: roleCrn('Viewer') }] }),
      A,
    );
    expect(policy.resourceService).toBeNull();
    expect(policy.roles).toEqual(['Viewer']);
  });

  it.each([
    ['a missing iam_id', access({ subjects: subjects() }), ['subjects.0.attributes']],
    ['an iam_id of no known kind', access({ subjects: subjects(attr('iam_id', 'alice')) }), ['subjects.0.attributes.0.value']],
    [
      'an unknown subject attribute',
      access({ subjects: subjects(attr('access_group_id', 'g'), attr('iam_id', 'IBMid-a')) }),
      ['subjects.0.attributes.0.name'],
    ],
    ['a wildcard subject', access({ subjects: subjects(attr('iam_id', 'IBMid-*', 'stringMatch')) }), ['subjects.0.attributes.0.operator']],
    ['a missing accountId', access({ resources: resources(attr('serviceName', 'kms')) }), ['resources.0.attributes']],
    ['another account', access({ resources: resources(attr('accountId', 'account-b')) }), ['resources.0.attributes.0.value']],
    [
      'an accountId pattern',
      access({ resources: resources(attr('accountId', '*', 'stringMatch')) }),
      ['resources.0.attributes.0.operator'],
    ],
    [
      'an unknown resource attribute',
      access({ resources: resources(attr('accountId', A), attr('colour', 'blue')) }),
      ['resources.0.attributes.1.name'],
    ],
    [
      'a repeated resource attribute',
      access({ resources: resources(attr('accountId', A), attr('serviceName', 'kms'), attr('serviceName', 'hs-crypto')) }),
      ['resources.0.attributes.2.name'],
    ],
    [
      'an unknown role',
      access({ roles: [{ role_id: roleCrn('Viewer') }, { role_id: 'crn:v1:bluemix:public:iam::::role:Owner' }] }),
      ['roles.1.role_id'],
    ],
    ['a role that is not a CRN', access({ roles: [{ role_id: 'Administrator' }] }), ['roles.0.role_id']],
    ['a role of the wrong kind', access({ roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Viewer' }] }), ['roles.0.role_id']],
    [
      'tag conditions',
      access({ resources: [{ attributes: [attr('accountId', A)], tags: [{ name: 'env', value: 'prod' }] }] }),
      ['resources.0.tags'],
    ],
  ])('refuses %s, naming the field', (_name, body, fields) => {
    expect(refusedFields(body)).toEqual(fields);
  });

  it('reports every problem at once', () => {
    const body = access({
      subjects: subjects(attr('iam_id', 'nobody')),
      roles: [{ role_id: 'crn:v1:bluemix:public:iam::::role:Root' }],
      resources: resources(attr('serviceName', 'kms')),
    });
    expect(refusedFields(body)).toEqual(['subjects.0.attributes.0.value', 'resources.0.attributes', 'roles.0.role_id']);
  });

  it('is also refused by the wire schema for an unknown operator, naming the field', () => {
    const body = {
      ...access(),
      resources: [{ attributes: [{ name: 'accountId', value: A, operator: 'stringContains' }] }],
    };
    const parsed = Subjects['iam.policy.create'].request.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error && fieldIssuesOf(parsed.error).map((issue) => issue.field)).toEqual(['resources.0.attributes.0.operator']);
  });
});

describe('authorization policies', () => {
  it('accepts a source service to KMS instance Reader authorization, keyed by the source service', () => {
    const policy = validatePolicy(authorization(), A);
    expect(policy.type).toBe('authorization');
    expect(policy.subjectKey).toBe('secrets-manager');
    expect(policy.resourceService).toBe('kms');
    expect(policy.roles).toEqual(['Reader']);
    expect(policy.description).toBeNull();
  });

  it('accepts a source instance and a single key of hs-crypto', () => {
    const policy = validatePolicy(
      authorization({
        subjects: subjects(attr('accountId', A), attr('serviceName', 'secrets-manager'), attr('serviceInstance', 'sm-1')),
        resources: resources(
          attr('accountId', A),
          attr('serviceName', 'hs-crypto', 'stringEquals'),
          attr('serviceInstance', 'hpcs-1'),
          attr('resourceType', 'key'),
          attr('resource', 'key-1'),
        ),
      }),
      A,
    );
    expect(policy.subject).toHaveLength(3);
    expect(policy.resource).toHaveLength(5);
  });

  it.each([
    ['a missing source service', authorization({ subjects: subjects(attr('accountId', A)) }), ['subjects.0.attributes']],
    [
      'a source of another account',
      authorization({ subjects: subjects(attr('accountId', 'account-b'), attr('serviceName', 'secrets-manager')) }),
      ['subjects.0.attributes.0.value'],
    ],
    [
      'an unknown source service',
      authorization({ subjects: subjects(attr('accountId', A), attr('serviceName', 'cloud-object-storage')) }),
      ['subjects.0.attributes.1.value'],
    ],
    [
      'a user as the source',
      authorization({ subjects: subjects(attr('accountId', A), attr('serviceName', 'secrets-manager'), attr('iam_id', 'IBMid-a')) }),
      ['subjects.0.attributes.2.name'],
    ],
    [
      'a target that is not a KMS',
      authorization({ resources: resources(attr('accountId', A), attr('serviceName', 'secrets-manager'), attr('serviceInstance', 'x')) }),
      ['resources.0.attributes.1.value'],
    ],
    [
      'a target without an instance',
      authorization({ resources: resources(attr('accountId', A), attr('serviceName', 'kms')) }),
      ['resources.0.attributes'],
    ],
    [
      'a target in another account',
      authorization({ resources: resources(attr('accountId', 'account-b'), attr('serviceName', 'kms'), attr('serviceInstance', 'k')) }),
      ['resources.0.attributes.0.value'],
    ],
    [
      'a target instance pattern',
      authorization({
        resources: resources(attr('accountId', A), attr('serviceName', 'kms'), attr('serviceInstance', '*', 'stringMatch')),
      }),
      ['resources.0.attributes.2.operator'],
    ],
    [
      'a resource type other than key',
      authorization({
        resources: resources(
          attr('accountId', A),
          attr('serviceName', 'kms'),
          attr('serviceInstance', 'k'),
          attr('resourceType', 'bucket'),
        ),
      }),
      ['resources.0.attributes.3.value'],
    ],
    [
      'a key without its resource type',
      authorization({
        resources: resources(attr('accountId', A), attr('serviceName', 'kms'), attr('serviceInstance', 'k'), attr('resource', 'key-1')),
      }),
      ['resources.0.attributes.3.name'],
    ],
    [
      'a region attribute on the target',
      authorization({
        resources: resources(attr('accountId', A), attr('serviceName', 'kms'), attr('serviceInstance', 'k'), attr('region', 'us-south')),
      }),
      ['resources.0.attributes.3.name'],
    ],
    ['the Writer role', authorization({ roles: [{ role_id: roleCrn('Writer') }] }), ['roles.0.role_id']],
    [
      'a platform role',
      authorization({ roles: [{ role_id: roleCrn('Reader') }, { role_id: roleCrn('Administrator') }] }),
      ['roles.1.role_id'],
    ],
  ])('refuses %s, naming the field', (_name, body, fields) => {
    expect(refusedFields(body)).toEqual(fields);
  });
});
