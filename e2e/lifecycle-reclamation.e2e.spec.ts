import { KmsWire, LifecycleWire } from '@sealbox/contracts';
import type { SecretsManagerClient } from '@sealbox/sm-client';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo } from './harness/context.js';
import { accessToken, API_KEY_GRANT } from './harness/auth.js';
import { errorBody, poll, request } from './harness/http.js';
import { adminSession, createAccountOverNats, createServiceId, type AdminSession } from './harness/iam.js';
import { keyCreateBody, keyProtectClient, kpFailure, statusAndCode } from './harness/kms.js';
import {
  apiFailure,
  authorizationsFrom,
  bucketListed,
  databaseRemnants,
  eventsNamed,
  getInstance,
  keyAuthorization,
  LifecycleClock,
  LIFECYCLE_RECORDS,
  lifecycleClients,
  pollInstance,
  reclamationsOf,
  s3Client,
  statusOf,
  type LifecycleClients,
} from './harness/lifecycle.js';
import { smClient, smFailure, statusCode } from './harness/secrets.js';

/**
 * Resource instances with a customer-managed key, reclamation and permanent delete, through the
 * official `ResourceControllerV2` and `IamPolicyManagementV1` clients (serviceUrl = the gateway), the
 * official Key Protect client for keys and the project's SM client for secrets, on the distributed
 * stack. Time moves only in lifecycle, through the stack's test clock file (harness/lifecycle.ts).
 *
 * Every test of the flow continues where the previous one stopped (one instance, in order).
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const tag = `lc-${stack.runId}`;
const DAY_MS = 86_400_000;
const RETENTION_MS = 7 * DAY_MS;
const KEY_STATE_DESTROYED = 5;

describe('lifecycle: customer-managed key, reclamation, restore and permanent delete (official clients)', () => {
  const clock = LifecycleClock.of(stack);
  const s3 = s3Client(stack);
  let apikey = '';
  let session: AdminSession;
  let clients: LifecycleClients;
  let kp: ReturnType<typeof keyProtectClient>;

  let kmsGuid = '';
  let keyId = '';
  let keyCrn = '';
  /** The account-wide authorization (every secrets-manager instance → the kms instance). */
  let accountPolicyId = '';
  let instance: LifecycleWire.ResourceInstance;
  let sm: SecretsManagerClient;
  /** The API key iam issued for the instance's iam_credentials secret. */
  let issuedApiKey = '';
  const secrets: { id: string; read: (sm: SecretsManagerClient) => Promise<unknown>; expected: unknown }[] = [];

  beforeAll(async () => {
    apikey = (await createAccountOverNats(stack, `${tag}-account`)).apikey;
    session = await adminSession(stack, apikey);
    clients = lifecycleClients(gateway, apikey);
    kp = keyProtectClient(gateway, new IamAuthenticator({ apikey, url: gateway }));
  });

  afterAll(() => {
    // Every saga of this file has ended (or the file failed): lifecycle back to the system time.
    clock.reset();
  });

  const createBody = (name: string, plan: string, extra: Partial<Parameters<LifecycleClients['rc']['createResourceInstance']>[0]> = {}) => ({
    name: `${tag}-${name}`,
    target: 'us-south',
    resourceGroup: 'default',
    resourcePlanId: plan,
    ...extra,
  });

  it('refuses unknown plans and regions, and a kms_key that is not a CRN, with 400 naming the field', async () => {
    const { rc } = clients;
    const unknownPlan = await apiFailure(rc.createResourceInstance(createBody('bad-plan', 'secrets-manager-platinum')));
    expect(statusOf(unknownPlan)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(unknownPlan.target).toBe('resource_plan_id');

    const unknownRegion = await apiFailure(rc.createResourceInstance(createBody('bad-region', 'secrets-manager-standard', { target: 'mars-north' })));
    expect(statusOf(unknownRegion)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(unknownRegion.target).toBe('target');

    for (const kmsKey of ['not-a-crn', `crn:v1:sealbox:public:kms:us-south:a/${session.accountId}:only-an-instance::`, 42]) {
      const notCrn = await apiFailure(rc.createResourceInstance(createBody('bad-key', 'secrets-manager-standard', { parameters: { kms_key: kmsKey } })));
      expect(statusOf(notCrn), String(kmsKey)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(notCrn.target).toBe('parameters.kms_key');
    }
    // A well-formed key CRN of another account: refused before anything is looked up.
    const foreignKey = 'crn:v1:sealbox:public:kms:us-south:a/another-account:7f1c1b2e-1111-4222-8333-944455556666:key:0e5d7c3a-1111-4222-8333-944455556666';
    const foreign = await apiFailure(rc.createResourceInstance(createBody('foreign-key', 'secrets-manager-standard', { parameters: { kms_key: foreignKey } })));
    expect(statusOf(foreign)).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(foreign.message).toContain('another account');
    // None of them left an instance behind.
    const listed = await rc.listResourceInstances({ limit: 100 });
    expect(LifecycleWire.ResourceInstancesList.parse(listed.result).resources).toEqual([]);
  });

  it('creates a kms instance through the Resource Controller and a root key in it', async () => {
    const created = await clients.rc.createResourceInstance(createBody('kms', 'kms-standard'));
    expect(created.status).toBe(201);
    const kms = LifecycleWire.ResourceInstance.parse(created.result);
    expect(kms).toMatchObject({ resource_id: 'kms', resource_plan_id: 'kms-standard', region_id: 'us-south', state: 'active' });
    kmsGuid = kms.guid;

    const key = await kp.createKey({ bluemixInstance: kmsGuid, body: keyCreateBody({ name: `${tag}-root` }) });
    expect(key.status).toBe(201);
    const root = KmsWire.KeyCollection.parse(key.result).resources[0];
    keyId = root?.id ?? '';
    keyCrn = root?.crn ?? '';
    expect(keyCrn).toBe(`crn:v1:sealbox:public:kms:us-south:a/${session.accountId}:${kmsGuid}:key:${keyId}`);
    // As Key Protect: a kms instance that holds keys is not deleted.
    expect(statusOf(await apiFailure(clients.rc.deleteResourceInstance({ id: kmsGuid })))).toEqual({ status: 409, code: 'CONFLICT' });
    expect((await getInstance(clients.rc, kmsGuid)).state).toBe('active');
  });

  it('refuses a root key of a kms instance in another region: 400 naming both regions', async () => {
    const euKms = LifecycleWire.ResourceInstance.parse((await clients.rc.createResourceInstance(createBody('kms-eu', 'kms-standard', { target: 'eu-de' }))).result);
    const euKey = KmsWire.KeyCollection.parse((await kp.createKey({ bluemixInstance: euKms.guid, body: keyCreateBody({ name: `${tag}-eu-root` }) })).result).resources[0];
    const refused = await apiFailure(clients.rc.createResourceInstance(createBody('sm-other-region', 'secrets-manager-standard', { parameters: { kms_key: euKey?.crn } })));
    expect(statusOf(refused)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(refused.target).toBe('parameters.kms_key');
    expect(refused.message).toContain('eu-de');
    expect(refused.message).toContain('us-south');
  });

  it('refuses a Secrets Manager instance on that key without an authorization: 403 naming the policy to create', async () => {
    const refused = await apiFailure(clients.rc.createResourceInstance(createBody('sm', 'secrets-manager-standard', { parameters: { kms_key: keyCrn } })));
    expect(statusOf(refused)).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(refused.message).toContain('No authorization lets Secrets Manager read key');
    expect(refused.message).toContain('source service secrets-manager');
    expect(refused.message).toContain(`target service kms, instance ${kmsGuid}`);
    expect(refused.message).toContain('role Reader');
    const listed = await clients.rc.listResourceInstances({ resourceId: 'secrets-manager', limit: 100 });
    expect(LifecycleWire.ResourceInstancesList.parse(listed.result).resources).toEqual([]);
  });

  it('after the authorization (IamPolicyManagementV1) provisions it: active, the key registered, the bucket made', async () => {
    const policy = await clients.policies.createPolicy(keyAuthorization(session.accountId, kmsGuid));
    expect(policy.status).toBe(201);
    accountPolicyId = policy.result.id ?? '';

    const created = await clients.rc.createResourceInstance(createBody('sm', 'secrets-manager-standard', { parameters: { kms_key: keyCrn } }));
    expect(created.status).toBe(201);
    const body = LifecycleWire.ResourceInstance.parse(created.result);
    instance = await pollInstance(clients.rc, body.guid, (current) => current.state !== 'provisioning');
    expect(instance).toMatchObject({
      id: body.crn,
      crn: `crn:v1:sealbox:public:secrets-manager:us-south:a/${session.accountId}:${body.guid}::`,
      state: 'active',
      resource_plan_id: 'secrets-manager-standard',
      parameters: { kms_key: keyCrn },
      last_operation: { state: 'succeeded' },
    });
    // Got by its URL-encoded CRN as well.
    expect((await getInstance(clients.rc, instance.crn)).guid).toBe(instance.guid);

    const registrations = KmsWire.RegistrationCollection.parse((await kp.getRegistrations({ id: keyId, bluemixInstance: kmsGuid })).result);
    expect(registrations.resources?.map((registration) => [registration.resourceCrn, registration.preventKeyDeletion])).toEqual([[instance.crn, true]]);
    expect(await bucketListed(s3, instance.guid)).toBe(true);
    // The registration prevents deleting the key.
    expect(statusAndCode(await kpFailure(kp.deleteKey({ id: keyId, bluemixInstance: kmsGuid })))).toEqual({ status: 409, code: 'KEY_DELETION_PREVENTED' });

    // A second authorization, scoped to this instance: the permanent delete must remove it (and only it).
    expect((await clients.policies.createPolicy(keyAuthorization(session.accountId, kmsGuid, instance.guid))).status).toBe(201);
    expect(await authorizationsFrom(clients.policies, session.accountId, instance.guid)).toHaveLength(1);
  });

  it('stores secrets in it with the SM client (a group, two versions, a lock, an iam_credentials API key)', async () => {
    sm = smClient(stack, session.token, instance.guid);
    const arbitrary = (await sm.createSecret({ secret_type: 'arbitrary', name: `${tag}-arbitrary`, payload: 'kept through a restore' })).result;
    const group = (await sm.createSecretGroup({ name: `${tag}-group` })).result;
    const kv = (await sm.createSecret({ secret_type: 'kv', name: `${tag}-kv`, secret_group_id: group.id, data: { user: 'app', port: 5432 } })).result;
    // An iam_credentials secret: iam issued a real API key of the service ID for it.
    const serviceId = await createServiceId(session, `${tag}-app`);
    const credentials = (await sm.createSecret({ secret_type: 'iam_credentials', name: `${tag}-iam`, ttl: '2h', reuse_api_key: false, service_id: serviceId.id })).result;
    issuedApiKey = String((credentials as { api_key?: unknown }).api_key);
    await expect(accessToken(stack, issuedApiKey)).resolves.toEqual(expect.any(String));
    // A second version and a lock: the permanent delete removes them too (locks do not stop it).
    await sm.createSecretVersion(arbitrary.id, { payload: 'kept through a restore' });
    await sm.createSecretLocksBulk(arbitrary.id, [{ name: 'held-by-app', description: 'lifecycle e2e' }]);
    secrets.push(
      { id: arbitrary.id, read: async (client) => ((await client.getSecret(arbitrary.id)).result as { payload?: unknown }).payload, expected: 'kept through a restore' },
      { id: kv.id, read: async (client) => ((await client.getSecret(kv.id)).result as { data?: unknown }).data, expected: { user: 'app', port: 5432 } },
    );
    for (const secret of secrets) expect(await secret.read(sm)).toEqual(secret.expected);
    // What the final check must find gone: the instance is named in the tables of four services now.
    const schemas = new Set((await databaseRemnants(stack.databaseUrl, [instance.guid])).map((remnant) => remnant.table.split('.')[0]));
    expect([...schemas].sort()).toEqual(expect.arrayContaining(['sealbox_iam', 'sealbox_kms', 'sealbox_lifecycle', 'sealbox_secrets']));
  });

  it('refuses to delete a locked instance (400 INSTANCE_LOCKED) until it is unlocked', async () => {
    const { rc } = clients;
    expect((await rc.lockResourceInstance({ id: instance.guid })).status).toBe(200);
    const locked = await apiFailure(rc.deleteResourceInstance({ id: instance.guid }));
    expect(statusOf(locked)).toEqual({ status: 400, code: 'INSTANCE_LOCKED' });
    expect(locked.message).toContain('unlock');
    expect((await getInstance(rc, instance.guid)).state).toBe('active');
    expect((await rc.unlockResourceInstance({ id: instance.guid })).status).toBe(200);
  });

  let firstReclamation: LifecycleWire.Reclamation;

  it('DELETE puts it in reclamation: its API answers 409 INSTANCE_NOT_ACTIVE, one reclamation SCHEDULED at now + 7 days', async () => {
    const before = clock.nowMs();
    expect((await clients.rc.deleteResourceInstance({ id: instance.guid })).status).toBe(204);
    const after = clock.nowMs();

    expect(await getInstance(clients.rc, instance.guid)).toMatchObject({ state: 'pending_reclamation' });
    const notActive = { status: 409, code: 'INSTANCE_NOT_ACTIVE' };
    for (const secret of secrets) expect(statusCode(await smFailure(sm.getSecret(secret.id)))).toEqual(notActive);
    expect(statusCode(await smFailure(sm.listSecrets()))).toEqual(notActive);

    const reclamations = await reclamationsOf(clients.rc, instance.guid);
    expect(reclamations.map((reclamation) => [reclamation.resource_instance_id, reclamation.state])).toEqual([[instance.guid, 'SCHEDULED']]);
    firstReclamation = reclamations[0] as LifecycleWire.Reclamation;
    const target = Date.parse(firstReclamation.target_time);
    expect(target).toBeGreaterThanOrEqual(before + RETENTION_MS - 1_000);
    expect(target).toBeLessThanOrEqual(after + RETENTION_MS + 1_000);
    // Listed by account as well.
    const byAccount = LifecycleWire.ReclamationsList.parse((await clients.rc.listReclamations({ accountId: session.accountId })).result).resources;
    expect(byAccount.map((reclamation) => reclamation.id)).toContain(firstReclamation.id);

    const again = await apiFailure(clients.rc.deleteResourceInstance({ id: instance.guid }));
    expect(statusOf(again)).toEqual({ status: 409, code: 'CONFLICT' });
  });

  it('restore makes it active again with every secret readable; the restored reclamation can be neither restored nor reclaimed (409)', async () => {
    const restored = await clients.rc.runReclamationAction({ id: firstReclamation.id, actionName: 'restore' });
    expect(restored.status).toBe(200);
    expect(['RESTORING', 'RESTORED']).toContain(LifecycleWire.Reclamation.parse(restored.result).state);
    expect((await pollInstance(clients.rc, instance.guid, (current) => current.state === 'active')).state).toBe('active');
    for (const secret of secrets) expect(await secret.read(sm)).toEqual(secret.expected);

    const [listed] = await reclamationsOf(clients.rc, instance.guid);
    expect(listed?.state).toBe('RESTORED');
    for (const actionName of ['restore', 'reclaim']) {
      const refused = await apiFailure(clients.rc.runReclamationAction({ id: firstReclamation.id, actionName }));
      expect(statusOf(refused), actionName).toEqual({ status: 409, code: 'CONFLICT' });
      expect(refused.message).toContain('RESTORED');
    }
  });

  let secondReclamation: LifecycleWire.Reclamation;
  let protectedInstance: LifecycleWire.ResourceInstance;

  it('deleted again and the clock moved 7 days, the sweep reclaims it (and a purge-protected one whose reclaim was refused): removed, still answered by GET', async () => {
    expect((await clients.rc.deleteResourceInstance({ id: instance.guid })).status).toBe(204);
    const scheduled = (await reclamationsOf(clients.rc, instance.guid)).filter((reclamation) => reclamation.state === 'SCHEDULED');
    expect(scheduled).toHaveLength(1);
    secondReclamation = scheduled[0] as LifecycleWire.Reclamation;
    expect(secondReclamation.id).not.toBe(firstReclamation.id);

    // A second instance on the same key, with purge protection: reclaim is refused before its target time.
    const created = await clients.rc.createResourceInstance(
      createBody('sm-protected', 'secrets-manager-standard', { parameters: { kms_key: keyCrn, purge_protection: true } }),
    );
    protectedInstance = await pollInstance(clients.rc, LifecycleWire.ResourceInstance.parse(created.result).guid, (current) => current.state !== 'provisioning');
    expect(protectedInstance.state).toBe('active');
    expect((await clients.rc.deleteResourceInstance({ id: protectedInstance.guid })).status).toBe(204);
    const [protectedReclamation] = await reclamationsOf(clients.rc, protectedInstance.guid);
    const early = await apiFailure(clients.rc.runReclamationAction({ id: protectedReclamation?.id ?? '', actionName: 'reclaim' }));
    expect(statusOf(early)).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(early.message).toContain(new Date(Date.parse(protectedReclamation?.target_time ?? '')).toISOString());
    // Only restore and reclaim exist.
    const unknown = await apiFailure(clients.rc.runReclamationAction({ id: protectedReclamation?.id ?? '', actionName: 'purge' }));
    expect(statusOf(unknown)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(unknown.target).toBe('action_name');

    // Not due yet: a scheduler run (every second) leaves them alone.
    await sleep(1_500);
    expect((await getInstance(clients.rc, instance.guid)).state).toBe('pending_reclamation');

    clock.advance(RETENTION_MS + 60_000);
    for (const [swept, reclamationId] of [
      [instance, secondReclamation.id],
      [protectedInstance, protectedReclamation?.id],
    ] as const) {
      const removed = await pollInstance(clients.rc, swept.guid, (current) => current.state === 'removed');
      expect(removed).toMatchObject({ guid: swept.guid, crn: swept.crn, state: 'removed', last_operation: { state: 'succeeded' } });
      const reclaimed = (await reclamationsOf(clients.rc, swept.guid)).find((reclamation) => reclamation.id === reclamationId);
      expect(reclaimed?.state).toBe('RECLAIMED');
    }
  });

  it('leaves nothing of it behind: no PostgreSQL row, bucket, key registration or authorization; the root key can be deleted', async () => {
    // Only lifecycle's own record of it (GET answers `removed`) and its reclamations may name it;
    // outbox rows naming it go once relayed.
    const guids = [instance.guid, protectedInstance.guid];
    const remnants = await poll(() => databaseRemnants(stack.databaseUrl, guids, LIFECYCLE_RECORDS), (found) => found.length === 0, { intervalMs: 200, maxPolls: 50 });
    expect(remnants.value).toEqual([]);
    // The check finds what is there: lifecycle's records do name it.
    expect((await databaseRemnants(stack.databaseUrl, [instance.guid])).map((remnant) => remnant.table).sort()).toEqual(LIFECYCLE_RECORDS);

    // The API key issued for its iam_credentials secret is gone with it: it no longer signs in.
    const signIn = await request(`${gateway}/identity/token`, { method: 'POST', form: { grant_type: API_KEY_GRANT, apikey: issuedApiKey }, deadlineMs: stack.rpcTimeoutMs + 2_000 });
    expect(signIn.status).toBe(400);
    expect(errorBody(signIn).errors[0]?.code).toBe('INVALID_GRANT');
    for (const guid of guids) {
      expect(await bucketListed(s3, guid)).toBe(false);
      expect(await authorizationsFrom(clients.policies, session.accountId, guid)).toEqual([]);
    }
    const registrations = KmsWire.RegistrationCollection.parse((await kp.getRegistrations({ id: keyId, bluemixInstance: kmsGuid })).result);
    expect(registrations.resources ?? []).toEqual([]);
    // The account-wide authorization is not this instance's: it stays.
    expect((await clients.policies.getPolicy({ policyId: accountPolicyId })).status).toBe(200);

    const deleted = await kp.deleteKey({ id: keyId, bluemixInstance: kmsGuid, prefer: 'return=representation' });
    expect(deleted.status).toBe(200);
    expect(KmsWire.KeyCollection.parse(deleted.result).resources[0]).toMatchObject({ id: keyId, state: KEY_STATE_DESTROYED, deleted: true });
  });

  it('told every step as an event: created, updated (lock, unlock), deleted twice, restored, reclaimed', async () => {
    const of = async (name: Parameters<typeof eventsNamed>[1]) => (await eventsNamed(stack.nats, name)).filter((data) => data['instanceId'] === instance.guid);
    const reclaimed = await poll(() => of('lifecycle.instance.reclaimed'), (found) => found.length > 0, { intervalMs: 200, maxPolls: 25 });
    expect(reclaimed.value).toEqual([expect.objectContaining({ crn: instance.crn, reclamationId: secondReclamation.id, outcome: 'succeeded' })]);
    expect(await of('lifecycle.instance.created')).toEqual([expect.objectContaining({ accountId: session.accountId, state: 'active', planId: 'secrets-manager-standard' })]);
    expect(await of('lifecycle.instance.updated')).toHaveLength(2);
    const deleted = await of('lifecycle.instance.deleted');
    expect(deleted.map((data) => [data['reclamationId'], data['reason']])).toEqual([
      [firstReclamation.id, 'user'],
      [secondReclamation.id, 'user'],
    ]);
    expect(deleted[0]?.['targetTime']).toBe(firstReclamation.target_time);
    expect(await of('lifecycle.instance.restored')).toEqual([expect.objectContaining({ reclamationId: firstReclamation.id })]);
  });

  it('deletes the kms instance once its key is deleted', async () => {
    expect((await clients.rc.deleteResourceInstance({ id: kmsGuid })).status).toBe(204);
    expect((await getInstance(clients.rc, kmsGuid)).state).toBe('removed');
    // Key Protect answers as for an instance that never existed.
    expect(statusAndCode(await kpFailure(kp.getKeys({ bluemixInstance: kmsGuid })))).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(statusAndCode(await kpFailure(kp.getKey({ id: keyId, bluemixInstance: kmsGuid })))).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it('provider-managed encryption (no kms_key): provisioned, secrets readable, reclaim removes it and leaves nothing', async () => {
    const { rc } = clients;
    const created = LifecycleWire.ResourceInstance.parse((await rc.createResourceInstance(createBody('sm-provider', 'secrets-manager-standard'))).result);
    const provider = await pollInstance(rc, created.guid, (current) => current.state !== 'provisioning');
    expect(provider).toMatchObject({ state: 'active', last_operation: { state: 'succeeded' } });
    expect(provider.parameters?.['kms_key']).toBeUndefined();
    const providerSm = smClient(stack, session.token, provider.guid);
    const secret = (await providerSm.createSecret({ secret_type: 'arbitrary', name: `${tag}-provider`, payload: 'under the provider key' })).result;
    expect(((await providerSm.getSecret(secret.id)).result as { payload?: unknown }).payload).toBe('under the provider key');

    expect((await rc.deleteResourceInstance({ id: provider.guid })).status).toBe(204);
    const [reclamation] = await reclamationsOf(rc, provider.guid);
    expect((await rc.runReclamationAction({ id: reclamation?.id ?? '', actionName: 'reclaim' })).status).toBe(200);
    expect((await pollInstance(rc, provider.guid, (current) => current.state === 'removed')).state).toBe('removed');
    const remnants = await poll(() => databaseRemnants(stack.databaseUrl, [provider.guid], LIFECYCLE_RECORDS), (found) => found.length === 0, { intervalMs: 200, maxPolls: 50 });
    expect(remnants.value).toEqual([]);
    expect(await bucketListed(s3, provider.guid)).toBe(false);
  });

  it('answers 410 for deleting the removed instance and reclaiming the reclaimed reclamation, 409 for restoring it', async () => {
    const { rc } = clients;
    expect(statusOf(await apiFailure(rc.deleteResourceInstance({ id: instance.guid })))).toEqual({ status: 410, code: 'GONE' });
    expect(statusOf(await apiFailure(rc.runReclamationAction({ id: secondReclamation.id, actionName: 'reclaim' })))).toEqual({ status: 410, code: 'GONE' });
    const restore = await apiFailure(rc.runReclamationAction({ id: secondReclamation.id, actionName: 'restore' }));
    expect(statusOf(restore)).toEqual({ status: 409, code: 'CONFLICT' });
    expect(restore.message).toContain('RECLAIMED');
    // Removed instances are listed only when asked for by state.
    const active = LifecycleWire.ResourceInstancesList.parse((await rc.listResourceInstances({ resourceId: 'secrets-manager' })).result).resources;
    expect(active.map((listed) => listed.guid)).not.toContain(instance.guid);
    const removed = LifecycleWire.ResourceInstancesList.parse((await rc.listResourceInstances({ state: 'removed' })).result).resources;
    expect(removed.map((listed) => listed.guid)).toContain(instance.guid);
  });
});
