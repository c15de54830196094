import { DomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { IdentityAccess, identityResource, type IdentityRef } from './access.js';
import { FakeAccessDecider } from './testing/access-fakes.js';

const accountId = 'a1';
const alice = { iamId: 'IBMid-alice', accountId };
const robot: IdentityRef = { iamId: 'iam-ServiceId-robot', accountId, kind: 'service_id' };
const other: IdentityRef = { iamId: 'iam-ServiceId-other', accountId, kind: 'service_id' };
const bob: IdentityRef = { iamId: 'IBMid-bob', accountId, kind: 'user' };
const missing = () => new DomainError('NOT_FOUND', 'missing');

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

function setup() {
  const decider = new FakeAccessDecider();
  return { decider, access: new IdentityAccess(decider) };
}

describe('identity resources', () => {
  it('addresses a service ID by its id and a user only through the account', () => {
    expect(identityResource(robot)).toEqual({
      accountId,
      serviceName: 'iam-identity',
      resourceType: 'serviceid',
      resource: 'ServiceId-robot',
    });
    expect(identityResource(bob)).toEqual({ accountId, serviceName: 'iam-identity' });
  });
});

describe('IdentityAccess on API keys', () => {
  it("never lets a policy grant managing another user's keys, even an Operator or everything on iam-identity", async () => {
    const { decider, access } = setup();
    decider.grantEverything(alice);
    for (const action of ['iam-identity.apikey.create', 'iam-identity.apikey.update', 'iam-identity.apikey.lock', 'iam-identity.apikey.delete'] as const) {
      expect(await codeOf(access.requireOnKeysOf(alice, bob, action, missing))).toBe('FORBIDDEN');
      expect(await access.allowsOnKeysOf(alice, bob, action)).toBe(false);
      // The same grant does cover a service ID's keys.
      expect(await codeOf(access.requireOnKeysOf(alice, robot, action, missing))).toBe('OK');
    }
    // Reading another user's key records (never values) can be granted.
    expect(await codeOf(access.requireOnKeysOf(alice, bob, 'iam-identity.apikey.read', missing))).toBe('OK');
  });

  it("answers NOT_FOUND for another user's keys when the caller may not even read them", async () => {
    const { access } = setup();
    expect(await codeOf(access.requireOnKeysOf(alice, bob, 'iam-identity.apikey.create', missing))).toBe('NOT_FOUND');
  });

  it('lets a caller manage its own keys without asking for a policy', async () => {
    const { decider, access } = setup();
    const self: IdentityRef = { ...alice, kind: 'user' };
    for (const action of ['iam-identity.apikey.create', 'iam-identity.apikey.delete', 'iam-identity.apikey.lock'] as const) {
      expect(await codeOf(access.requireOnKeysOf(alice, self, action, missing))).toBe('OK');
    }
    expect(decider.asked).toEqual([]);
  });

  it('answers NOT_FOUND for another account without asking for a policy', async () => {
    const { decider, access } = setup();
    decider.grantEverything(alice);
    const foreign: IdentityRef = { iamId: 'iam-ServiceId-x', accountId: 'a2', kind: 'service_id' };
    expect(await codeOf(access.requireOnKeysOf(alice, foreign, 'iam-identity.apikey.read', missing))).toBe('NOT_FOUND');
    expect(await access.allowsOnKeysOf(alice, foreign, 'iam-identity.apikey.list')).toBe(false);
    expect(decider.asked).toEqual([]);
  });

  it('answers NOT_FOUND to a caller without any role and FORBIDDEN to one that may only read', async () => {
    const { decider, access } = setup();
    expect(await codeOf(access.requireOnKeysOf(alice, robot, 'iam-identity.apikey.create', missing))).toBe('NOT_FOUND');
    decider.grantRole(alice, 'Viewer');
    expect(await codeOf(access.requireOnKeysOf(alice, robot, 'iam-identity.apikey.read', missing))).toBe('OK');
    expect(await codeOf(access.requireOnKeysOf(alice, robot, 'iam-identity.apikey.create', missing))).toBe('FORBIDDEN');
    expect(await codeOf(access.requireOnKeysOf(alice, bob, 'iam-identity.apikey.delete', missing))).toBe('FORBIDDEN');
  });

  it('asks with the service ID as the resource, so a grant on one service ID covers only that one', async () => {
    const { decider, access } = setup();
    decider.grantRole(alice, 'Operator', { resourceType: 'serviceid', resource: 'ServiceId-robot' });
    expect(await codeOf(access.requireOnKeysOf(alice, robot, 'iam-identity.apikey.create', missing))).toBe('OK');
    expect(await codeOf(access.requireOnKeysOf(alice, other, 'iam-identity.apikey.create', missing))).toBe('NOT_FOUND');
    expect(await codeOf(access.requireOnKeysOf(alice, bob, 'iam-identity.apikey.create', missing))).toBe('NOT_FOUND');
    expect(decider.asked[0]).toEqual({
      subject: alice,
      action: 'iam-identity.apikey.create',
      resource: { accountId, serviceName: 'iam-identity', resourceType: 'serviceid', resource: 'ServiceId-robot' },
    });
  });

  it("lets an account-wide Operator manage the keys of every service ID of the account, but not a user's", async () => {
    const { decider, access } = setup();
    decider.grantRole(alice, 'Operator');
    for (const owner of [robot, other]) {
      expect(await codeOf(access.requireOnKeysOf(alice, owner, 'iam-identity.apikey.delete', missing))).toBe('OK');
    }
    expect(await codeOf(access.requireOnKeysOf(alice, bob, 'iam-identity.apikey.delete', missing))).toBe('FORBIDDEN');
  });
});

describe('IdentityAccess on service IDs', () => {
  it('needs serviceid.create on the account, and refuses another account', async () => {
    const { decider, access } = setup();
    expect(await codeOf(access.requireOnAccount(alice, 'iam-identity.serviceid.create', accountId))).toBe('FORBIDDEN');
    decider.grantRole(alice, 'Operator');
    expect(await codeOf(access.requireOnAccount(alice, 'iam-identity.serviceid.create', accountId))).toBe('OK');
    expect(await codeOf(access.requireOnAccount(alice, 'iam-identity.serviceid.create', 'a2'))).toBe('FORBIDDEN');
  });

  it('hides a service ID from a caller without read and forbids a delete to a Viewer', async () => {
    const { decider, access } = setup();
    expect(await codeOf(access.requireOnServiceId(alice, robot, 'iam-identity.serviceid.delete', missing))).toBe('NOT_FOUND');
    decider.grantRole(alice, 'Viewer');
    expect(await codeOf(access.requireOnServiceId(alice, robot, 'iam-identity.serviceid.read', missing))).toBe('OK');
    expect(await codeOf(access.requireOnServiceId(alice, robot, 'iam-identity.serviceid.delete', missing))).toBe('FORBIDDEN');
  });
});

describe('IdentityAccess.visible', () => {
  it('is the whole account with an account-wide grant, without loading the service IDs', async () => {
    const { decider, access } = setup();
    decider.grantRole(alice, 'Viewer');
    let loaded = false;
    const visibility = await access.visible(alice, 'iam-identity.apikey.list', async () => {
      loaded = true;
      return [robot, other];
    });
    expect(visibility).toEqual({ all: true });
    expect(loaded).toBe(false);
  });

  it('is the caller itself plus the service IDs it holds a grant on otherwise', async () => {
    const { decider, access } = setup();
    decider.grantRole(alice, 'Viewer', { resourceType: 'serviceid', resource: 'ServiceId-other' });
    const visibility = await access.visible(alice, 'iam-identity.apikey.list', async () => [robot, other]);
    expect(visibility).toEqual({ all: false, iamIds: new Set([alice.iamId, other.iamId]) });
  });
});
