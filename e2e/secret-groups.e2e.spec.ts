import { SecretsManagerClient, SecretsManagerError } from '@sealbox/sm-client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo } from './harness/context.js';
import { adminSession, createAccountOverNats, type AdminSession } from './harness/iam.js';
import { NatsCaller } from './harness/kms.js';

/** The status and code of a failed client call (fails the test when the call succeeds). */
async function failure(call: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof SecretsManagerError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('e2e: expected the call to fail');
}

/**
 * Secret groups through the gateway with the project's SM v2 client, on instances the secrets
 * registry knows from `secrets.instance.activate` (what lifecycle will send when provisioning).
 */
describe('Secrets Manager secret groups (SM v2 client, distributed stack)', () => {
  const stack = stackInfo();
  let nats: NatsCaller;
  let admin: AdminSession;
  let other: AdminSession;
  let instanceGuid: string;
  let sm: SecretsManagerClient;

  const activate = (accountId: string, guid: string) =>
    nats.expectOk('secrets.instance.activate', {
      accountId,
      instanceGuid: guid,
      crn: `crn:v1:sealbox:public:secrets-manager:us-south:a/${accountId}:${guid}::`,
      region: 'us-south',
      kmsKey: { instanceId: randomUUID(), keyId: randomUUID() },
    });

  const clientFor = (session: AdminSession, guid: string) =>
    new SecretsManagerClient({ serviceUrl: stack.gatewayUrl, instanceId: guid, bearerToken: session.token, timeoutMs: stack.rpcTimeoutMs + 5_000 });

  beforeAll(async () => {
    nats = await NatsCaller.open(stack);
    admin = await adminSession(stack, (await createAccountOverNats(stack, 'sm-groups')).apikey);
    other = await adminSession(stack, (await createAccountOverNats(stack, 'sm-groups-other')).apikey);
    instanceGuid = randomUUID();
    const instance = await activate(admin.accountId, instanceGuid);
    expect({ accountId: instance.accountId, state: instance.state }).toEqual({ accountId: admin.accountId, state: 'active' });
    sm = clientFor(admin, instanceGuid);
  });

  afterAll(async () => {
    await nats?.close();
  });

  it('creates, lists (default first), gets, updates (merge patch) and deletes groups', async () => {
    const initial = await sm.listSecretGroups();
    expect(initial.status).toBe(200);
    expect(initial.result.secret_groups.map((g) => g.id)).toEqual(['default']);
    expect(initial.result.total_count).toBe(1);

    const created = await sm.createSecretGroup({ name: 'payments', description: 'payment secrets' });
    expect(created.status).toBe(201);
    const group = created.result;
    expect(group).toMatchObject({ name: 'payments', description: 'payment secrets' });
    expect(group.id).toMatch(/^[0-9a-f-]{36}$/);

    const listed = await sm.listSecretGroups();
    expect(listed.result.secret_groups.map((g) => g.id)).toEqual(['default', group.id]);
    expect(listed.result.total_count).toBe(2);

    const read = await sm.getSecretGroup(group.id);
    expect(read.status).toBe(200);
    expect(read.result).toEqual(group);
    expect((await sm.getSecretGroup('default')).result.name).toBe('default');

    const updated = await sm.updateSecretGroup(group.id, { name: 'billing', description: null });
    expect(updated.status).toBe(200);
    expect(updated.result).toMatchObject({ id: group.id, name: 'billing' });
    expect(updated.result.description).toBeUndefined();
    expect((await sm.getSecretGroup(group.id)).result.name).toBe('billing');

    const removed = await sm.deleteSecretGroup(group.id);
    expect(removed.status).toBe(204);
    expect(await failure(sm.getSecretGroup(group.id))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect((await sm.listSecretGroups()).result.secret_groups.map((g) => g.id)).toEqual(['default']);
  });

  it('refuses a duplicate name (409 CONFLICT), changing `default` (400 VALIDATION_FAILED) and a bad body (400 VALIDATION_FAILED)', async () => {
    const first = await sm.createSecretGroup({ name: 'dup' });
    expect(await failure(sm.createSecretGroup({ name: 'dup' }))).toEqual({ status: 409, code: 'CONFLICT' });
    const second = await sm.createSecretGroup({ name: 'dup-2' });
    expect(await failure(sm.updateSecretGroup(second.result.id, { name: 'dup' }))).toEqual({ status: 409, code: 'CONFLICT' });

    expect(await failure(sm.updateSecretGroup('default', { description: 'mine' }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await failure(sm.deleteSecretGroup('default'))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });

    const missingName = await sm.send({ method: 'POST', path: '/secret_groups', body: { description: 'no name' } });
    expect(missingName.status).toBe(400);
    expect(missingName.json()).toMatchObject({ status_code: 400, errors: [{ code: 'VALIDATION_FAILED' }] });

    await sm.deleteSecretGroup(first.result.id);
    await sm.deleteSecretGroup(second.result.id);
  });

  it("answers 404 NOT_FOUND for another account's instance, and that account's admin sees it", async () => {
    const foreignGuid = randomUUID();
    await activate(other.accountId, foreignGuid);
    const intruder = clientFor(admin, foreignGuid);
    expect(await failure(intruder.listSecretGroups())).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await failure(intruder.getSecretGroup('default'))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await failure(intruder.createSecretGroup({ name: 'intruder' }))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await failure(clientFor(admin, randomUUID()).listSecretGroups())).toEqual({ status: 404, code: 'NOT_FOUND' });

    const owner = await clientFor(other, foreignGuid).listSecretGroups();
    expect(owner.result.secret_groups.map((g) => g.name)).toEqual(['default']);
  });

  it('answers 409 INSTANCE_NOT_ACTIVE for a disabled instance, and works again once it is active', async () => {
    const guid = randomUUID();
    await activate(admin.accountId, guid);
    const client = clientFor(admin, guid);
    const group = (await client.createSecretGroup({ name: 'before-disable' })).result;

    const disabled = await nats.expectOk('secrets.instance.set-state', { instanceGuid: guid, state: 'disabled' });
    expect(disabled.state).toBe('disabled');
    const notActive = { status: 409, code: 'INSTANCE_NOT_ACTIVE' };
    expect(await failure(client.listSecretGroups())).toEqual(notActive);
    expect(await failure(client.getSecretGroup(group.id))).toEqual(notActive);
    expect(await failure(client.createSecretGroup({ name: 'while-disabled' }))).toEqual(notActive);
    expect(await failure(client.updateSecretGroup(group.id, { description: 'x' }))).toEqual(notActive);
    expect(await failure(client.deleteSecretGroup(group.id))).toEqual(notActive);

    await nats.expectOk('secrets.instance.set-state', { instanceGuid: guid, state: 'active' });
    expect((await client.listSecretGroups()).result.secret_groups.map((g) => g.name)).toEqual(['default', 'before-disable']);
  });
});
