import { KmsWire, LifecycleWire, SealWire } from '@sealbox/contracts';
import { SoftHsm } from '@sealbox/hsm';
import { loadMasterKeyFile } from '@sealbox/iam';
import { SecretsManagerClient } from '@sealbox/sm-client';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startStandalone, type Standalone } from './standalone.js';

/**
 * The seal, proved on `npm start` (standalone) over HTTP: a store in operator mode starts sealed and
 * answers only health, readiness and the seal endpoints; initialised with a passphrase and unsealed,
 * it is populated with secrets of several types, a key with known material and an API key; then a
 * COPY of its data directory, without the passphrase, shows none of them in clear in any file and a
 * process started on it stays sealed (every other route 503 SEALED, a wrong passphrase 400
 * UNSEAL_FAILED, then 429). The original still opens with the passphrase, from a file.
 */

const SCRYPT_LOG_N = 14;
const PASSPHRASE = `correct horse battery ${randomBytes(6).toString('hex')}`;
const dirs: string[] = [];
const running: Standalone[] = [];

function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sealbox-seal-${label}-`));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, extra: Record<string, string> = {}): Promise<Standalone> {
  const standalone = await startStandalone({
    env: { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent', SEALBOX_SEAL_MODE: 'operator', ...extra },
    announce: () => undefined,
    scryptLogN: SCRYPT_LOG_N,
  });
  running.push(standalone);
  return standalone;
}

afterEach(async () => {
  for (const standalone of running.splice(0)) await standalone.close().catch(() => undefined);
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Answer<T = unknown> {
  readonly status: number;
  readonly body: T;
}
type ErrorBody = { errors: { code: string; message: string }[]; status_code: number };

async function call<T = unknown>(
  standalone: Standalone,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const response = await fetch(`${standalone.url}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The answer of `path` once the switch to the full API (or back) has happened. */
async function eventually(standalone: Standalone, path: string, status: number): Promise<void> {
  let last = 0;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      last = (await fetch(`${standalone.url}${path}`, { signal: AbortSignal.timeout(5_000) })).status;
      if (last === status) return;
    } catch {
      // the port is switching apps
    }
    await sleep(50);
  }
  expect(last).toBe(status);
}

async function login(standalone: Standalone, apikey: string): Promise<string> {
  const response = await fetch(`${standalone.url}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** POST /v2/resource_instances, then GET until it leaves `provisioning`. */
async function provision(standalone: Standalone, token: string, name: string, plan: string): Promise<LifecycleWire.ResourceInstance> {
  const created = await call(standalone, 'POST', '/v2/resource_instances', { token, body: { name, target: 'us-south', resource_group: 'default', resource_plan_id: plan } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  let found = LifecycleWire.ResourceInstance.parse(created.body);
  for (let polls = 0; found.state === 'provisioning' && polls < 200; polls++) {
    await sleep(50);
    found = LifecycleWire.ResourceInstance.parse((await call(standalone, 'GET', `/v2/resource_instances/${found.guid}`, { token })).body);
  }
  expect(found.state).toBe('active');
  return found;
}

function expectError(answer: Answer, status: number, code: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect((answer.body as ErrorBody).errors[0]?.code).toBe(code);
}

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => ({ path: join(entry.parentPath, entry.name), bytes: readFileSync(join(entry.parentPath, entry.name)) }));
}

/** Requests a sealed process must refuse with 503 SEALED: the API surfaces, the docs, unknown routes and the admin seal routes. */
const SEALED_REQUESTS: readonly [string, string][] = [
  ['GET', '/v2/resource_instances'],
  ['POST', '/v2/resource_instances'],
  ['GET', '/api/v2/secrets'],
  ['POST', '/api/v2/secrets'],
  ['GET', '/kms/api/v2/keys'],
  ['POST', '/identity/token'],
  ['GET', '/identity/keys'],
  ['GET', '/v1/apikeys'],
  ['GET', '/v1/policies'],
  ['GET', '/v1/reclamations'],
  ['GET', '/v1/events'],
  ['GET', '/docs'],
  ['GET', '/docs-json'],
  ['GET', '/'],
  ['POST', '/v1/sys/seal'],
  ['POST', '/v1/sys/rekey'],
  ['POST', '/v1/sys/rotate'],
  ['GET', '/no/such/route'],
];

describe('seal (standalone, operator mode)', () => {
  it('a copy of a populated data directory reveals no canary and stays sealed; the original opens with the passphrase', async () => {
    const dataDir = tempDir('origin');
    const sealed = await start(dataDir);
    expect(sealed.sealed).toBe(true);

    // Sealed and not initialised: health yes, readiness 503 "sealed", the rest 503 SEALED.
    expect((await call(sealed, 'GET', '/healthz')).status).toBe(200);
    const ready = await call<ErrorBody>(sealed, 'GET', '/readyz');
    expectError(ready, 503, 'SEALED');
    expect(ready.body.errors[0]?.message).toBe('sealed');
    expect(SealWire.SealStatus.parse((await call(sealed, 'GET', '/v1/sys/seal-status')).body)).toEqual({ initialized: false, sealed: true, t: 0, n: 0, progress: 0 });
    expectError(await call(sealed, 'GET', '/v2/resource_instances'), 503, 'SEALED');
    expectError(await call(sealed, 'POST', '/v1/sys/unseal', { body: { key: PASSPHRASE } }), 409, 'SEAL_NOT_INITIALIZED');
    expectError(await call(sealed, 'POST', '/v1/sys/init', { body: { type: 'passphrase', passphrase: 'short' } }), 400, 'VALIDATION_FAILED');

    const init = await call(sealed, 'POST', '/v1/sys/init', { body: { type: 'passphrase', passphrase: PASSPHRASE } });
    expect(init).toEqual({ status: 200, body: { type: 'passphrase', keys: [] } });
    expectError(await call(sealed, 'POST', '/v1/sys/init', { body: { type: 'passphrase', passphrase: PASSPHRASE } }), 409, 'CONFLICT');
    expectError(await call(sealed, 'POST', '/v1/sys/unseal', { body: { key: `${PASSPHRASE}-wrong` } }), 400, 'UNSEAL_FAILED');
    const unsealed = await call(sealed, 'POST', '/v1/sys/unseal', { body: { key: PASSPHRASE } });
    expect(unsealed.status).toBe(200);
    expect(unsealed.body).toMatchObject({ initialized: true, sealed: false, type: 'passphrase' });
    await eventually(sealed, '/readyz', 200);
    expect(sealed.sealed).toBe(false);

    // Populate: secrets of several types, a key with known material, an API key.
    const token = await login(sealed, readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim());
    const canaries = {
      arbitrary: `arbitrary-canary-${randomBytes(12).toString('hex')}`,
      password: `Password-canary-${randomBytes(12).toString('hex')}`,
      kv: `kv-canary-${randomBytes(12).toString('hex')}`,
    };
    const keyMaterial = randomBytes(32);
    const instance = await provision(sealed, token, 'sealed-sm', 'secrets-manager-standard');
    const sm = new SecretsManagerClient({ serviceUrl: sealed.url, instanceId: instance.guid, bearerToken: token, timeoutMs: 30_000 });
    expect((await sm.createSecret({ secret_type: 'arbitrary', name: 'canary-a', payload: canaries.arbitrary })).status).toBe(201);
    expect((await sm.createSecret({ secret_type: 'username_password', name: 'canary-u', username: 'svc', password: canaries.password })).status).toBe(201);
    expect((await sm.createSecret({ secret_type: 'kv', name: 'canary-k', data: { canary: canaries.kv } })).status).toBe(201);

    const kms = await provision(sealed, token, 'sealed-kms', 'kms-standard');
    const imported = await call(sealed, 'POST', '/kms/api/v2/keys', {
      token,
      headers: { 'bluemix-instance': kms.guid },
      body: {
        metadata: { collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: 1 },
        resources: [{ type: KmsWire.KEY_COLLECTION_TYPE, name: 'imported-root', extractable: false, payload: keyMaterial.toString('base64') }],
      },
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);

    const me = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iam_id: string };
    const apikey = await call<{ apikey: string }>(sealed, 'POST', '/v1/apikeys', { token, body: { name: 'canary-key', iam_id: me.iam_id } });
    expect(apikey.status, JSON.stringify(apikey.body)).toBe(201);

    // Every documented route, to try on the sealed copy.
    const document = await call<{ paths: Record<string, Record<string, unknown>> }>(sealed, 'GET', '/openapi.json');
    const documented = Object.entries(document.body.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x')] as [string, string]),
    );
    expect(documented.length).toBeGreaterThan(80);

    // Seal on demand: only the seal endpoints answer again.
    expect((await call(sealed, 'POST', '/v1/sys/seal', { token })).status).toBe(204);
    await eventually(sealed, '/readyz', 503);
    expect(sealed.sealed).toBe(true);
    expectError(await call(sealed, 'GET', '/v2/resource_instances', { token }), 503, 'SEALED');
    await sealed.close();

    // No master key in clear anywhere; the copy holds no canary in any form.
    expect(existsSync(join(dataDir, 'hsm', 'master.key'))).toBe(false);
    expect(existsSync(join(dataDir, 'iam-master.key'))).toBe(false);
    const copy = join(tempDir('copy'), 'data');
    cpSync(dataDir, copy, { recursive: true });
    const needles = [
      ...Object.values(canaries).map((canary) => Buffer.from(canary)),
      Buffer.from(PASSPHRASE),
      Buffer.from(apikey.body.apikey),
      keyMaterial,
      Buffer.from(keyMaterial.toString('base64')),
      Buffer.from(keyMaterial.toString('hex')),
    ];
    const files = filesUnder(copy);
    expect(files.length).toBeGreaterThan(5);
    for (const { path, bytes } of files) {
      for (const needle of needles) expect(bytes.includes(needle), `${path} holds a canary in clear`).toBe(false);
    }

    // A process on the copy stays sealed: every route but health, readiness and the seal endpoints is 503 SEALED.
    const onCopy = await start(copy);
    expect(onCopy.sealed).toBe(true);
    expect(SealWire.SealStatus.parse((await call(onCopy, 'GET', '/v1/sys/seal-status')).body)).toMatchObject({ initialized: true, sealed: true, type: 'passphrase', t: 1 });
    const allowed = new Set(['GET /healthz', 'GET /readyz', 'GET /v1/sys/seal-status', 'POST /v1/sys/init', 'POST /v1/sys/unseal']);
    const refused = [...SEALED_REQUESTS, ...documented].filter(([method, path]) => !allowed.has(`${method} ${path}`));
    expect(refused.length).toBeGreaterThan(documented.length - allowed.size);
    for (const [method, path] of refused) {
      const answer = await call(onCopy, method, path, { token, ...(['POST', 'PUT', 'PATCH'].includes(method) ? { body: {} } : {}) });
      // HEAD answers carry no body: the status says it.
      const code = method === 'HEAD' ? 'SEALED' : (answer.body as ErrorBody | undefined)?.errors?.[0]?.code;
      expect([method, path, answer.status, code]).toEqual([method, path, 503, 'SEALED']);
    }
    expectError(await call(onCopy, 'GET', '/readyz'), 503, 'SEALED');
    // Wrong passphrases: 400 UNSEAL_FAILED, then rate limited.
    for (let attempt = 0; attempt < 5; attempt++) {
      expectError(await call(onCopy, 'POST', '/v1/sys/unseal', { body: { key: `guess-${attempt}-of-a-passphrase` } }), 400, 'UNSEAL_FAILED');
    }
    expectError(await call(onCopy, 'POST', '/v1/sys/unseal', { body: { key: PASSPHRASE } }), 429, 'RATE_LIMITED');
    await onCopy.close();

    // The original opens at start from a passphrase file, with its data.
    const passphraseFile = join(tempDir('secret'), 'passphrase');
    writeFileSync(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    const reopened = await start(dataDir, { SEALBOX_UNSEAL_PASSPHRASE_FILE: passphraseFile });
    expect(reopened.sealed).toBe(false);
    const again = new SecretsManagerClient({ serviceUrl: reopened.url, instanceId: instance.guid, bearerToken: await login(reopened, readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim()), timeoutMs: 30_000 });
    const listed = (await again.listSecrets({ sort: 'name' })).result.secrets;
    expect(listed.map((secret) => secret.name)).toEqual(['canary-a', 'canary-k', 'canary-u']);
    const first = listed[0];
    const read = (await again.getSecret(first?.id ?? '')).result;
    expect(read.secret_type === 'arbitrary' ? read.payload : undefined).toBe(canaries.arbitrary);
  }, 120_000);

  it('Shamir: 2 of 3 shares unseal one at a time; a share given twice or a bad share is 400 UNSEAL_FAILED; rekey to a passphrase keeps the data', async () => {
    const dataDir = tempDir('shamir');
    const standalone = await start(dataDir);
    const init = await call<SealWire.SealSecretResponse>(standalone, 'POST', '/v1/sys/init', { body: { type: 'shamir', secret_shares: 3, secret_threshold: 2 } });
    expect(init.status).toBe(200);
    expect(init.body.keys).toHaveLength(3);
    const [one = '', two = '', three = ''] = init.body.keys;
    expect(new Set([one, two, three]).size).toBe(3);
    expectError(await call(standalone, 'POST', '/v1/sys/init', { body: { type: 'shamir', secret_shares: 2, secret_threshold: 3 } }), 409, 'CONFLICT');

    expect((await call(standalone, 'POST', '/v1/sys/unseal', { body: { key: one } })).body).toMatchObject({ sealed: true, t: 2, n: 3, progress: 1 });
    expectError(await call(standalone, 'POST', '/v1/sys/unseal', { body: { key: one } }), 400, 'UNSEAL_FAILED');
    // The failure reset the progress.
    expect((await call(standalone, 'GET', '/v1/sys/seal-status')).body).toMatchObject({ progress: 0 });
    expectError(await call(standalone, 'POST', '/v1/sys/unseal', { body: { key: 'not a share' } }), 400, 'UNSEAL_FAILED');
    expect((await call(standalone, 'POST', '/v1/sys/unseal', { body: { key: three } })).body).toMatchObject({ progress: 1 });
    expect((await call(standalone, 'POST', '/v1/sys/unseal', { body: { reset: true } })).body).toMatchObject({ progress: 0 });
    expect((await call(standalone, 'POST', '/v1/sys/unseal', { body: { key: three } })).body).toMatchObject({ progress: 1 });
    expect((await call(standalone, 'POST', '/v1/sys/unseal', { body: { key: two } })).body).toMatchObject({ sealed: false });
    await eventually(standalone, '/readyz', 200);

    const token = await login(standalone, readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim());
    // Without a token: 401; rekey to a passphrase and rotate the master key as the platform operator.
    expectError(await call(standalone, 'POST', '/v1/sys/rekey', { body: { type: 'passphrase', passphrase: PASSPHRASE } }), 401, 'UNAUTHORIZED');
    // The administrator of another account is no platform operator: 403, and nothing is sealed.
    const tenant = await call<{ apikey: string }>(standalone, 'POST', '/v1/accounts', { token, body: { name: 'tenant' } });
    expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
    const tenantToken = await login(standalone, tenant.body.apikey);
    expectError(await call(standalone, 'POST', '/v1/sys/seal', { token: tenantToken }), 403, 'FORBIDDEN');
    expectError(await call(standalone, 'POST', '/v1/sys/rotate', { token: tenantToken }), 403, 'FORBIDDEN');
    expect(standalone.sealed).toBe(false);
    const rekeyed = await call(standalone, 'POST', '/v1/sys/rekey', { token, body: { type: 'passphrase', passphrase: PASSPHRASE } });
    expect(rekeyed).toEqual({ status: 200, body: { type: 'passphrase', keys: [] } });
    // Something under the soft HSM first: a provider-managed instance and a secret in it.
    const instance = await provision(standalone, token, 'rotated', 'secrets-manager-standard');
    const sm = new SecretsManagerClient({ serviceUrl: standalone.url, instanceId: instance.guid, bearerToken: token, timeoutMs: 30_000 });
    const secret = (await sm.createSecret({ secret_type: 'arbitrary', name: 'before-rotation', payload: 'kept across rotation' })).result;
    const rotated = await call<SealWire.RotateResponse>(standalone, 'POST', '/v1/sys/rotate', { token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.rewrapped).toBeGreaterThan(0);
    await standalone.close();

    // The old shares no longer open it; the new passphrase does, and the keys still work (a token is signed, a secret stored).
    const restarted = await start(dataDir);
    expectError(await call(restarted, 'POST', '/v1/sys/unseal', { body: { key: one } }), 400, 'UNSEAL_FAILED');
    expect((await call(restarted, 'POST', '/v1/sys/unseal', { body: { key: PASSPHRASE } })).body).toMatchObject({ sealed: false });
    await eventually(restarted, '/readyz', 200);
    const again = await login(restarted, readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim());
    const read = (await new SecretsManagerClient({ serviceUrl: restarted.url, instanceId: instance.guid, bearerToken: again, timeoutMs: 30_000 }).getSecret(secret.id)).result;
    expect(read.secret_type === 'arbitrary' ? read.payload : undefined).toBe('kept across rotation');
  }, 120_000);

  it('dev mode: one command on an empty directory (DEV-ONLY-unseal.key, auto-unsealed), and clear master keys of an older version are migrated', async () => {
    const dataDir = tempDir('dev');
    // An older data directory: the soft HSM and iam master keys in clear files.
    const legacy = new SoftHsm({ directory: join(dataDir, 'hsm') });
    await legacy.generateKey('legacy-key');
    await legacy.close();
    loadMasterKeyFile(join(dataDir, 'iam-master.key'));
    expect(existsSync(join(dataDir, 'hsm', 'master.key'))).toBe(true);

    const announced: string[] = [];
    const standalone = await startStandalone({
      env: { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent' },
      announce: (text) => announced.push(text),
    });
    running.push(standalone);
    expect(standalone.sealed).toBe(false);
    expect(announced.join('')).toContain('DEV MODE');
    expect(announced.join('')).toContain('DEV-ONLY-unseal.key');
    expect(readFileSync(join(dataDir, 'DEV-ONLY-unseal.key'), 'utf8').trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    await eventually(standalone, '/readyz', 200);
    // The seal endpoints are documented (a Sealbox extension) like every route.
    const document = await call<{ paths: Record<string, Record<string, { tags?: string[] }>> }>(standalone, 'GET', '/openapi.json');
    expect(Object.keys(document.body.paths).filter((path) => path.startsWith('/v1/sys/')).sort()).toEqual([
      '/v1/sys/init',
      '/v1/sys/rekey',
      '/v1/sys/rotate',
      '/v1/sys/seal',
      '/v1/sys/seal-status',
      '/v1/sys/unseal',
    ]);
    expect(document.body.paths['/v1/sys/unseal']?.['post']?.tags).toEqual(['Seal (Sealbox extension)']);
    await standalone.close();
    // Migrated: no clear master key left; the old key still decrypts under the wrapped master key.
    expect(existsSync(join(dataDir, 'hsm', 'master.key'))).toBe(false);
    expect(existsSync(join(dataDir, 'iam-master.key'))).toBe(false);
    expect(existsSync(join(dataDir, 'iam-master.key.sealed'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dataDir, 'hsm', 'keys.json'), 'utf8'))).toMatchObject({ version: 2 });

    const second = await startStandalone({ env: { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent' }, announce: () => undefined });
    running.push(second);
    expect(second.sealed).toBe(false);
    await second.close();

    // Production refuses dev mode unless asked: the same directory starts sealed.
    const production = await start(dataDir, { SEALBOX_ENV: 'production', SEALBOX_SEAL_MODE: '' });
    expect(production.sealed).toBe(true);
    expect((await call(production, 'GET', '/v1/sys/seal-status')).body).toMatchObject({ type: 'dev-key', sealed: true });
  }, 120_000);
});
