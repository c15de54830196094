import { SecretsWire, Subjects } from '@sealbox/contracts';
import { DomainError, type RpcMeta } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import type { InstanceEntity, SecretGroupEntity } from './entities.js';
import {
  applyGroupPatch,
  assertChangeableGroup,
  assertEmptyGroup,
  assertNotDefaultName,
  callerOf,
  sameActivation,
  toWireGroup,
  toWireInstance,
  usableInstance,
} from './rules.js';

const GUID = '0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f';
const AT = Date.UTC(2026, 10, 1, 12, 0, 0);

const instance = (overrides: Partial<InstanceEntity> = {}): InstanceEntity => ({
  instanceGuid: GUID,
  accountId: 'acc1',
  crn: `crn:v1:bluemix:public:secrets-manager:us-south:a/acc1:${GUID}::`,
  region: 'us-south',
  kmsInstanceId: 'kms-1',
  kmsKeyId: 'key-1',
  kmsAccountId: null,
  state: 'active',
  planId: null,
  createdAt: AT,
  updatedAt: AT,
  ...overrides,
});

const group = (overrides: Partial<SecretGroupEntity> = {}): SecretGroupEntity => ({
  instanceGuid: GUID,
  id: '11111111-2222-4333-8444-555555555555',
  accountId: 'acc1',
  name: 'team',
  description: 'Team secrets',
  createdAt: AT,
  createdBy: 'IBMid-1',
  updatedAt: AT + 1000,
  ...overrides,
});

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).code;
  }
  return undefined;
}

describe('secret group rules', () => {
  it('needs a caller', () => {
    const meta: RpcMeta = { subject: 'secrets.group.list' };
    expect(codeOf(() => callerOf(meta))).toBe('UNAUTHORIZED');
    expect(callerOf({ ...meta, caller: { accountId: 'acc1', iamId: 'IBMid-1', subType: 'user' } })).toEqual({ accountId: 'acc1', iamId: 'IBMid-1' });
  });

  it('gates on the instance: missing NOT_FOUND, disabled INSTANCE_NOT_ACTIVE, active passes', () => {
    expect(codeOf(() => usableInstance(null, GUID))).toBe('NOT_FOUND');
    expect(codeOf(() => usableInstance(instance({ state: 'disabled' }), GUID))).toBe('INSTANCE_NOT_ACTIVE');
    expect(usableInstance(instance(), GUID).instanceGuid).toBe(GUID);
  });

  it('replays an activation only with the same attributes', () => {
    const request: SecretsWire.ActivateInstanceRequest = {
      accountId: 'acc1',
      instanceGuid: GUID,
      crn: instance().crn,
      region: 'us-south',
      kmsKey: { instanceId: 'kms-1', keyId: 'key-1' },
    };
    expect(sameActivation(instance(), request)).toBe(true);
    expect(sameActivation(instance({ state: 'disabled' }), request)).toBe(true);
    expect(sameActivation(instance(), { ...request, accountId: 'acc2' })).toBe(false);
    expect(sameActivation(instance(), { ...request, region: 'eu-de' })).toBe(false);
    expect(sameActivation(instance(), { ...request, kmsKey: { instanceId: 'kms-1', keyId: 'key-2' } })).toBe(false);
    // The key's account: naming the instance's own account is the same as naming none.
    expect(sameActivation(instance(), { ...request, kmsKey: { instanceId: 'kms-1', keyId: 'key-1', accountId: 'acc1' } })).toBe(true);
    expect(sameActivation(instance(), { ...request, kmsKey: { instanceId: 'kms-1', keyId: 'key-1', accountId: 'provider' } })).toBe(false);
    const provider = instance({ kmsAccountId: 'provider' });
    expect(sameActivation(provider, { ...request, kmsKey: { instanceId: 'kms-1', keyId: 'key-1', accountId: 'provider' } })).toBe(true);
    expect(sameActivation(provider, request)).toBe(false);
  });

  it('protects the default group (400 naming id) and its name', () => {
    const error = (() => {
      try {
        assertChangeableGroup('default');
      } catch (caught) {
        return caught as DomainError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('VALIDATION_FAILED');
    expect(error?.fields).toEqual([{ field: 'id', message: 'the default secret group cannot be updated or deleted' }]);
    expect(codeOf(() => assertChangeableGroup(group().id))).toBeUndefined();
    expect(codeOf(() => assertNotDefaultName('default'))).toBe('CONFLICT');
    expect(codeOf(() => assertNotDefaultName('Default'))).toBeUndefined();
  });

  it('refuses to delete a group holding secrets', () => {
    expect(codeOf(() => assertEmptyGroup('g', 1))).toBe('CONFLICT');
    expect(codeOf(() => assertEmptyGroup('g', 0))).toBeUndefined();
  });

  it('applies a merge patch: absent keeps, null removes the description', () => {
    const current = group();
    expect(applyGroupPatch(current, {})).toEqual({ name: 'team', description: 'Team secrets' });
    expect(applyGroupPatch(current, { name: 'renamed' })).toEqual({ name: 'renamed', description: 'Team secrets' });
    expect(applyGroupPatch(current, { description: null })).toEqual({ name: 'team', description: null });
    expect(applyGroupPatch(current, { description: 'new' })).toEqual({ name: 'team', description: 'new' });
  });

  it('renders groups and instances on the wire', () => {
    expect(toWireGroup(group({ description: null }))).toEqual({
      id: group().id,
      name: 'team',
      created_at: '2026-11-01T12:00:00.000Z',
      created_by: 'IBMid-1',
      updated_at: '2026-11-01T12:00:01.000Z',
    });
    expect(SecretsWire.SecretGroup.parse(toWireGroup(group()))).toEqual(toWireGroup(group()));
    expect(Subjects['secrets.instance.get'].response.parse(toWireInstance(instance()))).toEqual({
      accountId: 'acc1',
      instanceGuid: GUID,
      crn: instance().crn,
      region: 'us-south',
      kmsKey: { instanceId: 'kms-1', keyId: 'key-1' },
      state: 'active',
      createdAt: '2026-11-01T12:00:00.000Z',
      updatedAt: '2026-11-01T12:00:00.000Z',
    });
    // A provider-managed instance names its key's account.
    expect(toWireInstance(instance({ kmsAccountId: 'provider' })).kmsKey).toEqual({ instanceId: 'kms-1', keyId: 'key-1', accountId: 'provider' });
  });
});

describe('secret group request schemas', () => {
  const fieldsOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
    result.success ? [] : (result.error?.issues.map((issue) => issue.path.join('.')) ?? []);

  it('create: name 2–64 of the allowed characters, description up to 1024, nothing unknown', () => {
    const create = Subjects['secrets.group.create'].request;
    expect(create.safeParse({ instanceGuid: GUID, name: 'ok-name' }).success).toBe(true);
    expect(fieldsOf(create.safeParse({ instanceGuid: GUID, name: 'a' }))).toEqual(['name']);
    expect(fieldsOf(create.safeParse({ instanceGuid: GUID, name: 'n'.repeat(65) }))).toEqual(['name']);
    expect(fieldsOf(create.safeParse({ instanceGuid: GUID, name: 'ok-name', description: 'd'.repeat(1025) }))).toEqual(['description']);
    expect(fieldsOf(create.safeParse({ instanceGuid: GUID, name: 'ok-name', colour: 'red' }))).toEqual(['']);
    expect(fieldsOf(create.safeParse({ instanceGuid: GUID.toUpperCase(), name: 'ok-name' }))).toEqual(['instanceGuid']);
  });

  it('update: merge-patch fields, a UUID or default as id', () => {
    const update = Subjects['secrets.group.update'].request;
    expect(update.parse({ instanceGuid: GUID, id: 'default', description: null })).toEqual({ instanceGuid: GUID, id: 'default', description: null });
    expect(fieldsOf(update.safeParse({ instanceGuid: GUID, id: 'group-1', name: 'x2' }))).toEqual(['id']);
    expect(fieldsOf(update.safeParse({ instanceGuid: GUID, id: 'default', name: null }))).toEqual(['name']);
  });

  it('set-state: active or disabled only', () => {
    const setState = Subjects['secrets.instance.set-state'].request;
    expect(setState.safeParse({ instanceGuid: GUID, state: 'disabled' }).success).toBe(true);
    expect(fieldsOf(setState.safeParse({ instanceGuid: GUID, state: 'paused' }))).toEqual(['state']);
  });
});
