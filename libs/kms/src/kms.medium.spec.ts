/**
 * The kms service end to end over the in-process transport: real database (SQLite and PostgreSQL),
 * the real HSM backends (soft, and SoftHSM2 over PKCS#11) and the real provider plugins (key-protect, hpcs). Requests go through the
 * registry schemas and errors over the wire, as from the gateway (user-facing `kms.api.*`, with a
 * caller) and from other services (`kms.instance.*`, `kms.key.*`, `kms.registration.*`).
 */
import { KmsWire, type CloudEvent, type RequestOf } from '@sealbox/contracts';
import type { HsmConfig } from '@sealbox/hsm';
import { createSoftHsm2Store, SOFTHSM2_LIBRARY } from '@sealbox/hsm/testing';
import { dataSourceToken, rootLogger, setRootLogger, type Caller, type DatabaseConfig } from '@sealbox/platform';
import { createTestDatabase } from '@sealbox/platform/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUTHORIZATION_CACHE_TTL_MS } from './authorization/service-authorizations.js';
import { PURGE_DELAY_MS, RESTORE_WINDOW_MS } from './domain/key-lifecycle.js';
import { addMonthsUtc, AUTO_PURGE_AFTER_MS } from './domain/schedules.js';
import { KeyVersionEntity, RegistrationEntity } from './persistence/entities.js';
import { KeyPurgeScheduler, KeyRotationScheduler } from './services/key-schedulers.js';
import { KmsSchedulerTimer } from './services/scheduler-timer.js';
import { startKms, userOf, type KmsHarness } from './testing/kms-harness.js';
import { secureImportFields } from './testing/token-import.js';
import { KMS_PROVIDERS, type KmsProviders } from './tokens.js';

const HOUR = 3_600_000;

interface Backend {
  readonly name: string;
  database(dir: string): Promise<{ config: DatabaseConfig; drop(): Promise<void> }>;
  hsm(dir: string): Promise<{ config: HsmConfig; remove(): Promise<void> }>;
}

const sqlite = async (dir: string) => ({ config: { type: 'sqlite', path: join(dir, 'kms.sqlite') } as DatabaseConfig, drop: async () => undefined });
const postgres = async () => {
  const database = await createTestDatabase('sealbox_kms_test');
  return { config: { type: 'postgres', url: database.url } as DatabaseConfig, drop: () => database.drop() };
};
const softHsm = async (dir: string) => ({ config: { backend: 'soft', directory: join(dir, 'hsm') } as HsmConfig, remove: async () => undefined });
const softHsm2 = async () => {
  const store = await createSoftHsm2Store();
  const token = await store.initToken();
  return { config: { backend: 'pkcs11', library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin } as HsmConfig, remove: () => store.remove() };
};

const backends: Backend[] = [
  { name: 'SQLite, soft HSM', database: sqlite, hsm: softHsm },
  { name: 'PostgreSQL, soft HSM', database: postgres, hsm: softHsm },
  { name: 'PostgreSQL, SoftHSM2 over PKCS#11', database: postgres, hsm: softHsm2 },
];

describe.each(backends)('kms service ($name, real providers)', (backend) => {
  let kms: KmsHarness;
  let dir: string;
  let drop: () => Promise<void>;
  let removeHsm: () => Promise<void>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-kms-'));
    const database = await backend.database(dir);
    drop = database.drop;
    const hsm = await backend.hsm(dir);
    removeHsm = hsm.remove;
    kms = await startKms({ database: database.config, hsm: hsm.config });
  });

  afterAll(async () => {
    await kms?.close();
    await drop?.();
    await removeHsm?.();
    rmSync(dir, { recursive: true, force: true });
  });

  // ---- helpers ----

  interface Tenant {
    readonly accountId: string;
    readonly instanceId: string;
    readonly user: Caller;
    readonly other: Caller;
  }

  async function tenant(serviceName: 'kms' | 'hs-crypto' = 'kms'): Promise<Tenant> {
    const accountId = randomUUID().replaceAll('-', '');
    const instanceId = randomUUID();
    await kms.call('kms.instance.create', { accountId, instanceId, serviceName, region: 'us-south' });
    return { accountId, instanceId, user: userOf(accountId, 'IBMid-alice'), other: userOf(accountId, 'IBMid-bob') };
  }

  async function createKey(t: Tenant, resource: Partial<RequestOf<'kms.api.key.create'>['resources'][number]> = {}): Promise<KmsWire.Key> {
    const created = await kms.call(
      'kms.api.key.create',
      { instanceId: t.instanceId, resources: [{ type: KmsWire.KEY_COLLECTION_TYPE, name: `key-${randomUUID().slice(0, 8)}`, extractable: false, ...resource }] },
      t.user,
    );
    const key = created.resources[0];
    if (!key) throw new Error('no key created');
    return key;
  }

  const codeOf = async (subject: Parameters<KmsHarness['failure']>[0], request: unknown, caller?: Caller) =>
    (await kms.failure(subject, request, caller)).code;

  const eventsOf = (keyId: string) => kms.events.filter((event) => (event.data as { keyId?: string }).keyId === keyId);
  const typesOf = (events: CloudEvent[]) => events.map((event) => event.type.replace('com.sealbox.', ''));

  // ---- instances ----

  describe('instances', () => {
    it('creates an instance backed by the configured provider, idempotently for the same account; another account gets 409', async () => {
      const accountId = randomUUID();
      const instanceId = randomUUID();
      const request = { accountId, instanceId, serviceName: 'kms' as const, region: 'eu-de' };
      const created = await kms.call('kms.instance.create', request);
      expect(created).toEqual({ accountId, instanceId, serviceName: 'kms', region: 'eu-de', provider: 'key-protect', masterKeyStatus: 'not_applicable' });
      expect(await kms.call('kms.instance.create', request)).toEqual(created);
      expect(await codeOf('kms.instance.create', { ...request, accountId: 'someone-else' })).toBe('CONFLICT');
      expect(await kms.call('kms.instance.get', { accountId, instanceId })).toEqual(created);
      expect(await codeOf('kms.instance.get', { accountId: 'someone-else', instanceId })).toBe('NOT_FOUND');
      await expect.poll(() => kms.events.some((event) => event.type === 'com.sealbox.kms.instance.created' && (event.data as { instanceId: string }).instanceId === instanceId)).toBe(true);
    });

    it('refuses to delete an instance with keys that are not deleted (409), then deletes it with its deleted keys', async () => {
      const t = await tenant();
      const key = await createKey(t);
      expect(await codeOf('kms.instance.delete', { accountId: t.accountId, instanceId: t.instanceId })).toBe('CONFLICT');
      await kms.call('kms.api.key.delete', { instanceId: t.instanceId, id: key.id }, t.user);
      await kms.call('kms.instance.delete', { accountId: t.accountId, instanceId: t.instanceId });
      expect(await codeOf('kms.instance.get', { accountId: t.accountId, instanceId: t.instanceId })).toBe('NOT_FOUND');
      expect(await codeOf('kms.api.key.metadata', { instanceId: t.instanceId, id: key.id }, t.user)).toBe('NOT_FOUND');
    });
  });

  // ---- keys ----

  describe('keys: create, read, list', () => {
    it('creates a root key (201 shape) readable by id and by alias, never with material', async () => {
      const t = await tenant();
      const key = await createKey(t, { name: 'root-1', description: 'for tests', aliases: ['payments', 'payments_2'] });
      expect(key).toMatchObject({
        type: 'application/vnd.ibm.kms.key+json',
        name: 'root-1',
        description: 'for tests',
        aliases: ['payments', 'payments_2'],
        state: 1,
        extractable: false,
        imported: false,
        algorithmType: 'AES',
        createdBy: 'IBMid-alice',
        crn: `crn:v1:sealbox:public:kms:us-south:a/${t.accountId}:${t.instanceId}:key:${key.id}`,
        dualAuthDelete: { enabled: false },
        deleted: false,
      });
      expect(key).not.toHaveProperty('payload');
      const byAlias = await kms.call('kms.api.key.get', { instanceId: t.instanceId, id: 'payments' }, t.user);
      expect(byAlias).toEqual({ metadata: { collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: 1 }, resources: [key] });
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created']);
      expect(eventsOf(key.id)[0]?.data).toEqual({ accountId: t.accountId, instanceId: t.instanceId, keyId: key.id, name: 'root-1', imported: false, keyVersionId: key.keyVersion.id });
    });

    it('refuses a taken alias, a UUID-shaped alias, a past expiration date and a one-letter name', async () => {
      const t = await tenant();
      await createKey(t, { aliases: ['taken'] });
      const create = (resource: Record<string, unknown>) =>
        kms.failure('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'k1', ...resource }] }, t.user);
      expect((await create({ aliases: ['taken'] })).code).toBe('CONFLICT');
      expect((await create({ aliases: [randomUUID()] })).code).toBe('VALIDATION_FAILED');
      expect((await create({ expirationDate: '2020-01-01T00:00:00Z' })).code).toBe('VALIDATION_FAILED');
      expect((await create({ name: 'x' })).code).toBe('VALIDATION_FAILED');
    });

    it('lists keys with limit, offset, state and extractable filters; HEAD counts them', async () => {
      const t = await tenant();
      const keys: KmsWire.Key[] = [];
      // Listed by creation time (then id).
      for (let index = 0; index < 3; index++) {
        keys.push(await createKey(t));
        kms.clock.advance(1);
      }
      await kms.call('kms.api.key.disable', { instanceId: t.instanceId, id: keys[1]?.id ?? '' }, t.user);
      await kms.call('kms.api.key.delete', { instanceId: t.instanceId, id: keys[2]?.id ?? '' }, t.user);
      const list = (query: Record<string, unknown>) => kms.call('kms.api.key.list', { instanceId: t.instanceId, ...query } as RequestOf<'kms.api.key.list'>, t.user);
      const ids = (collection: KmsWire.KeyCollection) => collection.resources.map((key) => key.id);
      expect(ids(await list({}))).toEqual([keys[0]?.id, keys[1]?.id]);
      expect(ids(await list({ state: '5' }))).toEqual([keys[2]?.id]);
      expect(ids(await list({ state: '1,2,5', limit: '2', offset: '1' }))).toEqual([keys[1]?.id, keys[2]?.id]);
      expect((await list({ limit: '1' })).metadata).toEqual({ collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: 1 });
      expect(ids(await list({ extractable: 'true' }))).toEqual([]);
      expect(ids(await list({ extractable: 'false', state: [2] }))).toEqual([keys[1]?.id]);
      expect(await kms.call('kms.api.key.count', { instanceId: t.instanceId }, t.user)).toEqual({ total: 2 });
      expect(await kms.call('kms.api.key.count', { instanceId: t.instanceId, state: '0,1,2,3,5' } as RequestOf<'kms.api.key.count'>, t.user)).toEqual({ total: 3 });
      expect(await codeOf('kms.api.key.list', { instanceId: t.instanceId, state: '4' }, t.user)).toBe('VALIDATION_FAILED');
      expect(await codeOf('kms.api.key.list', { instanceId: t.instanceId, limit: '5001' }, t.user)).toBe('VALIDATION_FAILED');
    });

    it('shows an expired key as deactivated (3): it unwraps but does not wrap', async () => {
      const t = await tenant();
      const key = await createKey(t, { expirationDate: new Date(kms.clock.nowMs() + HOUR).toISOString() });
      const wrapped = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user);
      kms.clock.advance(HOUR);
      const metadata = await kms.call('kms.api.key.metadata', { instanceId: t.instanceId, id: key.id }, t.user);
      expect(metadata.resources[0]).toMatchObject({ state: 3, nonactiveStateReason: 1 });
      const listed = await kms.call('kms.api.key.list', { instanceId: t.instanceId, state: [3] }, t.user);
      expect(listed.resources.map((item) => item.id)).toEqual([key.id]);
      expect(await codeOf('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user)).toBe('KEY_DISABLED');
      const unwrapped = await kms.call('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: wrapped.ciphertext }, t.user);
      expect(unwrapped.plaintext).toBe(wrapped.plaintext);
    });

    it('keeps tenants apart: another account sees neither the instance nor its keys (404)', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const stranger = userOf(randomUUID(), 'IBMid-mallory');
      expect(await codeOf('kms.api.key.get', { instanceId: t.instanceId, id: key.id }, stranger)).toBe('NOT_FOUND');
      expect(await codeOf('kms.api.key.list', { instanceId: t.instanceId }, stranger)).toBe('NOT_FOUND');
      expect(await codeOf('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, stranger)).toBe('NOT_FOUND');
      expect(await codeOf('kms.api.key.get', { instanceId: t.instanceId, id: key.id })).toBe('UNAUTHORIZED');
    });
  });

  describe('wrap, unwrap, rewrap, rotate', () => {
    it('wraps a given data key or generates one (returned once), bound to the AAD', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const dek = randomBytes(32).toString('base64');
      const wrapped = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id, plaintext: dek, aad: ['a', 'b'] }, t.user);
      expect(wrapped).toEqual({ ciphertext: expect.any(String), keyVersion: { id: key.keyVersion.id } });
      const unwrapped = await kms.call('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: wrapped.ciphertext, aad: ['a', 'b'] }, t.user);
      expect(unwrapped).toEqual({ plaintext: dek, keyVersion: { id: key.keyVersion.id } });

      const generated = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user);
      expect(Buffer.from(generated.plaintext ?? '', 'base64')).toHaveLength(32);
      const opened = await kms.call('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: generated.ciphertext }, t.user);
      expect(opened.plaintext).toBe(generated.plaintext);
    });

    it('answers bad input with a specific 400 and foreign or altered ciphertexts with 422, never a plaintext', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const otherKey = await createKey(t);
      const elsewhere = await tenant();
      const foreignKey = await createKey(elsewhere);
      const { ciphertext } = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id, aad: ['ctx'] }, t.user);
      const unwrap = (request: Partial<RequestOf<'kms.api.key.unwrap'>>, target = { t, id: key.id }) =>
        codeOf('kms.api.key.unwrap', { instanceId: target.t.instanceId, id: target.id, ciphertext, aad: ['ctx'], ...request }, target.t.user);

      expect(await codeOf('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id, plaintext: 'not base64!' }, t.user)).toBe('INVALID_PLAINTEXT');
      expect(await codeOf('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id, plaintext: '' }, t.user)).toBe('INVALID_PLAINTEXT');
      expect(await codeOf('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id, plaintext: randomBytes(4097).toString('base64') }, t.user)).toBe('INVALID_PLAINTEXT');
      expect(await codeOf('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id, plaintext: 'A'.repeat(8196) }, t.user)).toBe('VALIDATION_FAILED');
      expect(await unwrap({ ciphertext: 'garbage!' })).toBe('INVALID_CIPHERTEXT');
      expect(await unwrap({ ciphertext: Buffer.from('short').toString('base64') })).toBe('INVALID_CIPHERTEXT');
      expect(await unwrap({ aad: ['other'] })).toBe('INTEGRITY_FAILED');
      expect(await unwrap({}, { t, id: otherKey.id })).toBe('INTEGRITY_FAILED');
      expect(await unwrap({}, { t: elsewhere, id: foreignKey.id })).toBe('INTEGRITY_FAILED');
      const bytes = Buffer.from(ciphertext, 'base64');
      for (const index of [0, 1, 16, 17, 30, bytes.length - 1]) {
        const altered = Buffer.from(bytes);
        altered[index] = (altered[index] ?? 0) ^ 0x40;
        expect(await unwrap({ ciphertext: altered.toString('base64') })).toBe('INTEGRITY_FAILED');
      }
    });

    it('rotates: new ciphertexts use the new version; an old ciphertext unwraps with rewrappedKeyVersion and the rewrapped ciphertext; rewrap moves it', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const v1 = key.keyVersion.id;
      const old = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id, aad: ['x'] }, t.user);
      await kms.call('kms.api.key.rotate', { instanceId: t.instanceId, id: key.id }, t.user);
      const rotated = (await kms.call('kms.api.key.metadata', { instanceId: t.instanceId, id: key.id }, t.user)).resources[0];
      const v2 = rotated?.keyVersion.id ?? '';
      expect(v2).not.toBe(v1);
      expect(rotated?.lastRotateDate).toBeDefined();

      const unwrapped = await kms.call('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: old.ciphertext, aad: ['x'] }, t.user);
      expect(unwrapped).toMatchObject({ plaintext: old.plaintext, keyVersion: { id: v1 }, rewrappedKeyVersion: { id: v2 } });
      const fresh = await kms.call('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: unwrapped.ciphertext ?? '', aad: ['x'] }, t.user);
      expect(fresh).toEqual({ plaintext: old.plaintext, keyVersion: { id: v2 } });

      const rewrapped = await kms.call('kms.api.key.rewrap', { instanceId: t.instanceId, id: key.id, ciphertext: old.ciphertext, aad: ['x'] }, t.user);
      expect(rewrapped).toMatchObject({ keyVersion: { id: v1 }, rewrappedKeyVersion: { id: v2 } });
      expect((await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user)).keyVersion.id).toBe(v2);

      const versions = await kms.call('kms.api.key.versions', { instanceId: t.instanceId, id: key.id, totalCount: 'true' } as RequestOf<'kms.api.key.versions'>, t.user);
      expect(versions.metadata).toEqual({ collectionType: KmsWire.KEY_VERSION_COLLECTION_TYPE, collectionTotal: 2, totalCount: 2 });
      expect(versions.resources.map((version) => version.id)).toEqual([v2, v1]);
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created', 'kms.key.rotated']);
      expect(await codeOf('kms.api.key.rotate', { instanceId: t.instanceId, id: key.id, payload: randomBytes(32).toString('base64') }, t.user)).toBe(
        'INVALID_KEY_MATERIAL',
      );
    });

    it('disable: wrap, unwrap, rewrap and rotate fail at once with 409 KEY_DISABLED; enable restores them', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const wrapped = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user);
      await kms.call('kms.api.key.disable', { instanceId: t.instanceId, id: key.id }, t.user);
      await kms.call('kms.api.key.disable', { instanceId: t.instanceId, id: key.id }, t.user);
      expect((await kms.call('kms.api.key.metadata', { instanceId: t.instanceId, id: key.id }, t.user)).resources[0]).toMatchObject({ state: 2, nonactiveStateReason: 2 });
      const ref = { instanceId: t.instanceId, id: key.id };
      expect(await codeOf('kms.api.key.wrap', ref, t.user)).toBe('KEY_DISABLED');
      expect(await codeOf('kms.api.key.unwrap', { ...ref, ciphertext: wrapped.ciphertext }, t.user)).toBe('KEY_DISABLED');
      expect(await codeOf('kms.api.key.unwrap', { ...ref, ciphertext: 'garbage' }, t.user)).toBe('KEY_DISABLED');
      expect(await codeOf('kms.api.key.rewrap', { ...ref, ciphertext: wrapped.ciphertext }, t.user)).toBe('KEY_DISABLED');
      expect(await codeOf('kms.api.key.rotate', ref, t.user)).toBe('KEY_DISABLED');
      await kms.call('kms.api.key.enable', ref, t.user);
      expect((await kms.call('kms.api.key.unwrap', { ...ref, ciphertext: wrapped.ciphertext }, t.user)).plaintext).toBe(wrapped.plaintext);
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created', 'kms.key.disabled', 'kms.key.enabled']);
    });
  });

  describe('imported keys', () => {
    it('imports plain key material (32 bytes); rotation needs NEW material; restore needs the SAME material', async () => {
      const t = await tenant();
      const material = randomBytes(32);
      const key = await createKey(t, { payload: material.toString('base64') });
      expect(key.imported).toBe(true);
      const ref = { instanceId: t.instanceId, id: key.id };
      const wrapped = await kms.call('kms.api.key.wrap', ref, t.user);

      expect(await codeOf('kms.api.key.rotate', ref, t.user)).toBe('INVALID_KEY_MATERIAL');
      expect(await codeOf('kms.api.key.rotate', { ...ref, payload: material.toString('base64') }, t.user)).toBe('INVALID_KEY_MATERIAL');
      const next = randomBytes(32);
      await kms.call('kms.api.key.rotate', { ...ref, payload: next.toString('base64') }, t.user);
      expect(await codeOf('kms.api.key.rotate', { ...ref, payload: material.toString('base64') }, t.user)).toBe('INVALID_KEY_MATERIAL');

      await kms.call('kms.api.key.delete', ref, t.user);
      expect(await codeOf('kms.api.key.restore', ref, t.user)).toBe('INVALID_KEY_MATERIAL');
      expect(await codeOf('kms.api.key.restore', { ...ref, payload: material.toString('base64') }, t.user)).toBe('INVALID_KEY_MATERIAL');
      const restored = await kms.call('kms.api.key.restore', { ...ref, payload: next.toString('base64') }, t.user);
      expect(restored.resources[0]).toMatchObject({ id: key.id, state: 1, deleted: false });
      expect((await kms.call('kms.api.key.unwrap', { ...ref, ciphertext: wrapped.ciphertext }, t.user)).plaintext).toBe(wrapped.plaintext);
    });

    it.each([
      ['not base64', 'not base64!'],
      ['16 bytes', randomBytes(16).toString('base64')],
      ['33 bytes', randomBytes(33).toString('base64')],
    ])('refuses a payload that is %s with 400 INVALID_KEY_MATERIAL', async (_, payload) => {
      const t = await tenant();
      expect(await codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'imp', payload }] }, t.user)).toBe('INVALID_KEY_MATERIAL');
    });

    it('imports with an import token: retrievals counted, expiry enforced, the token used up by the import', async () => {
      const t = await tenant();
      expect(await codeOf('kms.api.import-token.get', { instanceId: t.instanceId }, t.user)).toBe('NOT_FOUND');
      const created = await kms.call('kms.api.import-token.create', { instanceId: t.instanceId, expiration: 600, maxAllowedRetrievals: 2 }, t.user);
      expect(created).toEqual({
        creationDate: new Date(kms.clock.nowMs()).toISOString(),
        expirationDate: new Date(kms.clock.nowMs() + 600_000).toISOString(),
        expiration: 600,
        maxAllowedRetrievals: 2,
        remainingRetrievals: 2,
      });
      const token = await kms.call('kms.api.import-token.get', { instanceId: t.instanceId }, t.user);
      expect(token.remainingRetrievals).toBe(1);
      const publicKeyPem = Buffer.from(token.payload, 'base64').toString('utf8');
      expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      await kms.call('kms.api.import-token.get', { instanceId: t.instanceId }, t.user);
      expect(await codeOf('kms.api.import-token.get', { instanceId: t.instanceId }, t.user)).toBe('IMPORT_TOKEN_EXHAUSTED');

      const material = randomBytes(32);
      const fields = secureImportFields(material, { publicKeyPem, nonce: Buffer.from(token.nonce, 'base64') });
      const wrongNonce = secureImportFields(material, { publicKeyPem, nonce: randomBytes(16) });
      expect(await codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'tok', ...wrongNonce }] }, t.user)).toBe('INVALID_KEY_MATERIAL');
      expect(await codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'tok', payload: fields.payload, iv: fields.iv }] }, t.user)).toBe(
        'INVALID_KEY_MATERIAL',
      );
      const key = await createKey(t, fields);
      expect(key.imported).toBe(true);
      // The same material imported in clear into another key wraps interchangeably? No: ciphertexts are bound to the key.
      const wrapped = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user);
      const twin = await createKey(t, { payload: material.toString('base64') });
      expect(await codeOf('kms.api.key.unwrap', { instanceId: t.instanceId, id: twin.id, ciphertext: wrapped.ciphertext }, t.user)).toBe('INTEGRITY_FAILED');
      // Used up.
      expect(await codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'again', ...fields }] }, t.user)).toBe('NOT_FOUND');

      await kms.call('kms.api.import-token.create', { instanceId: t.instanceId }, t.user);
      kms.clock.advance(600_000);
      expect(await codeOf('kms.api.import-token.get', { instanceId: t.instanceId }, t.user)).toBe('IMPORT_TOKEN_EXPIRED');
      expect(await codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'late', ...fields }] }, t.user)).toBe('IMPORT_TOKEN_EXPIRED');
      expect(await codeOf('kms.api.import-token.create', { instanceId: t.instanceId, expiration: 10 }, t.user)).toBe('VALIDATION_FAILED');
    });
  });

  describe('standard keys', () => {
    const standardKey = (t: Tenant, resource: Partial<RequestOf<'kms.api.key.create'>['resources'][number]> = {}, returnPayload = false) =>
      kms.call(
        'kms.api.key.create',
        { instanceId: t.instanceId, resources: [{ name: `std-${randomUUID().slice(0, 8)}`, extractable: true, ...resource }], returnPayload },
        t.user,
      );
    const only = (collection: KmsWire.KeyCollection): KmsWire.Key => {
      const [key] = collection.resources;
      if (!key || collection.resources.length !== 1) throw new Error('expected exactly one key');
      return key;
    };

    it('generates 256 bits, returned by getKey (and by create with return=representation), never by metadata, lists or events, stored only sealed', async () => {
      const t = await tenant();
      const lines: string[] = [];
      const previous = rootLogger();
      setRootLogger(pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }));
      try {
        const created = only(await standardKey(t, { name: 'std-1' }, true));
        expect(created).toMatchObject({ name: 'std-1', extractable: true, imported: false, state: 1, payload: expect.any(String) });
        const payload = created.payload ?? '';
        expect(Buffer.from(payload, 'base64')).toHaveLength(32);
        // Listed by creation time.
        kms.clock.advance(1);
        const quiet = only(await standardKey(t));
        expect(quiet).not.toHaveProperty('payload');

        const ref = { instanceId: t.instanceId, id: created.id };
        expect(only(await kms.call('kms.api.key.get', ref, t.user))).toEqual({ ...created, payload });
        expect(only(await kms.call('kms.api.key.get', { ...ref, id: quiet.id }, t.user)).payload).toEqual(expect.any(String));
        expect(only(await kms.call('kms.api.key.metadata', ref, t.user))).not.toHaveProperty('payload');

        kms.clock.advance(1);
        const root = await createKey(t);
        const list = (query: Record<string, unknown>) => kms.call('kms.api.key.list', { instanceId: t.instanceId, ...query } as RequestOf<'kms.api.key.list'>, t.user);
        const all = await list({});
        expect(all.resources.map((key) => key.id)).toEqual([created.id, quiet.id, root.id]);
        expect(all.resources.every((key) => !('payload' in key))).toBe(true);
        expect((await list({ extractable: 'true' })).resources.map((key) => key.id)).toEqual([created.id, quiet.id]);
        expect((await list({ extractable: 'false' })).resources.map((key) => key.id)).toEqual([root.id]);
        expect(await kms.call('kms.api.key.count', { instanceId: t.instanceId, extractable: 'true' } as RequestOf<'kms.api.key.count'>, t.user)).toEqual({ total: 2 });
        expect(await kms.call('kms.api.key.count', { instanceId: t.instanceId, extractable: 'false' } as RequestOf<'kms.api.key.count'>, t.user)).toEqual({ total: 1 });

        // At rest: sealed with the key's provider version, never the material itself.
        const dataSource = kms.app.get<DataSource>(dataSourceToken('kms'));
        const [version] = await dataSource.getRepository(KeyVersionEntity).find({ where: { keyId: created.id } });
        expect(version?.sealedPayload).toEqual(expect.any(String));
        expect(Buffer.from(version?.sealedPayload ?? '', 'base64').includes(Buffer.from(payload, 'base64'))).toBe(false);
        expect(JSON.stringify(version)).not.toContain(payload);

        await expect.poll(() => typesOf(eventsOf(created.id))).toEqual(['kms.key.created']);
        expect(eventsOf(created.id)[0]?.data).toEqual({ accountId: t.accountId, instanceId: t.instanceId, keyId: created.id, name: 'std-1', imported: false, keyVersionId: created.keyVersion.id });
        expect(JSON.stringify(kms.events)).not.toContain(payload);
        expect(lines.join('')).not.toContain(payload);
      } finally {
        setRootLogger(previous);
      }
    });

    it('imports 16 to 4096 bytes given in clear; anything else, and import token fields, is 400 INVALID_KEY_MATERIAL', async () => {
      const t = await tenant();
      for (const length of [16, 4096]) {
        const material = randomBytes(length).toString('base64');
        const key = only(await standardKey(t, { payload: material }));
        expect(key).toMatchObject({ extractable: true, imported: true });
        expect(only(await kms.call('kms.api.key.get', { instanceId: t.instanceId, id: key.id }, t.user)).payload).toBe(material);
      }
      const refused = (resource: Record<string, unknown>) =>
        codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'std-bad', extractable: true, ...resource }] }, t.user);
      expect(await refused({ payload: randomBytes(15).toString('base64') })).toBe('INVALID_KEY_MATERIAL');
      expect(await refused({ payload: randomBytes(4097).toString('base64') })).toBe('INVALID_KEY_MATERIAL');
      expect(await refused({ payload: 'not base64!' })).toBe('INVALID_KEY_MATERIAL');
      expect(await refused({ payload: randomBytes(32).toString('base64'), encryptedNonce: 'AAAA', iv: 'AAAA' })).toBe('INVALID_KEY_MATERIAL');
    });

    it('only root keys wrap: wrap, unwrap, rewrap, rotate, a rotation policy, a registration and kms.key.* on a standard key are 400 KEY_ROOT_REQ_ERR', async () => {
      const t = await tenant();
      const key = only(await standardKey(t));
      const root = await createKey(t);
      const ref = { instanceId: t.instanceId, id: key.id };
      const { ciphertext } = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: root.id }, t.user);
      expect(await codeOf('kms.api.key.wrap', ref, t.user)).toBe('KEY_ROOT_REQ_ERR');
      expect(await codeOf('kms.api.key.unwrap', { ...ref, ciphertext }, t.user)).toBe('KEY_ROOT_REQ_ERR');
      expect(await codeOf('kms.api.key.rewrap', { ...ref, ciphertext }, t.user)).toBe('KEY_ROOT_REQ_ERR');
      expect(await codeOf('kms.api.key.rotate', ref, t.user)).toBe('KEY_ROOT_REQ_ERR');
      expect(await codeOf('kms.api.key.policy.put', { ...ref, resources: [{ rotation: { interval_month: 1 } }] }, t.user)).toBe('KEY_ROOT_REQ_ERR');
      expect(await codeOf('kms.registration.create', { accountId: t.accountId, key: { instanceId: t.instanceId, keyId: key.id }, resourceCrn: `crn:v1:bluemix:public:secrets-manager:us-south:a/${t.accountId}:${randomUUID()}::` })).toBe(
        'KEY_ROOT_REQ_ERR',
      );
      const source = { accountId: t.accountId, serviceName: 'secrets-manager', serviceInstance: randomUUID() };
      expect(await codeOf('kms.key.wrap', { source, key: { instanceId: t.instanceId, keyId: key.id }, plaintext: Buffer.alloc(3) })).toBe('KEY_ROOT_REQ_ERR');
      expect(await codeOf('kms.key.unwrap', { source, key: { instanceId: t.instanceId, keyId: key.id }, ciphertext: Buffer.from(ciphertext, 'base64') })).toBe('KEY_ROOT_REQ_ERR');
      // A dual authorization policy is fine; the key still has one version.
      await kms.call('kms.api.key.policy.put', { ...ref, resources: [{ dualAuthDelete: { enabled: true } }] }, t.user);
      const versions = await kms.call('kms.api.key.versions', ref, t.user);
      expect(versions.resources.map((version) => version.id)).toEqual([key.keyVersion.id]);
    });

    it('disabled: getKey is 409 KEY_DISABLED (metadata readable); deleted: 410; restore as root keys (imported: the same payload again); purge removes it', async () => {
      const t = await tenant();
      const material = randomBytes(64).toString('base64');
      const imported = only(await standardKey(t, { payload: material }));
      const generated = only(await standardKey(t, {}, true));
      const ref = { instanceId: t.instanceId, id: imported.id };

      await kms.call('kms.api.key.disable', ref, t.user);
      expect(await codeOf('kms.api.key.get', ref, t.user)).toBe('KEY_DISABLED');
      expect(only(await kms.call('kms.api.key.metadata', ref, t.user))).toMatchObject({ state: 2 });
      await kms.call('kms.api.key.enable', ref, t.user);
      expect(only(await kms.call('kms.api.key.get', ref, t.user)).payload).toBe(material);

      await kms.call('kms.api.key.delete', ref, t.user);
      expect(await codeOf('kms.api.key.get', ref, t.user)).toBe('KEY_DESTROYED');
      expect(await codeOf('kms.api.key.restore', ref, t.user)).toBe('INVALID_KEY_MATERIAL');
      expect(await codeOf('kms.api.key.restore', { ...ref, payload: randomBytes(64).toString('base64') }, t.user)).toBe('INVALID_KEY_MATERIAL');
      expect(only(await kms.call('kms.api.key.restore', { ...ref, payload: material }, t.user))).toMatchObject({ state: 1, extractable: true });
      expect(only(await kms.call('kms.api.key.get', ref, t.user)).payload).toBe(material);

      const generatedRef = { instanceId: t.instanceId, id: generated.id };
      await kms.call('kms.api.key.delete', generatedRef, t.user);
      expect(await codeOf('kms.api.key.restore', { ...generatedRef, payload: generated.payload ?? '' }, t.user)).toBe('INVALID_KEY_MATERIAL');
      await kms.call('kms.api.key.restore', generatedRef, t.user);
      expect(only(await kms.call('kms.api.key.get', generatedRef, t.user)).payload).toBe(generated.payload);

      await kms.call('kms.api.key.delete', generatedRef, t.user);
      kms.clock.advance(PURGE_DELAY_MS);
      await kms.call('kms.api.key.purge', generatedRef, t.user);
      expect(await codeOf('kms.api.key.metadata', generatedRef, t.user)).toBe('NOT_FOUND');
      await expect.poll(() => typesOf(eventsOf(generated.id))).toEqual(['kms.key.created', 'kms.key.deleted', 'kms.key.restored', 'kms.key.deleted', 'kms.key.purged']);
    });

    it('a sealed payload opens only for its own key: moved to another key it is 422 INTEGRITY_FAILED', async () => {
      const t = await tenant();
      const first = only(await standardKey(t));
      const second = only(await standardKey(t));
      const dataSource = kms.app.get<DataSource>(dataSourceToken('kms'));
      const versions = dataSource.getRepository(KeyVersionEntity);
      const source = await versions.findOneByOrFail({ id: first.keyVersion.id });
      await versions.update({ id: second.keyVersion.id }, { material: source.material, sealedPayload: source.sealedPayload });
      expect(await codeOf('kms.api.key.get', { instanceId: t.instanceId, id: second.id }, t.user)).toBe('INTEGRITY_FAILED');
      expect(only(await kms.call('kms.api.key.get', { instanceId: t.instanceId, id: first.id }, t.user)).payload).toEqual(expect.any(String));
    });

    it('on an HPCS-like instance the payload is sealed under the instance master key: zeroized, getKey is 409 INSTANCE_NOT_INITIALIZED', async () => {
      const t = await tenant('hs-crypto');
      const part = () => randomBytes(32).toString('base64');
      await kms.call('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.user);
      await kms.call('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.other);
      const key = only(await standardKey(t, {}, true));
      const ref = { instanceId: t.instanceId, id: key.id };
      expect(only(await kms.call('kms.api.key.get', ref, t.user)).payload).toBe(key.payload);
      await kms.call('kms.api.master-key.zeroize', { instanceId: t.instanceId }, t.user);
      expect(await codeOf('kms.api.key.get', ref, t.user)).toBe('INSTANCE_NOT_INITIALIZED');
      await kms.call('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.user);
      await kms.call('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.other);
      expect(await codeOf('kms.api.key.get', ref, t.user)).toBe('INTEGRITY_FAILED');
    });
  });

  describe('delete, restore, purge, dual authorization', () => {
    it('deletes (state 5, 410 on getKey, metadata readable), restores within 30 days, purges only from 4 h after deletion', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const ref = { instanceId: t.instanceId, id: key.id };
      const wrapped = await kms.call('kms.api.key.wrap', ref, t.user);
      const deleted = await kms.call('kms.api.key.delete', ref, t.user);
      expect(deleted.resources[0]).toMatchObject({ state: 5, deleted: true, deletedBy: 'IBMid-alice', restoreAllowed: true, purgeAllowed: false });
      expect(await codeOf('kms.api.key.get', ref, t.user)).toBe('KEY_DESTROYED');
      expect((await kms.call('kms.api.key.metadata', ref, t.user)).resources[0]?.state).toBe(5);
      expect(await codeOf('kms.api.key.unwrap', { ...ref, ciphertext: wrapped.ciphertext }, t.user)).toBe('KEY_DESTROYED');
      expect(await codeOf('kms.api.key.delete', ref, t.user)).toBe('KEY_DESTROYED');

      const restored = await kms.call('kms.api.key.restore', ref, t.user);
      expect(restored.resources[0]).toMatchObject({ state: 1, deleted: false });
      expect((await kms.call('kms.api.key.unwrap', { ...ref, ciphertext: wrapped.ciphertext }, t.user)).plaintext).toBe(wrapped.plaintext);
      expect(await codeOf('kms.api.key.restore', ref, t.user)).toBe('CONFLICT');

      await kms.call('kms.api.key.delete', ref, t.user);
      expect(await codeOf('kms.api.key.purge', ref, t.user)).toBe('REQ_TOO_EARLY_ERR');
      kms.clock.advance(PURGE_DELAY_MS);
      const purged = await kms.call('kms.api.key.purge', ref, t.user);
      expect(purged.resources[0]).toMatchObject({ id: key.id, state: 5 });
      expect(await codeOf('kms.api.key.metadata', ref, t.user)).toBe('NOT_FOUND');
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created', 'kms.key.deleted', 'kms.key.restored', 'kms.key.deleted', 'kms.key.purged']);
    });

    it('restore after 30 days is 410 KEY_RESTORE_EXPIRED; purge of a live key is 409', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const ref = { instanceId: t.instanceId, id: key.id };
      expect(await codeOf('kms.api.key.purge', ref, t.user)).toBe('CONFLICT');
      await kms.call('kms.api.key.delete', ref, t.user);
      kms.clock.advance(RESTORE_WINDOW_MS);
      expect(await codeOf('kms.api.key.restore', ref, t.user)).toBe('KEY_RESTORE_EXPIRED');
    });

    it('dual authorization delete: a second identity must set the key for deletion first', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const ref = { instanceId: t.instanceId, id: key.id };
      expect(await codeOf('kms.api.key.set-for-deletion', ref, t.user)).toBe('CONFLICT');
      const policies = await kms.call(
        'kms.api.key.policy.put',
        { ...ref, policy: 'dualAuthDelete', resources: [{ type: KmsWire.POLICY_COLLECTION_TYPE, dualAuthDelete: { enabled: true } }] },
        t.user,
      );
      expect(policies.resources[0]).toMatchObject({ type: KmsWire.POLICY_COLLECTION_TYPE, dualAuthDelete: { enabled: true }, createdBy: 'IBMid-alice' });
      expect(await codeOf('kms.api.key.delete', ref, t.user)).toBe('DUAL_AUTH_REQUIRED');
      await kms.call('kms.api.key.set-for-deletion', ref, t.user);
      expect((await kms.call('kms.api.key.metadata', ref, t.user)).resources[0]?.dualAuthDelete).toMatchObject({ enabled: true, keySetForDeletion: true });
      expect(await codeOf('kms.api.key.delete', ref, t.user)).toBe('DUAL_AUTH_REQUIRED');
      await kms.call('kms.api.key.unset-for-deletion', ref, t.user);
      expect(await codeOf('kms.api.key.delete', ref, t.other)).toBe('DUAL_AUTH_REQUIRED');
      await kms.call('kms.api.key.set-for-deletion', ref, t.user);
      const deleted = await kms.call('kms.api.key.delete', ref, t.other);
      expect(deleted.resources[0]).toMatchObject({ state: 5, deletedBy: 'IBMid-bob' });
    });

    it('key policies: rotation and dualAuthDelete read back, filtered by ?policy; malformed ones refused', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const ref = { instanceId: t.instanceId, id: key.id };
      expect((await kms.call('kms.api.key.policy.get', ref, t.user)).resources).toEqual([]);
      await kms.call('kms.api.key.policy.put', { ...ref, resources: [{ rotation: { interval_month: 3 } }, { dualAuthDelete: { enabled: false } }] }, t.user);
      const all = await kms.call('kms.api.key.policy.get', ref, t.user);
      expect(all.metadata.collectionTotal).toBe(2);
      const rotation = await kms.call('kms.api.key.policy.get', { ...ref, policy: 'rotation' }, t.user);
      expect(rotation.resources).toEqual([expect.objectContaining({ rotation: { enabled: true, interval_month: 3 } })]);
      expect((await kms.call('kms.api.key.metadata', ref, t.user)).resources[0]?.rotation).toEqual({ enabled: true, interval_month: 3 });
      expect(await codeOf('kms.api.key.policy.put', { ...ref, resources: [{}] }, t.user)).toBe('VALIDATION_FAILED');
      expect(await codeOf('kms.api.key.policy.put', { ...ref, policy: 'rotation', resources: [{ dualAuthDelete: { enabled: true } }] }, t.user)).toBe(
        'VALIDATION_FAILED',
      );
      expect(await codeOf('kms.api.key.policy.put', { ...ref, resources: [{ rotation: { interval_month: 13 } }] }, t.user)).toBe('VALIDATION_FAILED');
    });

    it('aliases: add (at most 5), address the key by them, remove', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const ref = { instanceId: t.instanceId, id: key.id };
      const added = await kms.call('kms.api.key.alias.create', { ...ref, alias: 'first' }, t.user);
      expect(added).toEqual({
        metadata: { collectionType: KmsWire.ALIAS_COLLECTION_TYPE, collectionTotal: 1 },
        resources: [{ keyId: key.id, alias: 'first', createdBy: 'IBMid-alice', creationDate: expect.any(String) }],
      });
      expect((await kms.call('kms.api.key.alias.create', { ...ref, alias: 'first' }, t.user)).resources[0]?.alias).toBe('first');
      for (const alias of ['a2', 'a3', 'a4', 'a5']) await kms.call('kms.api.key.alias.create', { ...ref, alias }, t.user);
      expect(await codeOf('kms.api.key.alias.create', { ...ref, alias: 'a6' }, t.user)).toBe('CONFLICT');
      const other = await createKey(t);
      expect(await codeOf('kms.api.key.alias.create', { instanceId: t.instanceId, id: other.id, alias: 'first' }, t.user)).toBe('CONFLICT');
      expect((await kms.call('kms.api.key.metadata', { instanceId: t.instanceId, id: 'a3' }, t.user)).resources[0]?.id).toBe(key.id);
      await kms.call('kms.api.key.alias.delete', { ...ref, alias: 'a3' }, t.user);
      expect(await codeOf('kms.api.key.metadata', { instanceId: t.instanceId, id: 'a3' }, t.user)).toBe('NOT_FOUND');
      expect(await codeOf('kms.api.key.alias.delete', { ...ref, alias: 'a3' }, t.user)).toBe('NOT_FOUND');
    });
  });

  describe('registrations and other services', () => {
    const crnOf = (accountId: string, instance: string) => `crn:v1:bluemix:public:secrets-manager:us-south:a/${accountId}:${instance}::`;

    it('a registration with preventKeyDeletion blocks delete (409) until force, which also removes the registrations', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const other = await createKey(t);
      const crn = crnOf(t.accountId, randomUUID());
      const registration = await kms.call('kms.registration.create', {
        accountId: t.accountId,
        key: { instanceId: t.instanceId, keyId: key.id },
        resourceCrn: crn,
        preventKeyDeletion: true,
      });
      expect(registration).toMatchObject({ keyId: key.id, resourceCrn: crn, preventKeyDeletion: true });
      await kms.call('kms.registration.create', { accountId: t.accountId, key: { instanceId: t.instanceId, keyId: other.id }, resourceCrn: `${crn}x`, preventKeyDeletion: false });

      const perKey = await kms.call('kms.api.registration.list', { instanceId: t.instanceId, id: key.id }, t.user);
      expect(perKey.resources).toEqual([expect.objectContaining({ keyId: key.id, keyName: key.name, resourceCrn: crn, preventKeyDeletion: true, keyVersion: { id: key.keyVersion.id, creationDate: expect.any(String) } })]);
      const all = await kms.call('kms.api.registration.list', { instanceId: t.instanceId, totalCount: 'true' } as RequestOf<'kms.api.registration.list'>, t.user);
      expect(all.metadata).toMatchObject({ collectionTotal: 2, totalCount: 2 });
      const matching = await kms.call('kms.api.registration.list', { instanceId: t.instanceId, urlEncodedResourceCRNQuery: '*secrets-manager*x' }, t.user);
      expect(matching.resources.map((item) => item.keyId)).toEqual([other.id]);
      const preventing = await kms.call('kms.api.registration.list', { instanceId: t.instanceId, preventKeyDeletion: 'true' } as RequestOf<'kms.api.registration.list'>, t.user);
      expect(preventing.resources.map((item) => item.keyId)).toEqual([key.id]);

      const ref = { instanceId: t.instanceId, id: key.id };
      expect(await codeOf('kms.api.key.delete', ref, t.user)).toBe('KEY_DELETION_PREVENTED');
      // A registration without preventKeyDeletion does not block.
      await kms.call('kms.api.key.delete', { instanceId: t.instanceId, id: other.id }, t.user);
      await kms.call('kms.api.key.delete', { ...ref, force: 'true' } as RequestOf<'kms.api.key.delete'>, t.user);
      expect((await kms.call('kms.api.registration.list', { instanceId: t.instanceId, id: key.id }, t.user)).resources).toEqual([]);
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created', 'kms.registration.created', 'kms.registration.deleted', 'kms.key.deleted']);
      expect(await codeOf('kms.registration.create', { accountId: t.accountId, key: { instanceId: t.instanceId, keyId: key.id }, resourceCrn: crn })).toBe('KEY_DESTROYED');
    });

    it('removing a registration needs the authorization of the registered resource (checked every time) and is idempotent', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const smInstance = randomUUID();
      const crn = crnOf(t.accountId, smInstance);
      const ref = { accountId: t.accountId, key: { instanceId: t.instanceId, keyId: key.id }, resourceCrn: crn };
      await kms.call('kms.registration.create', ref);
      kms.allowServices = false;
      try {
        expect(await codeOf('kms.registration.delete', ref)).toBe('FORBIDDEN');
      } finally {
        kms.allowServices = true;
      }
      // The refusal is remembered for at most 5 s.
      expect(await codeOf('kms.registration.delete', ref)).toBe('FORBIDDEN');
      kms.clock.advance(AUTHORIZATION_CACHE_TTL_MS);
      await kms.call('kms.registration.delete', ref);
      await kms.call('kms.registration.delete', ref);
      expect(kms.authorizationChecks.at(-1)).toEqual({
        source: { accountId: t.accountId, serviceName: 'secrets-manager', serviceInstance: smInstance },
        target: { accountId: t.accountId, serviceName: 'kms', serviceInstance: t.instanceId, resourceType: 'key', resource: key.id },
        role: 'Reader',
      });
      expect(await codeOf('kms.registration.delete', { ...ref, resourceCrn: 'not-a-crn' })).toBe('VALIDATION_FAILED');
    });

    it('wraps and unwraps for another service, checking its authorization on every call; an old version comes back rewrapped', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const source = { accountId: t.accountId, serviceName: 'secrets-manager', serviceInstance: randomUUID() };
      const keyRef = { instanceId: t.instanceId, keyId: key.id };
      const dek = randomBytes(32);
      const before = kms.authorizationChecks.length;
      const wrapped = await kms.call('kms.key.wrap', { source, key: keyRef, plaintext: dek, aad: ['crn', 'secret-1'] });
      const unwrapped = await kms.call('kms.key.unwrap', { source, key: keyRef, ciphertext: wrapped.ciphertext, aad: ['crn', 'secret-1'] });
      expect(Object.keys(unwrapped).sort()).toEqual(['keyVersion', 'plaintext']);
      expect(Buffer.from(unwrapped.plaintext).equals(dek)).toBe(true);
      expect(unwrapped.keyVersion).toEqual(wrapped.keyVersion);
      expect(kms.authorizationChecks.length - before).toBeGreaterThanOrEqual(1);
      expect(kms.authorizationChecks.at(-1)?.target).toEqual({ accountId: t.accountId, serviceName: 'kms', serviceInstance: t.instanceId, resourceType: 'key', resource: key.id });

      // The user-facing API and the service subjects share the ciphertext format.
      const viaApi = await kms.call('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: Buffer.from(wrapped.ciphertext).toString('base64'), aad: ['crn', 'secret-1'] }, t.user);
      expect(viaApi.plaintext).toBe(dek.toString('base64'));

      await kms.call('kms.api.key.rotate', { instanceId: t.instanceId, id: key.id }, t.user);
      const after = await kms.call('kms.key.unwrap', { source, key: keyRef, ciphertext: wrapped.ciphertext, aad: ['crn', 'secret-1'] });
      expect(Buffer.from(after.plaintext).equals(dek)).toBe(true);
      expect(after.rewrapped?.keyVersion.id).not.toBe(wrapped.keyVersion.id);
      const rewrapped = await kms.call('kms.key.rewrap', { source, key: keyRef, ciphertext: wrapped.ciphertext, aad: ['crn', 'secret-1'] });
      expect(rewrapped).toMatchObject({ keyVersion: wrapped.keyVersion, rewrappedKeyVersion: after.rewrapped?.keyVersion });

      await kms.call('kms.api.key.disable', { instanceId: t.instanceId, id: key.id }, t.user);
      expect(await codeOf('kms.key.unwrap', { source, key: keyRef, ciphertext: wrapped.ciphertext })).toBe('KEY_DISABLED');
      await kms.call('kms.api.key.enable', { instanceId: t.instanceId, id: key.id }, t.user);
      expect(await codeOf('kms.key.unwrap', { source, key: keyRef, ciphertext: wrapped.ciphertext })).toBe('INTEGRITY_FAILED');
      expect(await codeOf('kms.key.unwrap', { source: { ...source, accountId: 'other' }, key: keyRef, ciphertext: wrapped.ciphertext })).toBe('NOT_FOUND');
    });

    it('refuses a service without an authorization with 403 FORBIDDEN, even for a key that does not exist', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const source = { accountId: t.accountId, serviceName: 'secrets-manager', serviceInstance: randomUUID() };
      kms.allowServices = false;
      try {
        expect(await codeOf('kms.key.wrap', { source, key: { instanceId: t.instanceId, keyId: key.id }, plaintext: Buffer.alloc(3) })).toBe('FORBIDDEN');
        expect(await codeOf('kms.key.wrap', { source, key: { instanceId: t.instanceId, keyId: randomUUID() }, plaintext: Buffer.alloc(3) })).toBe('FORBIDDEN');
      } finally {
        kms.allowServices = true;
      }
      expect(await codeOf('kms.key.wrap', { source, key: { instanceId: t.instanceId, keyId: randomUUID() }, plaintext: Buffer.alloc(3) })).toBe('NOT_FOUND');
    });

    it('uses a key of another account when the key reference names that account (provider-managed encryption), as IAM decides', async () => {
      const provider = await tenant();
      const key = await createKey(provider);
      const source = { accountId: `customer-${randomUUID()}`, serviceName: 'secrets-manager', serviceInstance: randomUUID() };
      const keyRef = { instanceId: provider.instanceId, keyId: key.id, accountId: provider.accountId };
      const dek = randomBytes(32);
      const wrapped = await kms.call('kms.key.wrap', { source, key: keyRef, plaintext: dek, aad: ['crn'] });
      // IAM is asked about the key's account, not the source's.
      expect(kms.authorizationChecks.at(-1)).toEqual({
        source,
        target: { accountId: provider.accountId, serviceName: 'kms', serviceInstance: provider.instanceId, resourceType: 'key', resource: key.id },
        role: 'Reader',
      });
      expect(Buffer.from((await kms.call('kms.key.unwrap', { source, key: keyRef, ciphertext: wrapped.ciphertext, aad: ['crn'] })).plaintext).equals(dek)).toBe(true);
      // Without the account the key is looked up in the source's account: not there.
      expect(await codeOf('kms.key.unwrap', { source, key: { instanceId: provider.instanceId, keyId: key.id }, ciphertext: wrapped.ciphertext, aad: ['crn'] })).toBe('NOT_FOUND');
      // Another instance of that customer, which IAM does not let use the key (decisions are cached per source).
      kms.allowServices = false;
      try {
        const other = { ...source, serviceInstance: randomUUID() };
        expect(await codeOf('kms.key.unwrap', { source: other, key: keyRef, ciphertext: wrapped.ciphertext, aad: ['crn'] })).toBe('FORBIDDEN');
      } finally {
        kms.allowServices = true;
      }
    });
  });

  describe('automatic rotation and purge (the schedulers, run at the manual clock)', () => {
    const rotation = () => kms.app.get(KeyRotationScheduler);
    const purger = () => kms.app.get(KeyPurgeScheduler);
    const versionIds = async (t: Tenant, id: string) =>
      (await kms.call('kms.api.key.versions', { instanceId: t.instanceId, id }, t.user)).resources.map((version) => version.id);
    const metadataOf = async (t: Tenant, id: string) => {
      const [key] = (await kms.call('kms.api.key.metadata', { instanceId: t.instanceId, id }, t.user)).resources;
      if (!key) throw new Error('no key');
      return key;
    };
    const setRotation = (t: Tenant, id: string, rotation: { interval_month: number; enabled?: boolean }) =>
      kms.call('kms.api.key.policy.put', { instanceId: t.instanceId, id, resources: [{ rotation }] }, t.user);
    /** The key's version material as stored (to see it destroyed through the provider). */
    const materialsOf = async (keyId: string) =>
      (await kms.app.get<DataSource>(dataSourceToken('kms')).getRepository(KeyVersionEntity).find({ where: { keyId } })).map((version) => version.material);
    const spyDestroy = () => vi.spyOn(kms.app.get<KmsProviders>(KMS_PROVIDERS).get('key-protect'), 'destroyVersion');

    it('rotates a key with an enabled rotation policy when due (creation + interval months), then an interval after that rotation', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const created = Date.parse(key.creationDate);
      await setRotation(t, key.id, { interval_month: 1 });
      const due = addMonthsUtc(created, 1);

      kms.clock.set(new Date(due - 1));
      await rotation().runDue(kms.clock.nowMs());
      expect(await versionIds(t, key.id)).toEqual([key.keyVersion.id]);

      kms.clock.set(new Date(due));
      const run = await rotation().runDue(kms.clock.nowMs());
      expect(run.done).toBeGreaterThanOrEqual(1);
      const rotated = await metadataOf(t, key.id);
      expect(rotated.keyVersion.id).not.toBe(key.keyVersion.id);
      expect(rotated).toMatchObject({ lastRotateDate: new Date(due).toISOString(), keyVersion: { creationDate: new Date(due).toISOString() } });
      expect(await versionIds(t, key.id)).toEqual([rotated.keyVersion.id, key.keyVersion.id]);
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created', 'kms.key.rotated']);
      expect(eventsOf(key.id)[1]?.data).toEqual({ accountId: t.accountId, instanceId: t.instanceId, keyId: key.id, keyVersionId: rotated.keyVersion.id });

      // The old version still unwraps; nothing more is due until an interval after the rotation.
      await rotation().runDue(kms.clock.nowMs());
      kms.clock.set(new Date(addMonthsUtc(due, 1) - 1));
      await rotation().runDue(kms.clock.nowMs());
      expect(await versionIds(t, key.id)).toHaveLength(2);
      kms.clock.set(new Date(addMonthsUtc(due, 1)));
      await rotation().runDue(kms.clock.nowMs());
      expect(await versionIds(t, key.id)).toHaveLength(3);
    });

    it('a manual rotation restarts the interval; a disabled key waits until enabled, a deleted one until restored; a disabled policy and an imported key never rotate', async () => {
      const t = await tenant();
      const manual = await createKey(t);
      const paused = await createKey(t);
      const deleted = await createKey(t);
      const off = await createKey(t);
      const imported = await createKey(t, { payload: randomBytes(32).toString('base64') });
      const start = kms.clock.nowMs();
      await setRotation(t, manual.id, { interval_month: 2 });
      await setRotation(t, paused.id, { interval_month: 1 });
      await setRotation(t, deleted.id, { interval_month: 1 });
      await setRotation(t, off.id, { interval_month: 1, enabled: false });
      await setRotation(t, imported.id, { interval_month: 1 });
      expect((await metadataOf(t, imported.id)).rotation).toEqual({ enabled: true, interval_month: 1 });
      await kms.call('kms.api.key.disable', { instanceId: t.instanceId, id: paused.id }, t.user);
      kms.clock.advance(15 * 24 * HOUR);
      await kms.call('kms.api.key.delete', { instanceId: t.instanceId, id: deleted.id }, t.user);

      kms.clock.set(new Date(addMonthsUtc(start, 1)));
      await kms.call('kms.api.key.rotate', { instanceId: t.instanceId, id: manual.id }, t.user);
      await rotation().runDue(kms.clock.nowMs());
      for (const key of [paused, deleted, off, imported]) expect(await versionIds(t, key.id)).toEqual([key.keyVersion.id]);

      await kms.call('kms.api.key.enable', { instanceId: t.instanceId, id: paused.id }, t.user);
      await kms.call('kms.api.key.restore', { instanceId: t.instanceId, id: deleted.id }, t.user);
      await rotation().runDue(kms.clock.nowMs());
      expect(await versionIds(t, paused.id)).toHaveLength(2);
      expect(await versionIds(t, deleted.id)).toHaveLength(2);

      // Two months after creation, one after the manual rotation: not due (interval 2).
      kms.clock.set(new Date(addMonthsUtc(start, 2)));
      await rotation().runDue(kms.clock.nowMs());
      expect(await versionIds(t, manual.id)).toHaveLength(2);
      kms.clock.set(new Date(addMonthsUtc(start, 3)));
      await rotation().runDue(kms.clock.nowMs());
      expect(await versionIds(t, manual.id)).toHaveLength(3);
      for (const key of [off, imported]) expect(await versionIds(t, key.id)).toEqual([key.keyVersion.id]);

      // Disabling the policy stops it.
      await setRotation(t, manual.id, { interval_month: 1, enabled: false });
      kms.clock.set(new Date(addMonthsUtc(start, 6)));
      await rotation().runDue(kms.clock.nowMs());
      expect(await versionIds(t, manual.id)).toHaveLength(3);
    });

    it('two replicas reading the same due key: one rotates it, the other loses (its new material destroyed, no second version or event)', async () => {
      const t = await tenant();
      const key = await createKey(t);
      await setRotation(t, key.id, { interval_month: 1 });
      kms.clock.set(new Date(addMonthsUtc(Date.parse(key.creationDate), 1)));
      const now = kms.clock.nowMs();
      const read = async () => {
        const found = (await rotation().dueKeys(now, 10_000)).find((due) => due.id === key.id);
        if (!found) throw new Error('the key is not due');
        return found;
      };
      const [first, second] = [await read(), await read()];
      const destroy = spyDestroy();
      try {
        expect(await rotation().rotateDue(first, now)).toBe('done');
        expect(destroy).not.toHaveBeenCalled();
        expect(await rotation().rotateDue(second, now)).toBe('lost');
        expect(destroy).toHaveBeenCalledTimes(1);
      } finally {
        destroy.mockRestore();
      }
      expect(await versionIds(t, key.id)).toHaveLength(2);
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created', 'kms.key.rotated']);

      // Two whole runs at once: still one rotation of the next due key.
      const other = await createKey(t);
      await setRotation(t, other.id, { interval_month: 1 });
      kms.clock.set(new Date(addMonthsUtc(Date.parse(other.creationDate), 1)));
      await Promise.all([rotation().runDue(kms.clock.nowMs()), rotation().runDue(kms.clock.nowMs())]);
      expect(await versionIds(t, other.id)).toHaveLength(2);
      await expect.poll(() => typesOf(eventsOf(other.id))).toEqual(['kms.key.created', 'kms.key.rotated']);
    });

    it('purges a key deleted 90 days ago (not a millisecond earlier): kms.key.purged, its material destroyed through the provider', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const standard = await createKey(t, { extractable: true });
      const ref = { instanceId: t.instanceId, id: key.id };
      await kms.call('kms.api.key.rotate', ref, t.user);
      const materials = [...(await materialsOf(key.id)), ...(await materialsOf(standard.id))];
      expect(materials).toHaveLength(3);
      const deleted = (await kms.call('kms.api.key.delete', ref, t.user)).resources[0];
      await kms.call('kms.api.key.delete', { instanceId: t.instanceId, id: standard.id }, t.user);
      const deletedAt = Date.parse(deleted?.deletionDate ?? '');
      expect(deleted).toMatchObject({ purgeScheduledOn: new Date(deletedAt + AUTO_PURGE_AFTER_MS).toISOString() });

      kms.clock.set(new Date(deletedAt + AUTO_PURGE_AFTER_MS - 1));
      await purger().runDue(kms.clock.nowMs());
      expect((await metadataOf(t, key.id)).state).toBe(5);

      kms.clock.set(new Date(deletedAt + AUTO_PURGE_AFTER_MS));
      const destroy = spyDestroy();
      try {
        const run = await purger().runDue(kms.clock.nowMs());
        expect(run.done).toBeGreaterThanOrEqual(2);
        const destroyed = destroy.mock.calls.map(([, material]) => material);
        for (const material of materials) expect(destroyed).toContain(material);
      } finally {
        destroy.mockRestore();
      }
      expect(await codeOf('kms.api.key.metadata', ref, t.user)).toBe('NOT_FOUND');
      expect(await codeOf('kms.api.key.metadata', { instanceId: t.instanceId, id: standard.id }, t.user)).toBe('NOT_FOUND');
      expect(await materialsOf(key.id)).toEqual([]);
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created', 'kms.key.rotated', 'kms.key.deleted', 'kms.key.purged']);
      await expect.poll(() => typesOf(eventsOf(standard.id))).toEqual(['kms.key.created', 'kms.key.deleted', 'kms.key.purged']);
    });

    it('a registration with preventKeyDeletion keeps a deleted key from the purge until it is removed', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const ref = { instanceId: t.instanceId, id: key.id };
      const deleted = (await kms.call('kms.api.key.delete', ref, t.user)).resources[0];
      // Registrations cannot be made for a deleted key through the API: one left over, as a lifecycle saga could.
      const resourceCrn = `crn:v1:bluemix:public:secrets-manager:us-south:a/${t.accountId}:${randomUUID()}::`;
      await kms.app.get<DataSource>(dataSourceToken('kms')).getRepository(RegistrationEntity).insert({
        keyId: key.id,
        resourceCrn,
        accountId: t.accountId,
        instanceId: t.instanceId,
        preventKeyDeletion: true,
        description: null,
        keyVersionId: key.keyVersion.id,
        createdAt: kms.clock.nowMs(),
        createdBy: 'lifecycle',
        updatedAt: kms.clock.nowMs(),
      });
      kms.clock.set(new Date(Date.parse(deleted?.deletionDate ?? '') + AUTO_PURGE_AFTER_MS));
      expect((await purger().dueKeys(kms.clock.nowMs(), 10_000)).map((due) => due.id)).not.toContain(key.id);
      await purger().runDue(kms.clock.nowMs());
      expect((await metadataOf(t, key.id)).state).toBe(5);

      await kms.call('kms.registration.delete', { accountId: t.accountId, key: { instanceId: t.instanceId, keyId: key.id }, resourceCrn });
      await purger().runDue(kms.clock.nowMs());
      expect(await codeOf('kms.api.key.metadata', ref, t.user)).toBe('NOT_FOUND');
    });

    it('two replicas purging the same key: one purges it, the other loses and destroys nothing', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const deleted = (await kms.call('kms.api.key.delete', { instanceId: t.instanceId, id: key.id }, t.user)).resources[0];
      kms.clock.set(new Date(Date.parse(deleted?.deletionDate ?? '') + AUTO_PURGE_AFTER_MS));
      const read = async () => {
        const found = (await purger().dueKeys(kms.clock.nowMs(), 10_000)).find((due) => due.id === key.id);
        if (!found) throw new Error('the key is not due');
        return found;
      };
      const [first, second] = [await read(), await read()];
      const destroy = spyDestroy();
      try {
        expect(await purger().purgeDue(first)).toBe('done');
        expect(destroy).toHaveBeenCalledTimes(1);
        expect(await purger().purgeDue(second)).toBe('lost');
        expect(destroy).toHaveBeenCalledTimes(1);
      } finally {
        destroy.mockRestore();
      }
      await expect.poll(() => typesOf(eventsOf(key.id))).toEqual(['kms.key.created', 'kms.key.deleted', 'kms.key.purged']);
    });
  });

  describe('HPCS-like instances and the HSM', () => {
    it('refuses key operations until two managers loaded parts; zeroize makes the ciphertexts unopenable', async () => {
      const t = await tenant('hs-crypto');
      expect(await kms.call('kms.instance.get', { accountId: t.accountId, instanceId: t.instanceId })).toMatchObject({ provider: 'hpcs', masterKeyStatus: 'uninitialized' });
      expect(await kms.call('kms.api.master-key.get', { instanceId: t.instanceId }, t.user)).toMatchObject({ status: 'uninitialized', partsLoaded: 0, threshold: 2 });
      expect(await codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'early' }] }, t.user)).toBe('INSTANCE_NOT_INITIALIZED');

      const part = () => randomBytes(32).toString('base64');
      expect(await kms.call('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.user)).toMatchObject({ status: 'pending', partsLoaded: 1 });
      expect(await codeOf('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.user)).toBe('CONFLICT');
      expect(await codeOf('kms.api.master-key.load-part', { instanceId: t.instanceId, part: randomBytes(31).toString('base64') }, t.other)).toBe('INVALID_KEY_MATERIAL');
      expect(await codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'early' }] }, t.user)).toBe('INSTANCE_NOT_INITIALIZED');
      const active = await kms.call('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.other);
      expect(active).toMatchObject({ status: 'active', verificationPattern: expect.any(String) });
      expect(JSON.stringify(await kms.call('kms.api.master-key.get', { instanceId: t.instanceId }, t.user))).toContain(active.verificationPattern);

      const key = await createKey(t);
      expect(key.crn).toContain(':hs-crypto:');
      const wrapped = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user);
      await kms.call('kms.api.master-key.zeroize', { instanceId: t.instanceId }, t.user);
      expect(await codeOf('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: wrapped.ciphertext }, t.user)).toBe('INSTANCE_NOT_INITIALIZED');
      expect(await codeOf('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user)).toBe('INSTANCE_NOT_INITIALIZED');
      await expect
        .poll(() =>
          kms.events
            .filter((event) => (event.data as { instanceId?: string }).instanceId === t.instanceId && event.type.includes('master-key'))
            .map((event) => event.type),
        )
        .toEqual(['com.sealbox.kms.instance.master-key-loaded', 'com.sealbox.kms.instance.master-key-zeroized']);

      // A new ceremony gives a new master key: the old ciphertexts still do not open.
      await kms.call('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.user);
      await kms.call('kms.api.master-key.load-part', { instanceId: t.instanceId, part: part() }, t.other);
      expect(await codeOf('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: wrapped.ciphertext }, t.user)).toBe('INTEGRITY_FAILED');
    });

    it('a key-protect instance has no ceremony', async () => {
      const t = await tenant();
      expect(await kms.call('kms.api.master-key.get', { instanceId: t.instanceId }, t.user)).toEqual({ status: 'not_applicable' });
      expect(await codeOf('kms.api.master-key.load-part', { instanceId: t.instanceId, part: randomBytes(32).toString('base64') }, t.user)).toBe('CONFLICT');
    });

    it('HSM unavailable → 503 SERVICE_UNAVAILABLE; it recovers when the HSM is back', async () => {
      const t = await tenant();
      const key = await createKey(t);
      const wrapped = await kms.call('kms.api.key.wrap', { instanceId: t.instanceId, id: key.id }, t.user);
      kms.hsm.down = true;
      try {
        expect(await codeOf('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: wrapped.ciphertext }, t.user)).toBe('SERVICE_UNAVAILABLE');
        expect(await codeOf('kms.api.key.create', { instanceId: t.instanceId, resources: [{ name: 'down' }] }, t.user)).toBe('SERVICE_UNAVAILABLE');
        const health = await kms.call('kms.health', {});
        expect(health).toMatchObject({ status: 'degraded', checks: { hsm: { ok: false }, database: { ok: true } } });
      } finally {
        kms.hsm.down = false;
      }
      expect((await kms.call('kms.api.key.unwrap', { instanceId: t.instanceId, id: key.id, ciphertext: wrapped.ciphertext }, t.user)).plaintext).toBe(wrapped.plaintext);
      expect((await kms.call('kms.health', {})).status).toBe('ok');
    });
  });
});

describe('the schedulers timer in the kms module', () => {
  it('is started on application bootstrap with the configured interval and stopped on shutdown; 0 leaves it off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-kms-timer-'));
    try {
      const config = (name: string) => ({
        database: { type: 'sqlite', path: join(dir, `${name}.sqlite`) } as DatabaseConfig,
        hsm: { backend: 'soft', directory: join(dir, `${name}-hsm`) } as HsmConfig,
      });
      const on = await startKms({ ...config('on'), domain: { schedulerIntervalMs: 1000 } });
      const timer = on.app.get(KmsSchedulerTimer);
      expect(timer.loop.started).toBe(true);
      await on.close();
      expect(timer.loop.started).toBe(false);

      const off = await startKms(config('off'));
      try {
        expect(off.app.get(KmsSchedulerTimer).loop.started).toBe(false);
      } finally {
        await off.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
