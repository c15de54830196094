import { KmsWire, LifecycleWire, roleCrn, type SecretsWire } from '@sealbox/contracts';
import { SecretsManagerClient, SecretsManagerError } from '@sealbox/sm-client';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type Standalone } from './standalone.js';

/**
 * The product as `npm start` runs it, driven over HTTP only (the admin API key the first start writes,
 * a token from /identity/token, the Resource Controller, Key Protect, IAM policies and the project's
 * SM v2 client): a provider-managed Secrets Manager instance (no `kms_key`), a customer-managed one
 * (own kms instance, root key and authorization) through delete → reclamation → restore, and the data
 * surviving a restart on the same data directory.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-standalone-product-'));
const env = {
  SEALBOX_DATA_DIR: dataDir,
  SEALBOX_PORT: '0',
  SEALBOX_LOG_LEVEL: 'silent',
  // A trial instance holds two secrets here (the quota test below); every other plan keeps its defaults.
  SEALBOX_SECRETS_QUOTAS: '{"secrets-manager-trial":{"secrets_per_instance":2}}',
};

interface Json<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** Secret payloads of this run: each appears in no database file or bucket object as plain text. */
const canaries = {
  provider: `provider-canary-${randomBytes(12).toString('hex')}`,
  providerRotated: `provider-rotated-${randomBytes(12).toString('hex')}`,
  customer: `customer-canary-${randomBytes(12).toString('hex')}`,
};

let standalone: Standalone;
let token = '';

async function call<T = unknown>(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Json<T>> {
  const response = await fetch(`${standalone.url}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      authorization: `Bearer ${token}`,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function login(): Promise<void> {
  const apikey = readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim();
  const response = await fetch(`${standalone.url}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }),
  });
  expect(response.status).toBe(200);
  token = ((await response.json()) as { access_token: string }).access_token;
}

const smFor = (guid: string) => new SecretsManagerClient({ serviceUrl: standalone.url, instanceId: guid, bearerToken: token, timeoutMs: 30_000 });

/** How an SM client call failed (fails the test when it succeeds). */
async function smFailure(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SecretsManagerError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('expected the Secrets Manager call to fail');
}

/** POST /v2/resource_instances, then GET until the instance leaves `provisioning` (a bounded number of polls). */
async function provision(body: Record<string, unknown>): Promise<LifecycleWire.ResourceInstance> {
  const created = await call<LifecycleWire.ResourceInstance>('POST', '/v2/resource_instances', { body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  let instance = LifecycleWire.ResourceInstance.parse(created.body);
  for (let polls = 0; instance.state === 'provisioning' && polls < 200; polls++) {
    await sleep(50);
    const got = await call<LifecycleWire.ResourceInstance>('GET', `/v2/resource_instances/${instance.guid}`);
    expect(got.status).toBe(200);
    instance = LifecycleWire.ResourceInstance.parse(got.body);
  }
  expect(instance.state, JSON.stringify(instance.last_operation)).toBe('active');
  return instance;
}

/** The payload of an arbitrary secret or version (fails the test for another type). */
function payloadOf(secret: SecretsWire.Secret | SecretsWire.SecretVersion): string | undefined {
  if (secret.secret_type !== 'arbitrary') throw new Error(`expected an arbitrary secret, got ${secret.secret_type}`);
  return secret.payload;
}

/** The username and password of a username_password secret or version. */
function credentialsOf(secret: SecretsWire.Secret | SecretsWire.SecretVersion): { username: string | undefined; password: string | undefined } {
  if (secret.secret_type !== 'username_password') throw new Error(`expected a username_password secret, got ${secret.secret_type}`);
  return { username: secret.username, password: secret.password };
}

/** Every file under `dir` (database files, bucket objects, the soft HSM), as bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, bytes: readFileSync(path) };
    });
}

beforeAll(async () => {
  standalone = await startStandalone({ env, announce: () => undefined });
  await login();
}, 60_000);

afterAll(async () => {
  await standalone?.app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('standalone product over HTTP (npm start)', () => {
  let providerGuid = '';
  let providerArbitraryId = '';
  let providerUserId = '';

  it('provisions a Secrets Manager instance with provider-managed encryption (no kms_key) and keeps secrets in it', async () => {
    const instance = await provision({ name: 'provider-managed', target: 'us-south', resource_group: 'default', resource_plan_id: 'secrets-manager-standard' });
    expect(instance).toMatchObject({ resource_id: 'secrets-manager', resource_plan_id: 'secrets-manager-standard', region_id: 'us-south', state: 'active' });
    expect(instance.id).toBe(`crn:v1:sealbox:public:secrets-manager:us-south:a/${instance.account_id}:${instance.guid}::`);
    providerGuid = instance.guid;
    const sm = smFor(providerGuid);

    const arbitrary = await sm.createSecret({ secret_type: 'arbitrary', name: 'provider-arbitrary', payload: canaries.provider, labels: ['standalone'] });
    expect(arbitrary.status).toBe(201);
    providerArbitraryId = arbitrary.result.id;
    const user = await sm.createSecret({
      secret_type: 'username_password',
      name: 'provider-user',
      username: 'svc-user',
      password_generation_policy: { length: 24, include_digits: true, include_symbols: false, include_uppercase: true },
    });
    expect(user.status).toBe(201);
    providerUserId = user.result.id;

    const readArbitrary = (await sm.getSecret(providerArbitraryId)).result;
    expect(readArbitrary).toMatchObject({ secret_type: 'arbitrary', name: 'provider-arbitrary', versions_total: 1 });
    expect(payloadOf(readArbitrary)).toBe(canaries.provider);
    const readUser = credentialsOf((await sm.getSecret(providerUserId)).result);
    expect(readUser.username).toBe('svc-user');
    expect(readUser.password).toMatch(/^[A-Za-z0-9]{24}$/);
    const firstPassword = readUser.password;

    // Rotation: a new version of each, the old one readable as `previous`.
    expect((await sm.createSecretVersion(providerArbitraryId, { payload: canaries.providerRotated })).status).toBe(201);
    expect((await sm.createSecretVersion(providerUserId, {})).status).toBe(201);
    expect(payloadOf((await sm.getSecret(providerArbitraryId)).result)).toBe(canaries.providerRotated);
    expect(payloadOf((await sm.getSecretVersion(providerArbitraryId, 'previous')).result)).toBe(canaries.provider);
    const rotatedUser = credentialsOf((await sm.getSecret(providerUserId)).result);
    expect(rotatedUser.password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(rotatedUser.password).not.toBe(firstPassword);
    expect(credentialsOf((await sm.getSecretVersion(providerUserId, 'previous')).result).password).toBe(firstPassword);
    expect((await sm.listSecretVersions(providerArbitraryId)).result.versions).toHaveLength(2);

    const listed = (await sm.listSecrets({ sort: 'name' })).result;
    expect(listed.total_count).toBe(2);
    expect(listed.secrets.map((secret) => [secret.name, secret.secret_type, secret.versions_total])).toEqual([
      ['provider-arbitrary', 'arbitrary', 2],
      ['provider-user', 'username_password', 2],
    ]);
    expect(listed.next).toBeUndefined();
  }, 60_000);

  it('a second provider-managed instance (trial plan) is isolated from the first; the provider key-protect instance is not in the customer account', async () => {
    const second = await provision({ name: 'provider-managed-2', target: 'us-south', resource_group: 'default', resource_plan_id: 'secrets-manager-trial' });
    const sm = smFor(second.guid);
    expect((await sm.createSecret({ secret_type: 'arbitrary', name: 'second', payload: 'second-instance' })).status).toBe(201);
    expect((await sm.listSecrets()).result.total_count).toBe(1);
    // The first instance's secrets are not visible in the second.
    expect(await smFailure(sm.getSecret(providerArbitraryId))).toMatchObject({ status: 404 });

    // The provider's key-protect instance is not the customer's: it is not listed in their account.
    const instances = await call<LifecycleWire.ResourceInstancesList>('GET', '/v2/resource_instances?resource_id=kms');
    expect(instances.status).toBe(200);
    expect(instances.body.resources).toEqual([]);
  }, 60_000);

  it("refuses a secret past the plan's quota with 409 QUOTA_EXCEEDED in the IBM error body, and lifts it with a plan change", async () => {
    const trial = await provision({ name: 'quota-trial', target: 'us-south', resource_group: 'default', resource_plan_id: 'secrets-manager-trial' });
    const sm = smFor(trial.guid);
    for (const name of ['q1', 'q2']) expect((await sm.createSecret({ secret_type: 'arbitrary', name, payload: name })).status).toBe(201);
    const over = await call<{ errors: { code: string; message: string }[]; status_code: number }>('POST', `/secrets-manager/${trial.guid}/api/v2/secrets`, {
      body: { secret_type: 'arbitrary', name: 'q3', payload: 'q3' },
    });
    expect(over.status).toBe(409);
    expect(over.body.status_code).toBe(409);
    expect(over.body.errors[0]?.code).toBe('QUOTA_EXCEEDED');
    expect(over.body.errors[0]?.message).toContain('at most 2 secrets');
    const upgraded = await call<LifecycleWire.ResourceInstance>('PATCH', `/v2/resource_instances/${trial.guid}`, { body: { resource_plan_id: 'secrets-manager-standard' } });
    expect(upgraded.status).toBe(200);
    expect((await sm.createSecret({ secret_type: 'arbitrary', name: 'q3', payload: 'q3' })).status).toBe(201);
  }, 60_000);

  let customerGuid = '';
  let customerSecretId = '';
  let kmsGuid = '';
  let rootKey: KmsWire.Key;

  it('provisions a Secrets Manager instance with a customer root key once Secrets Manager is authorized to the kms instance', async () => {
    const kms = await provision({ name: 'customer-kms', target: 'us-south', resource_group: 'default', resource_plan_id: 'kms-standard' });
    expect(kms.resource_id).toBe('kms');
    kmsGuid = kms.guid;

    const created = await call('POST', '/kms/api/v2/keys', {
      headers: { 'bluemix-instance': kmsGuid },
      body: { metadata: { collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: 1 }, resources: [{ type: KmsWire.KEY_COLLECTION_TYPE, name: 'customer-root', extractable: false }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const key = KmsWire.KeyCollection.parse(created.body).resources[0];
    if (!key) throw new Error('no key created');
    rootKey = key;
    expect(rootKey.crn).toBe(`crn:v1:sealbox:public:kms:us-south:a/${kms.account_id}:${kmsGuid}:key:${rootKey.id}`);

    const smBody = { name: 'customer-managed', target: 'us-south', resource_group: 'default', resource_plan_id: 'secrets-manager-standard', parameters: { kms_key: rootKey.crn } };
    const refused = await call<{ errors: { code: string; message: string }[] }>('POST', '/v2/resource_instances', { body: smBody });
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0]?.code).toBe('FORBIDDEN');
    expect(refused.body.errors[0]?.message).toContain('authorization');

    const policy = await call('POST', '/v1/policies', {
      body: {
        type: 'authorization',
        subjects: [{ attributes: [{ name: 'accountId', value: kms.account_id }, { name: 'serviceName', value: 'secrets-manager' }] }],
        roles: [{ role_id: roleCrn('Reader') }],
        resources: [{ attributes: [{ name: 'accountId', value: kms.account_id }, { name: 'serviceName', value: 'kms' }, { name: 'serviceInstance', value: kmsGuid }] }],
      },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);

    const instance = await provision(smBody);
    customerGuid = instance.guid;
    const sm = smFor(customerGuid);
    const secret = await sm.createSecret({ secret_type: 'arbitrary', name: 'customer-arbitrary', payload: canaries.customer });
    expect(secret.status).toBe(201);
    customerSecretId = secret.result.id;
    expect(payloadOf((await sm.getSecret(customerSecretId)).result)).toBe(canaries.customer);

    // The root key protects the instance: it is registered and cannot be deleted.
    const deleteKey = await call<{ errors: { code: string }[] }>('DELETE', `/kms/api/v2/keys/${rootKey.id}`, { headers: { 'bluemix-instance': kmsGuid } });
    expect(deleteKey.status).toBe(409);
  }, 60_000);

  it('deleting the customer-managed instance disables it into a SCHEDULED reclamation; restoring makes its secrets readable again', async () => {
    const sm = smFor(customerGuid);
    expect((await call('DELETE', `/v2/resource_instances/${customerGuid}`)).status).toBe(204);
    const deleted = await call<LifecycleWire.ResourceInstance>('GET', `/v2/resource_instances/${customerGuid}`);
    expect(deleted.body.state).toBe('pending_reclamation');
    expect(await smFailure(sm.getSecret(customerSecretId))).toEqual({ status: 409, code: 'INSTANCE_NOT_ACTIVE' });

    const reclamations = await call<LifecycleWire.ReclamationsList>('GET', `/v1/reclamations?resource_instance_id=${customerGuid}`);
    expect(reclamations.status).toBe(200);
    expect(reclamations.body.resources.map((reclamation) => [reclamation.resource_instance_id, reclamation.state])).toEqual([[customerGuid, 'SCHEDULED']]);
    const reclamationId = reclamations.body.resources[0]?.id ?? '';

    const restored = await call<LifecycleWire.Reclamation>('POST', `/v1/reclamations/${reclamationId}/actions/restore`, { body: {} });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    let state = '';
    for (let polls = 0; state !== 'active' && polls < 200; polls++) {
      if (polls > 0) await sleep(50);
      state = (await call<LifecycleWire.ResourceInstance>('GET', `/v2/resource_instances/${customerGuid}`)).body.state;
    }
    expect(state).toBe('active');
    expect(payloadOf((await sm.getSecret(customerSecretId)).result)).toBe(canaries.customer);

    // Restoring twice is refused: the reclamation is no longer SCHEDULED.
    const again = await call<{ errors: { code: string }[] }>('POST', `/v1/reclamations/${reclamationId}/actions/restore`, { body: {} });
    expect(again.status).toBe(409);
  }, 60_000);

  it('keeps instances and secrets across a restart on the same data directory, with no payload in plain text on disk', async () => {
    await standalone.app.close();
    standalone = await startStandalone({ env, announce: () => undefined });
    await login();

    const instances = await call<LifecycleWire.ResourceInstancesList>('GET', '/v2/resource_instances?resource_id=secrets-manager');
    expect(instances.body.resources.map((instance) => [instance.name, instance.state]).sort()).toEqual([
      ['customer-managed', 'active'],
      ['provider-managed', 'active'],
      ['provider-managed-2', 'active'],
      ['quota-trial', 'active'],
    ]);
    expect(payloadOf((await smFor(customerGuid).getSecret(customerSecretId)).result)).toBe(canaries.customer);
    const provider = smFor(providerGuid);
    expect(payloadOf((await provider.getSecret(providerArbitraryId)).result)).toBe(canaries.providerRotated);
    expect(payloadOf((await provider.getSecretVersion(providerArbitraryId, 'previous')).result)).toBe(canaries.provider);

    // Provisioning after the restart still finds the provider key.
    const third = await provision({ name: 'provider-managed-3', target: 'us-south', resource_group: 'default', resource_plan_id: 'secrets-manager-standard' });
    expect((await smFor(third.guid).createSecret({ secret_type: 'arbitrary', name: 'after-restart', payload: 'x' })).status).toBe(201);

    // Every provider-managed instance of the region shares one root key in one provider key-protect instance.
    const kmsDb = new Database(join(dataDir, 'db', 'kms.sqlite'), { readonly: true });
    try {
      const providerRows = (table: string) => kmsDb.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = ?`).get('sealbox-provider') as { n: number };
      expect([providerRows('kms_instances').n, providerRows('kms_keys').n]).toEqual([1, 1]);
    } finally {
      kmsDb.close();
    }

    const files = filesUnder(dataDir);
    expect(files.some((file) => file.path.includes(`${join(dataDir, 'objects')}`))).toBe(true);
    for (const canary of Object.values(canaries)) {
      for (const encoding of ['utf8', 'base64', 'hex'] as const) {
        const needle = Buffer.from(Buffer.from(canary).toString(encoding === 'utf8' ? 'utf8' : encoding));
        expect(files.filter((file) => file.bytes.includes(needle)).map((file) => file.path)).toEqual([]);
      }
    }
  }, 90_000);
});
