import { SealWire } from '@sealbox/contracts';
import { createSoftHsm2Store, type SoftHsm2Store, type SoftHsm2Token } from '@sealbox/hsm/testing';
import { SecretsManagerClient } from '@sealbox/sm-client';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type Standalone } from './standalone.js';

/**
 * Auto-unseal with a PKCS#11 token (SoftHSM2), proved on `npm start` over HTTP: `init` with the
 * token leaves seal.json holding only the token-wrapped unseal key, every later start unseals by
 * itself, and a copy of the data directory without the token (or with the wrong key label, another
 * token, a wrong PIN) stays sealed with a code on /v1/sys/seal-status and on POST /v1/sys/unseal.
 */

const SCRYPT_LOG_N = 14;
const PASSPHRASE = `correct horse battery ${randomBytes(6).toString('hex')}`;
const dirs: string[] = [];
const running: Standalone[] = [];
let softhsm: SoftHsm2Store;
let token: SoftHsm2Token;
let other: SoftHsm2Token;
let pinFile: string;

function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sealbox-seal-pkcs11-${label}-`));
  dirs.push(dir);
  return dir;
}

function pinFileOf(pin: string): string {
  const file = join(tempDir('pin'), 'pin');
  writeFileSync(file, `${pin}\n`, { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  // Before the first PKCS#11 call of this process: SoftHSM2 reads SOFTHSM2_CONF at C_Initialize.
  softhsm = await createSoftHsm2Store();
  token = await softhsm.initToken();
  other = await softhsm.initToken();
  pinFile = pinFileOf(token.pin);
});

const tokenEnv = (overrides: Record<string, string> = {}) => ({
  SEALBOX_SEAL_PKCS11_TOKEN_LABEL: token.label,
  SEALBOX_SEAL_PKCS11_PIN_FILE: pinFile,
  SEALBOX_SEAL_PKCS11_KEY_LABEL: 'sealbox-seal-test',
  ...overrides,
});

async function start(dataDir: string, extra: Record<string, string> = {}, announced: string[] = []): Promise<Standalone> {
  const standalone = await startStandalone({
    env: { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent', SEALBOX_SEAL_MODE: 'operator', ...extra },
    announce: (text) => announced.push(text),
    scryptLogN: SCRYPT_LOG_N,
  });
  running.push(standalone);
  return standalone;
}

afterEach(async () => {
  for (const standalone of running.splice(0)) await standalone.close().catch(() => undefined);
});
afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await softhsm?.remove();
});

interface Answer<T = unknown> {
  readonly status: number;
  readonly body: T;
}
type ErrorBody = { errors: { code: string; message: string }[]; status_code: number };

async function call<T = unknown>(standalone: Standalone, method: string, path: string, options: { body?: unknown; token?: string } = {}): Promise<Answer<T>> {
  const response = await fetch(`${standalone.url}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

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

async function login(standalone: Standalone, dataDir: string): Promise<string> {
  const response = await fetch(`${standalone.url}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim() }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

function expectError(answer: Answer, status: number, code: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect((answer.body as ErrorBody).errors[0]?.code).toBe(code);
}

async function sealStatus(standalone: Standalone): Promise<SealWire.SealStatus> {
  return SealWire.SealStatus.parse((await call(standalone, 'GET', '/v1/sys/seal-status')).body);
}

async function provisionSecretsManager(standalone: Standalone, bearer: string): Promise<string> {
  const created = await call<{ guid: string; state: string }>(standalone, 'POST', '/v2/resource_instances', {
    token: bearer,
    body: { name: 'auto-unseal', target: 'us-south', resource_group: 'default', resource_plan_id: 'secrets-manager-standard' },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  for (let polls = 0; polls < 200; polls++) {
    const found = await call<{ state: string }>(standalone, 'GET', `/v2/resource_instances/${created.body.guid}`, { token: bearer });
    if (found.body.state === 'active') return created.body.guid;
    await sleep(50);
  }
  throw new Error('the instance did not become active');
}

describe('seal: auto-unseal with a PKCS#11 token (standalone, SoftHSM2)', () => {
  it('init with the token, restart: unsealed by itself; a copy without the token, a wrong key label, another token or a wrong PIN stay sealed with a code', async () => {
    const dataDir = tempDir('origin');
    const first = await start(dataDir, tokenEnv());
    expect(first.sealed).toBe(true);
    expect(await call(first, 'POST', '/v1/sys/init', { body: { type: 'pkcs11' } })).toEqual({ status: 200, body: { type: 'pkcs11', keys: [] } });
    expect(await sealStatus(first)).toMatchObject({ type: 'pkcs11', initialized: true, sealed: true, t: 0, n: 1 });
    // A key is no use to a token-sealed store.
    expectError(await call(first, 'POST', '/v1/sys/unseal', { body: { key: PASSPHRASE } }), 400, 'UNSEAL_FAILED');
    expect((await call(first, 'POST', '/v1/sys/unseal', { body: {} })).body).toMatchObject({ sealed: false, type: 'pkcs11' });
    await eventually(first, '/readyz', 200);

    const bearer = await login(first, dataDir);
    const canary = `auto-unseal-canary-${randomBytes(12).toString('hex')}`;
    const instance = await provisionSecretsManager(first, bearer);
    const sm = new SecretsManagerClient({ serviceUrl: first.url, instanceId: instance, bearerToken: bearer, timeoutMs: 30_000 });
    const secret = (await sm.createSecret({ secret_type: 'arbitrary', name: 'canary', payload: canary })).result;

    // Seal on demand: sealed until a restart or an empty unseal request asks the token again.
    expect((await call(first, 'POST', '/v1/sys/seal', { token: bearer })).status).toBe(204);
    await eventually(first, '/readyz', 503);
    expect(await sealStatus(first)).toMatchObject({ sealed: true, type: 'pkcs11' });
    expect((await call(first, 'POST', '/v1/sys/unseal', { body: {} })).body).toMatchObject({ sealed: false });
    await eventually(first, '/readyz', 200);
    await first.close();

    // Restart: unsealed with no operator, the data readable.
    const restarted = await start(dataDir, tokenEnv());
    expect(restarted.sealed).toBe(false);
    await eventually(restarted, '/readyz', 200);
    const again = new SecretsManagerClient({ serviceUrl: restarted.url, instanceId: instance, bearerToken: await login(restarted, dataDir), timeoutMs: 30_000 });
    const read = (await again.getSecret(secret.id)).result;
    expect(read.secret_type === 'arbitrary' ? read.payload : undefined).toBe(canary);
    await restarted.close();

    // seal.json holds the token-wrapped unseal key and public labels only; no file of the copy holds the canary or the PIN.
    const sealFile = JSON.parse(readFileSync(join(dataDir, 'seal.json'), 'utf8')) as { type: string; params: Record<string, string> };
    expect(sealFile).toMatchObject({ type: 'pkcs11', params: { mechanism: 'CKM_AES_GCM', tokenLabel: token.label, keyLabel: 'sealbox-seal-test' } });
    const copy = join(tempDir('copy'), 'data');
    cpSync(dataDir, copy, { recursive: true });
    for (const entry of readdirSync(copy, { recursive: true, withFileTypes: true }).filter((item) => item.isFile())) {
      const bytes = readFileSync(join(entry.parentPath, entry.name));
      expect(bytes.includes(Buffer.from(canary)), `${entry.name} holds the canary`).toBe(false);
      expect(bytes.includes(Buffer.from(token.pin)), `${entry.name} holds the PIN`).toBe(false);
    }

    // The copy without the token: sealed, the reason on seal-status, the unseal request 409 with the same code.
    const announced: string[] = [];
    const noToken = await start(copy, {}, announced);
    expect(noToken.sealed).toBe(true);
    expect((await sealStatus(noToken)).auto_unseal_error?.code).toBe('SEAL_TOKEN_NOT_CONFIGURED');
    expect(announced.join('')).toContain('SEAL_TOKEN_NOT_CONFIGURED');
    expectError(await call(noToken, 'POST', '/v1/sys/unseal', { body: {} }), 409, 'SEAL_TOKEN_NOT_CONFIGURED');
    expectError(await call(noToken, 'GET', '/v2/resource_instances'), 503, 'SEALED');
    await noToken.close();

    // Another token (its own PIN): no such key there.
    const otherToken = await start(copy, tokenEnv({ SEALBOX_SEAL_PKCS11_TOKEN_LABEL: other.label, SEALBOX_SEAL_PKCS11_PIN_FILE: pinFileOf(other.pin) }));
    expect(otherToken.sealed).toBe(true);
    expect((await sealStatus(otherToken)).auto_unseal_error?.code).toBe('SEAL_TOKEN_KEY_NOT_FOUND');
    expectError(await call(otherToken, 'POST', '/v1/sys/unseal', { body: {} }), 409, 'SEAL_TOKEN_KEY_NOT_FOUND');
    await otherToken.close();

    // The right token, a wrong key label: sealed, 409 SEAL_TOKEN_KEY_NOT_FOUND.
    const wrongLabel = await start(dataDir, tokenEnv({ SEALBOX_SEAL_PKCS11_KEY_LABEL: 'not-the-seal-key' }));
    expect(wrongLabel.sealed).toBe(true);
    expect((await sealStatus(wrongLabel)).auto_unseal_error).toMatchObject({ code: 'SEAL_TOKEN_KEY_NOT_FOUND' });
    expectError(await call(wrongLabel, 'POST', '/v1/sys/unseal', { body: {} }), 409, 'SEAL_TOKEN_KEY_NOT_FOUND');
    await wrongLabel.close();

    // The right token, a wrong PIN: the token refuses it, 503 SEAL_TOKEN_UNAVAILABLE (the PIN named nowhere).
    const wrongPin = await start(dataDir, tokenEnv({ SEALBOX_SEAL_PKCS11_PIN_FILE: pinFileOf(`${token.pin}0`) }));
    expect(wrongPin.sealed).toBe(true);
    const unavailable = await call<ErrorBody>(wrongPin, 'POST', '/v1/sys/unseal', { body: {} });
    expectError(unavailable, 503, 'SEAL_TOKEN_UNAVAILABLE');
    expect(JSON.stringify(unavailable.body)).not.toContain(token.pin);
    await wrongPin.close();
  }, 120_000);

  it('dev mode with a token configured: one command still, initialised with the token instead of a key file beside the data', async () => {
    const dataDir = tempDir('dev');
    const announced: string[] = [];
    const dev = await start(dataDir, { ...tokenEnv({ SEALBOX_SEAL_PKCS11_KEY_LABEL: 'dev-seal-key' }), SEALBOX_SEAL_MODE: 'dev' }, announced);
    expect(dev.sealed).toBe(false);
    expect(announced.join('')).toContain(`initialised with the PKCS#11 token ${token.label}`);
    expect(existsSync(join(dataDir, 'DEV-ONLY-unseal.key'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dataDir, 'seal.json'), 'utf8'))).toMatchObject({ type: 'pkcs11', params: { keyLabel: 'dev-seal-key' } });
    await dev.close();
    expect((await start(dataDir, { ...tokenEnv({ SEALBOX_SEAL_PKCS11_KEY_LABEL: 'dev-seal-key' }), SEALBOX_SEAL_MODE: 'dev' })).sealed).toBe(false);

    // A token that is not there: the start fails with one line naming the code, and the empty directory stays uninitialised.
    const missing = tempDir('dev-missing');
    await expect(start(missing, { ...tokenEnv({ SEALBOX_SEAL_PKCS11_TOKEN_LABEL: 'no-such-token' }), SEALBOX_SEAL_MODE: 'dev' })).rejects.toThrow(
      /cannot initialise the seal with the PKCS#11 token no-such-token: SEAL_TOKEN_UNAVAILABLE/,
    );
    expect(existsSync(join(missing, 'seal.json'))).toBe(false);
  }, 120_000);

  it('rekey passphrase → pkcs11 → shares keeps the data; pkcs11 without a token configured is 409 SEAL_TOKEN_NOT_CONFIGURED', async () => {
    const dataDir = tempDir('rekey');
    const plain = await start(dataDir);
    expectError(await call(plain, 'POST', '/v1/sys/init', { body: { type: 'pkcs11' } }), 409, 'SEAL_TOKEN_NOT_CONFIGURED');
    expect((await call(plain, 'POST', '/v1/sys/init', { body: { type: 'passphrase', passphrase: PASSPHRASE } })).status).toBe(200);
    expect((await call(plain, 'POST', '/v1/sys/unseal', { body: { key: PASSPHRASE } })).body).toMatchObject({ sealed: false });
    await eventually(plain, '/readyz', 200);
    let bearer = await login(plain, dataDir);
    expectError(await call(plain, 'POST', '/v1/sys/rekey', { token: bearer, body: { type: 'pkcs11' } }), 409, 'SEAL_TOKEN_NOT_CONFIGURED');
    const instance = await provisionSecretsManager(plain, bearer);
    const sm = new SecretsManagerClient({ serviceUrl: plain.url, instanceId: instance, bearerToken: bearer, timeoutMs: 30_000 });
    const secret = (await sm.createSecret({ secret_type: 'arbitrary', name: 'rekeyed', payload: 'kept across rekeys' })).result;
    await plain.close();

    // passphrase → pkcs11 (the token key is created now).
    const withToken = await start(dataDir, tokenEnv({ SEALBOX_SEAL_PKCS11_KEY_LABEL: 'rekey-seal-key' }));
    expect(withToken.sealed).toBe(true);
    expectError(await call(withToken, 'POST', '/v1/sys/unseal', { body: {} }), 400, 'UNSEAL_FAILED');
    expect((await call(withToken, 'POST', '/v1/sys/unseal', { body: { key: PASSPHRASE } })).body).toMatchObject({ sealed: false });
    await eventually(withToken, '/readyz', 200);
    bearer = await login(withToken, dataDir);
    expect(await call(withToken, 'POST', '/v1/sys/rekey', { token: bearer, body: { type: 'pkcs11' } })).toEqual({ status: 200, body: { type: 'pkcs11', keys: [] } });
    await withToken.close();

    const auto = await start(dataDir, tokenEnv({ SEALBOX_SEAL_PKCS11_KEY_LABEL: 'rekey-seal-key' }));
    expect(auto.sealed).toBe(false);
    await eventually(auto, '/readyz', 200);
    bearer = await login(auto, dataDir);
    // pkcs11 → shares.
    const shares = await call<SealWire.SealSecretResponse>(auto, 'POST', '/v1/sys/rekey', { token: bearer, body: { type: 'shamir', secret_shares: 3, secret_threshold: 2 } });
    expect(shares.status).toBe(200);
    await auto.close();

    const manual = await start(dataDir, tokenEnv({ SEALBOX_SEAL_PKCS11_KEY_LABEL: 'rekey-seal-key' }));
    expect(manual.sealed).toBe(true);
    expect(await sealStatus(manual)).toMatchObject({ type: 'shamir', t: 2, n: 3 });
    expect((await sealStatus(manual)).auto_unseal_error).toBeUndefined();
    expectError(await call(manual, 'POST', '/v1/sys/unseal', { body: {} }), 400, 'UNSEAL_FAILED');
    expect((await call(manual, 'POST', '/v1/sys/unseal', { body: { key: shares.body.keys[0] } })).body).toMatchObject({ progress: 1 });
    expect((await call(manual, 'POST', '/v1/sys/unseal', { body: { key: shares.body.keys[2] } })).body).toMatchObject({ sealed: false });
    await eventually(manual, '/readyz', 200);
    const again = new SecretsManagerClient({ serviceUrl: manual.url, instanceId: instance, bearerToken: await login(manual, dataDir), timeoutMs: 30_000 });
    const read = (await again.getSecret(secret.id)).result;
    expect(read.secret_type === 'arbitrary' ? read.payload : undefined).toBe('kept across rekeys');
  }, 120_000);
});
