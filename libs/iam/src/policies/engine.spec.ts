import { Actions, rolesGranting, type Action, type RoleName } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import type { ResourceAttributes } from '../ports.js';
import {
  attributeCovers,
  authorizationCovers,
  covers,
  decide,
  decideAuthorization,
  decideRoles,
  providerManagedUse,
  resourceMatches,
  valueMatches,
  type AccessGrant,
  type Attribute,
  type AuthorizationGrant,
  type AuthorizationQuestion,
} from './engine.js';

const A = 'account-a';
const B = 'account-b';
const alice = { iamId: 'IBMid-alice', accountId: A };

const eq = (name: string, value: string): Attribute => ({ name, value, operator: 'stringEquals' });
const match = (name: string, value: string): Attribute => ({ name, value, operator: 'stringMatch' });
const plain = (name: string, value: string): Attribute => ({ name, value });

const grant = (id: string, roles: RoleName[], resource: Attribute[]): AccessGrant => ({ id, roles, resource });

const secretsInstance = (instance: string, account = A): ResourceAttributes => ({
  accountId: account,
  serviceName: 'secrets-manager',
  serviceInstance: instance,
});

describe('valueMatches', () => {
  it.each([
    ['stringEquals is exact', eq('x', 'abc'), 'abc', true],
    ['stringEquals is case-sensitive', eq('x', 'abc'), 'ABC', false],
    ['stringEquals is not a prefix match', eq('x', 'abc'), 'abcd', false],
    ['no operator means stringEquals', plain('x', 'abc'), 'abc', true],
    ['under stringEquals a * is only a star', eq('x', 'a*'), 'abc', false],
    ['under stringEquals a * matches a literal star', eq('x', 'a*'), 'a*', true],
    ['a lone * matches anything', match('x', '*'), 'anything at all', true],
    ['a lone * matches the empty string', match('x', '*'), '', true],
    ['a trailing * matches a prefix', match('x', 'prod-*'), 'prod-eu-1', true],
    ['a trailing * may match nothing', match('x', 'prod-*'), 'prod-', true],
    ['a trailing * needs the prefix', match('x', 'prod-*'), 'dev-eu-1', false],
    ['a leading * matches a suffix', match('x', '*-eu'), 'prod-eu', true],
    ['a * in the middle', match('x', 'a*z'), 'abcz', true],
    ['a * in the middle keeps both ends', match('x', 'a*z'), 'abcza', false],
    ['several stars backtrack', match('x', '*a*b*c'), 'xxaxxbxxbxc', true],
    ['several stars in order only', match('x', '*a*b*c'), 'cba', false],
    ['stringMatch without a star is exact', match('x', 'abc'), 'abcd', false],
    ['a dot is not a regex wildcard', match('x', 'a.c'), 'abc', false],
    ['a dot matches a dot', match('x', 'a.c*'), 'a.cd', true],
    ['a question mark is literal', match('x', 'a?c'), 'abc', false],
    ['regex syntax is literal', match('x', '(a|b)+*'), '(a|b)+!', true],
    ['regex syntax does not act as regex', match('x', '(a|b)+'), 'a', false],
    ['a backslash is literal', match('x', '\\d*'), '\\d1', true],
    ['a backslash does not escape the star', match('x', '\\*'), '\\anything', true],
  ])('%s', (_name, condition, value, expected) => {
    expect(valueMatches(condition, value)).toBe(expected);
  });
});

describe('attributeCovers and covers', () => {
  it.each([
    ['the same exact value', eq('s', 'a'), eq('s', 'a'), true],
    ['another exact value', eq('s', 'a'), eq('s', 'b'), false],
    ['another name', eq('s', 'a'), eq('t', 'a'), false],
    ['an exact value does not cover a pattern', eq('s', 'a*'), match('s', 'a*'), false],
    ['a pattern covers a value it matches', match('s', 'a*'), eq('s', 'abc'), true],
    ['a pattern covers a narrower pattern', match('s', 'a*'), match('s', 'ab*'), true],
    ['a pattern covers the same pattern', match('s', '*a*'), match('s', '*a*'), true],
    ['a pattern covers a pattern that only adds around its literal', match('s', '*a*'), match('s', 'x*ya*z'), true],
    ['a pattern does not cover a wider pattern', match('s', 'ab*'), match('s', 'a*'), false],
    ['a pattern with a fixed end does not cover an open end', match('s', 'a*b'), match('s', 'a*'), false],
    ['a lone * covers any pattern', match('s', '*'), match('s', '*x*'), true],
    ['a literal never stands for a wildcard', match('s', 'a'), match('s', '*'), false],
  ])('%s', (_name, granted, requested, expected) => {
    expect(attributeCovers(granted, requested)).toBe(expected);
  });

  it('needs every granted attribute present in the requested resource', () => {
    const granted = [eq('accountId', A), eq('serviceName', 'kms')];
    expect(covers(granted, [eq('accountId', A), eq('serviceName', 'kms'), eq('serviceInstance', 'i1')])).toBe(true);
    expect(covers(granted, [eq('accountId', A)])).toBe(false);
    expect(covers(granted, [eq('accountId', A), eq('serviceName', 'hs-crypto')])).toBe(false);
  });

  it('lets an account-wide grant cover anything in the account, and nothing in another', () => {
    const granted = [eq('accountId', A)];
    expect(covers(granted, [eq('accountId', A), match('serviceInstance', '*')])).toBe(true);
    expect(covers(granted, [eq('accountId', B), eq('serviceName', 'kms')])).toBe(false);
  });

  it('covers nothing with a granted attribute the request lacks, even a lone *', () => {
    expect(covers([eq('accountId', A), match('region', '*')], [eq('accountId', A)])).toBe(false);
  });
});

describe('resourceMatches', () => {
  it('matches when every policy attribute matches the same attribute of the resource', () => {
    expect(resourceMatches([eq('accountId', A), eq('serviceName', 'secrets-manager')], secretsInstance('i1'))).toBe(true);
    expect(resourceMatches([eq('accountId', A), match('serviceInstance', 'i*')], secretsInstance('i1'))).toBe(true);
    expect(resourceMatches([eq('accountId', A), match('serviceInstance', 'j*')], secretsInstance('i1'))).toBe(false);
  });

  it('does not match when the resource lacks a policy attribute', () => {
    const keyPolicy = [eq('accountId', A), eq('serviceName', 'kms'), eq('resourceType', 'key')];
    expect(resourceMatches(keyPolicy, { accountId: A, serviceName: 'kms', serviceInstance: 'k1' })).toBe(false);
    expect(resourceMatches([eq('accountId', A), eq('region', 'us-south')], secretsInstance('i1'))).toBe(false);
  });

  it('ignores resource attributes that are absent (undefined)', () => {
    expect(resourceMatches([eq('accountId', A)], { accountId: A, serviceName: 'kms', resource: undefined })).toBe(true);
  });
});

describe('decide', () => {
  const grants = [
    grant('reader-all-sm', ['Reader'], [eq('accountId', A), eq('serviceName', 'secrets-manager')]),
    grant('writer-i1', ['Writer'], [eq('accountId', A), eq('serviceName', 'secrets-manager'), eq('serviceInstance', 'i1')]),
    grant('manager-prod', ['Manager'], [eq('accountId', A), eq('serviceName', 'secrets-manager'), match('serviceInstance', 'prod-*')]),
  ];

  it('allows with the first policy whose roles grant the action on a matching resource', () => {
    expect(decide(grants, alice, 'secrets-manager.secret.list', secretsInstance('i2'))).toEqual({
      allowed: true,
      policyId: 'reader-all-sm',
    });
    expect(decide(grants, alice, 'secrets-manager.secret.create', secretsInstance('i1'))).toEqual({
      allowed: true,
      policyId: 'writer-i1',
    });
    expect(decide(grants, alice, 'secrets-manager.secret.delete', secretsInstance('prod-7'))).toEqual({
      allowed: true,
      policyId: 'manager-prod',
    });
  });

  it('denies an action none of the matching policies grant, with a reason', () => {
    const decision = decide(grants, alice, 'secrets-manager.secret.read', secretsInstance('i2'));
    expect(decision.allowed).toBe(false);
    expect(decision.policyId).toBeUndefined();
    expect(decision.reason).toContain('secrets-manager.secret.read');
    expect(decide(grants, alice, 'secrets-manager.secret.delete', secretsInstance('i1')).allowed).toBe(false);
    expect(decide(grants, alice, 'secrets-manager.secret.delete', secretsInstance('dev-7')).allowed).toBe(false);
  });

  it('denies a role granted on another service', () => {
    expect(decide(grants, alice, 'kms.key.wrap', { accountId: A, serviceName: 'kms', serviceInstance: 'i1' }).allowed).toBe(false);
  });

  it('always denies a resource of another account, even when a policy would match it', () => {
    const everything = [grant('all', ['Administrator', 'Manager'], [match('accountId', '*')])];
    const decision = decide(everything, alice, 'secrets-manager.secret.list', secretsInstance('i1', B));
    expect(decision).toEqual({ allowed: false, reason: 'The resource belongs to another account' });
  });

  it('denies with no policies at all', () => {
    expect(decide([], alice, 'resource-controller.instance.read', { accountId: A, serviceName: 'secrets-manager' }).allowed).toBe(false);
  });

  it.each(Actions)('grants %s exactly to the roles of the action table', (action: Action) => {
    const resource = { accountId: A, serviceName: action.split('.')[0] ?? '' };
    const allRoles: RoleName[] = ['Viewer', 'Operator', 'Editor', 'Administrator', 'Reader', 'SecretsReader', 'Writer', 'Manager'];
    const allowedRoles = allRoles.filter((role) => decide([grant(role, [role], [eq('accountId', A)])], alice, action, resource).allowed);
    expect(allowedRoles).toEqual(allRoles.filter((role) => rolesGranting(action).includes(role)));
  });
});

describe('decideRoles', () => {
  it('uses the explicit roles', () => {
    const grants = [grant('viewer', ['Viewer'], [eq('accountId', A), eq('serviceName', 'iam-access-management')])];
    const resource = { accountId: A, serviceName: 'iam-access-management' };
    expect(decideRoles(grants, ['Viewer', 'Administrator'], resource)).toEqual({ allowed: true, policyId: 'viewer' });
    expect(decideRoles(grants, ['Administrator'], resource).allowed).toBe(false);
  });
});

describe('authorization decisions', () => {
  const policy = (
    id: string,
    subject: readonly Attribute[],
    resource: readonly Attribute[],
    roles: RoleName[] = ['Reader'],
  ): AuthorizationGrant => ({
    id,
    subject,
    resource,
    roles,
  });
  const smToKms = policy(
    'sm-to-kms',
    [eq('accountId', A), eq('serviceName', 'secrets-manager')],
    [eq('accountId', A), eq('serviceName', 'kms'), eq('serviceInstance', 'kms-1')],
  );
  const question = (overrides: Partial<AuthorizationQuestion> = {}): AuthorizationQuestion => ({
    source: { accountId: A, serviceName: 'secrets-manager', serviceInstance: 'sm-1' },
    target: { accountId: A, serviceName: 'kms', serviceInstance: 'kms-1', resourceType: 'key', resource: 'key-1' },
    role: 'Reader',
    ...overrides,
  });

  it('allows a source service of the account on the instance named by the policy', () => {
    expect(decideAuthorization([smToKms], question())).toEqual({ allowed: true, policyId: 'sm-to-kms' });
    expect(authorizationCovers(smToKms, question({ target: { accountId: A, serviceName: 'kms', serviceInstance: 'kms-1' } }))).toBe(true);
  });

  it('denies another source service, another target instance or service, and a role it does not grant', () => {
    expect(authorizationCovers(smToKms, question({ source: { accountId: A, serviceName: 'resource-controller' } }))).toBe(false);
    expect(authorizationCovers(smToKms, question({ target: { accountId: A, serviceName: 'kms', serviceInstance: 'kms-2' } }))).toBe(false);
    expect(authorizationCovers(smToKms, question({ target: { accountId: A, serviceName: 'hs-crypto', serviceInstance: 'kms-1' } }))).toBe(
      false,
    );
    expect(authorizationCovers(smToKms, question({ role: 'Writer' }))).toBe(false);
  });

  it('restricts the source instance when the policy names one', () => {
    const oneSource = policy(
      'one',
      [eq('accountId', A), eq('serviceName', 'secrets-manager'), eq('serviceInstance', 'sm-1')],
      smToKms.resource,
    );
    expect(authorizationCovers(oneSource, question())).toBe(true);
    expect(
      authorizationCovers(oneSource, question({ source: { accountId: A, serviceName: 'secrets-manager', serviceInstance: 'sm-2' } })),
    ).toBe(false);
    expect(authorizationCovers(oneSource, question({ source: { accountId: A, serviceName: 'secrets-manager' } }))).toBe(false);
  });

  it('restricts the key when the policy names one', () => {
    const oneKey = policy('key', smToKms.subject, [...smToKms.resource, eq('resourceType', 'key'), eq('resource', 'key-1')]);
    expect(authorizationCovers(oneKey, question())).toBe(true);
    expect(
      authorizationCovers(
        oneKey,
        question({ target: { accountId: A, serviceName: 'kms', serviceInstance: 'kms-1', resourceType: 'key', resource: 'key-2' } }),
      ),
    ).toBe(false);
    expect(authorizationCovers(oneKey, question({ target: { accountId: A, serviceName: 'kms', serviceInstance: 'kms-1' } }))).toBe(false);
  });

  it('never lets a policy without a target instance cover anything', () => {
    const noInstance = policy('broad', smToKms.subject, [eq('accountId', A), eq('serviceName', 'kms')]);
    expect(authorizationCovers(noInstance, question())).toBe(false);
  });

  it('denies across accounts, with a reason', () => {
    const crossSource = question({ source: { accountId: B, serviceName: 'secrets-manager', serviceInstance: 'sm-1' } });
    expect(decideAuthorization([smToKms], crossSource)).toEqual({
      allowed: false,
      reason: 'The source and the target are in different accounts',
    });
    const bPolicy = policy('b', [eq('accountId', B), eq('serviceName', 'secrets-manager')], smToKms.resource);
    expect(authorizationCovers(bPolicy, question())).toBe(false);
  });

  it('explains a denial', () => {
    const decision = decideAuthorization([], question());
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toBe('No authorization gives secrets-manager the Reader role on this kms resource');
  });
});

describe('providerManagedUse', () => {
  const PROVIDER = 'sealbox-provider';
  const question = (overrides: Partial<AuthorizationQuestion> = {}): AuthorizationQuestion => ({
    source: { accountId: A, serviceName: 'secrets-manager', serviceInstance: 'sm-1' },
    target: { accountId: PROVIDER, serviceName: 'kms', serviceInstance: 'kms-p', resourceType: 'key', resource: 'key-p' },
    role: 'Reader',
    ...overrides,
  });

  it("lets a secrets-manager instance of any account read the provider's kms keys", () => {
    expect(providerManagedUse(question(), PROVIDER)).toBe(true);
    expect(providerManagedUse(question({ source: { accountId: B, serviceName: 'secrets-manager', serviceInstance: 'sm-2' } }), PROVIDER)).toBe(true);
  });

  it.each([
    ['no provider account is configured', question(), undefined],
    ['the key is in a customer account', question({ target: { accountId: B, serviceName: 'kms', serviceInstance: 'kms-b' } }), PROVIDER],
    ['the target is not kms', question({ target: { accountId: PROVIDER, serviceName: 'hs-crypto', serviceInstance: 'h' } }), PROVIDER],
    ['the source is another service', question({ source: { accountId: A, serviceName: 'cloud-object-storage', serviceInstance: 'c' } }), PROVIDER],
    ['the source names no instance', question({ source: { accountId: A, serviceName: 'secrets-manager' } }), PROVIDER],
    ['the role is more than Reader', question({ role: 'Manager' }), PROVIDER],
  ] as const)('refuses when %s', (_case, asked, provider) => {
    expect(providerManagedUse(asked, provider)).toBe(false);
  });
});
