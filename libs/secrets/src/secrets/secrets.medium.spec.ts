/**
 * Secrets and versions through SecretsModule's RPC handlers on the in-process transport, with the
 * real CryptoModule (its kms calls answered by crypto's typed fake kms) and the real StorageModule on
 * the filesystem driver, on SQLite and PostgreSQL. Only the IAM API key issuer is a test double.
 */
import 'reflect-metadata';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { CloudEvent, ErrorCode, ResponseOf, SecretsWire, ValidatedRequestOf } from '@sealbox/contracts';
import { CryptoModule } from '@sealbox/crypto';
import {
  dataSourceToken,
  DomainError,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  ManualClock,
  OutboxEventEntity,
  RpcClient,
  RpcHandler,
  startTracing,
  validationFailed,
  withIdempotencyKey,
  type Caller,
  type IdempotencyKey,
  type TracingHandle,
} from '@sealbox/platform';
import { context as activeContext } from '@opentelemetry/api';
import { createHash } from 'node:crypto';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { StorageModule } from '@sealbox/storage';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKms } from '../../../crypto/src/testing/fake-kms.js';
import { versionObjectKey } from '../domain/context.js';
import { IamCredentialsIssuer, type IssuedApiKey } from '../ports.js';
import { planQuotas } from '../quotas/quotas.js';
import { SecretsModule } from '../secrets.module.js';
import { CachedEnvelopeStore } from './envelopes.js';
import { ReadBookkeeping } from './read-bookkeeping.js';
import { uuidV7 } from './ids.js';
import { ExpiryScheduler, OrphanSweep, RotationScheduler } from './schedulers.js';
import { SecretStore } from './store.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'domain', 'fixtures', name), 'utf8');
const RSA_CERT = fixture('test-only-rsa2048.cert.pem');
const RSA_KEY = fixture('test-only-rsa2048.key.pem');
const EC_CERT = fixture('test-only-ec256.cert.pem');
const EC_KEY = fixture('test-only-ec256.key.pem');

const DAY = 86_400_000;
const GRACE_MS = 120_000;

const kms = new FakeKms();

@Controller()
class FakeKmsController {
  @RpcHandler('kms.key.wrap')
  wrap(request: ValidatedRequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>> {
    return kms.send('kms.key.wrap', request);
  }
  @RpcHandler('kms.key.unwrap')
  unwrap(request: ValidatedRequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>> {
    return kms.send('kms.key.unwrap', request);
  }
}

/** A typed double of iam's API key issuing: keys are random, `missing` is not a service ID. */
class FakeIssuer extends IamCredentialsIssuer {
  readonly issued: IssuedApiKey[] = [];
  readonly revoked: string[] = [];
  /** While set, revoke fails with it (iam unreachable). */
  revokeFailure: Error | undefined;
  async issue(request: { accountId: string; serviceId: string; ttlSeconds: number; name: string }): Promise<IssuedApiKey> {
    if (request.serviceId === 'missing') throw validationFailed([{ field: 'service_id', message: 'is not a service ID of the account' }]);
    const key = { apiKeyId: `ApiKey-${randomUUID()}`, apiKey: randomBytes(24).toString('base64url') };
    this.issued.push(key);
    return key;
  }
  async revoke(_accountId: string, apiKeyId: string): Promise<void> {
    if (this.revokeFailure) throw this.revokeFailure;
    this.revoked.push(apiKeyId);
  }
}

async function failure(promise: Promise<unknown>, code: ErrorCode, field?: string): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  if (field !== undefined) expect((error as DomainError).fields?.map((issue) => issue.field)).toContain(field);
  return error as DomainError;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

for (const database of testDatabases) {
  describe(`Secrets and versions (${database.name})`, () => {
    let cleanup: () => Promise<void>;
    let moduleRef: TestingModule;
    let app: INestMicroservice;
    let client: RpcClient;
    let dataSource: DataSource;
    let storageRoot: string;
    const clock = new ManualClock();
    const issuer = new FakeIssuer();
    const events: CloudEvent[] = [];

    const accountId = randomUUID().replaceAll('-', '');
    const user: Caller = { accountId, iamId: `IBMid-${randomUUID()}`, subType: 'user' };
    const as = { caller: user };

    let lastKmsKey = { instanceId: '', keyId: '' };
    async function newInstance(planId?: string): Promise<string> {
      const instanceGuid = randomUUID();
      const kmsKey = { instanceId: randomUUID(), keyId: randomUUID() };
      lastKmsKey = kmsKey;
      kms.createKey(kmsKey.instanceId, kmsKey.keyId);
      await client.send('secrets.instance.activate', {
        accountId,
        instanceGuid,
        crn: `crn:v1:bluemix:public:secrets-manager:us-south:a/${accountId}:${instanceGuid}::`,
        region: 'us-south',
        kmsKey,
        ...(planId !== undefined ? { planId } : {}),
      });
      await client.send('storage.bucket.create', { instanceGuid });
      return instanceGuid;
    }

    const create = (instanceGuid: string, secret: SecretsWire.SecretPrototypeInput) =>
      client.send('secrets.secret.create', { instanceGuid, secret: secret as SecretsWire.SecretPrototype }, as);

    const eventsOf = (secretId: string) =>
      events.filter((event) => (event.data as { secretId?: string }).secretId === secretId).map((event) => event.type.replace('com.sealbox.', ''));

    beforeAll(async () => {
      const opened = await database.open();
      storageRoot = mkdtempSync(join(tmpdir(), 'sealbox-secrets-objects-'));
      cleanup = async () => {
        await opened.cleanup();
        rmSync(storageRoot, { recursive: true, force: true });
      };
      const bus = new InProcessEventBus();
      bus.subscribe('events.secrets.>', (_subject, event) => {
        events.push(event);
      });
      const rpc = new InProcessBus();
      moduleRef = await Test.createTestingModule({
        imports: [
          testPlatformModule({ events: bus, clock, clientProxy: new InProcessClient(rpc), rpcTimeoutMs: 20_000 }),
          CryptoModule.register(),
          StorageModule.register({ objectStore: { driver: 'filesystem', root: storageRoot } }),
          SecretsModule.register({
            database: opened.config,
            secrets: {
              schedulerIntervalMs: 0,
              orphanSweepIntervalMs: 0,
              orphanGraceMs: GRACE_MS,
              expiryWarningMs: 30 * DAY,
              schedulerBatchSize: 2,
              quotas: planQuotas({ 'tiny-plan': { secrets_per_instance: 2, groups_per_instance: 1, versions_kept: 2, kv_keys: 3, payload_bytes: 64 } }),
            },
          }),
        ],
        controllers: [FakeKmsController],
      })
        .overrideProvider(IamCredentialsIssuer)
        .useValue(issuer)
        .compile();
      app = moduleRef.createNestMicroservice({ strategy: new InProcessServer(rpc), logger: false });
      await app.listen();
      client = app.get(RpcClient);
      dataSource = app.get<DataSource>(dataSourceToken('secrets'));
    });
    afterAll(async () => {
      await app?.close();
      await cleanup?.();
    });

    describe('quotas of the plan', () => {
      it('refuses the secret, group, payload bytes and kv keys past the plan with 409 QUOTA_EXCEEDED, stores nothing for them, and follows a plan change', async () => {
        const instanceGuid = await newInstance('tiny-plan');
        const objectsBefore = filesUnder(storageRoot).length;
        const big = await failure(create(instanceGuid, { secret_type: 'arbitrary', name: 'big', payload: 'x'.repeat(65) }), 'QUOTA_EXCEEDED');
        expect(big.message).toContain('at most 64 bytes; this one is 65');
        expect(big.message).toContain('plan tiny-plan');
        const keys = await failure(create(instanceGuid, { secret_type: 'kv', name: 'many', data: { a: 1, b: { c: 2, d: 3 } } }), 'QUOTA_EXCEEDED');
        expect(keys.message).toContain('at most 3 keys');
        expect(filesUnder(storageRoot).length).toBe(objectsBefore);

        const first = await create(instanceGuid, { secret_type: 'arbitrary', name: 'one', payload: 'x'.repeat(64) });
        await create(instanceGuid, { secret_type: 'kv', name: 'two', data: { a: 1, b: { c: 2 } } });
        const third = await failure(create(instanceGuid, { secret_type: 'arbitrary', name: 'three', payload: 'x' }), 'QUOTA_EXCEEDED');
        expect(third.message).toContain('at most 2 secrets');
        const listed = await client.send('secrets.secret.list', { instanceGuid, path: '/api/v2/secrets', query: {} }, as);
        expect(listed.total_count).toBe(2);

        await client.send('secrets.group.create', { instanceGuid, name: 'g1' }, as);
        await failure(client.send('secrets.group.create', { instanceGuid, name: 'g2' }, as), 'QUOTA_EXCEEDED');

        await failure(client.send('secrets.version.create', { instanceGuid, secretId: first.id, version: { payload: 'y'.repeat(65) } }, as), 'QUOTA_EXCEEDED');
        for (const payload of ['v2', 'v3', 'v4']) await client.send('secrets.version.create', { instanceGuid, secretId: first.id, version: { payload } }, as);
        // The plan keeps two versions: older ones are removed, not refused.
        const versions = await client.send('secrets.version.list', { instanceGuid, secretId: first.id }, as);
        expect(versions.versions).toHaveLength(2);
        expect((await client.send('secrets.secret.metadata.get', { instanceGuid, id: first.id }, as)).versions_total).toBe(2);

        expect(await client.send('secrets.instance.set-plan', { instanceGuid, planId: 'secrets-manager-standard' })).toMatchObject({ planId: 'secrets-manager-standard' });
        await create(instanceGuid, { secret_type: 'arbitrary', name: 'three', payload: 'x'.repeat(65) });
        await failure(client.send('secrets.instance.set-plan', { instanceGuid: randomUUID(), planId: 'secrets-manager-standard' }), 'NOT_FOUND');
      });
    });

    describe('each type through its lifecycle', () => {
      it('arbitrary: create, get, metadata, rotate, previous, versions, delete', async () => {
        const instanceGuid = await newInstance();
        const created = await create(instanceGuid, { secret_type: 'arbitrary', name: 'db-url', payload: 'first', labels: ['env-x'] });
        expect(created).toMatchObject({
          secret_type: 'arbitrary',
          name: 'db-url',
          payload: 'first',
          secret_group_id: 'default',
          state: 1,
          state_description: 'active',
          versions_total: 1,
          locks_total: 0,
          downloaded: false,
          created_by: user.iamId,
        });
        expect(created.crn).toBe(`crn:v1:bluemix:public:secrets-manager:us-south:a/${accountId}:${instanceGuid}:secret:${created.id}`);

        clock.advance(1000);
        const read = await client.send('secrets.secret.get', { instanceGuid, id: created.id }, as);
        expect(read).toMatchObject({ payload: 'first', downloaded: true, retrieved_at: clock.now().toISOString() });
        const metadata = await client.send('secrets.secret.metadata.get', { instanceGuid, id: created.id }, as);
        expect(metadata).not.toHaveProperty('payload');
        expect(metadata).toMatchObject({ downloaded: true, versions_total: 1 });

        const rotated = await client.send('secrets.version.create', { instanceGuid, secretId: created.id, version: { payload: 'second' } }, as);
        expect(rotated).toMatchObject({ payload: 'second', alias: 'current', auto_rotated: false, payload_available: true, secret_name: 'db-url' });
        const previous = await client.send('secrets.version.get', { instanceGuid, secretId: created.id, id: 'previous' }, as);
        expect(previous).toMatchObject({ payload: 'first', alias: 'previous', downloaded: true });
        const current = await client.send('secrets.secret.get', { instanceGuid, id: created.id }, as);
        expect(current).toMatchObject({ payload: 'second', versions_total: 2 });
        const versions = await client.send('secrets.version.list', { instanceGuid, secretId: created.id }, as);
        expect(versions.total_count).toBe(2);
        expect(versions.versions.map((version) => version.alias)).toEqual(['current', 'previous']);
        expect(versions.versions[0]).not.toHaveProperty('payload');

        await client.send('secrets.secret.delete', { instanceGuid, id: created.id }, as);
        await failure(client.send('secrets.secret.get', { instanceGuid, id: created.id }, as), 'NOT_FOUND');
        const listed = await client.send('storage.object.list', { instanceGuid, prefix: 'secrets/' });
        expect(listed.keys).toEqual([]);
        await expect
          .poll(() => eventsOf(created.id))
          .toEqual(['secrets.secret.created', 'secrets.version.created', 'secrets.secret.rotated', 'secrets.secret.deleted']);
      });

      it('username_password: generated password by policy, username kept across rotations, by name', async () => {
        const instanceGuid = await newInstance();
        const created = await create(instanceGuid, {
          secret_type: 'username_password',
          name: 'svc-login',
          username: 'svc',
          password_generation_policy: { length: 20, include_symbols: false },
        });
        if (created.secret_type !== 'username_password') throw new Error('type');
        expect(created.password).toMatch(/^[A-Za-z0-9]{20}$/);
        expect(created.password_generation_policy).toEqual({ length: 20, include_digits: true, include_symbols: false, include_uppercase: true });
        expect(created.rotation).toEqual({ auto_rotate: false });
        const rotated = await client.send('secrets.version.create', { instanceGuid, secretId: created.id, version: {} }, as);
        expect(rotated).toMatchObject({ username: 'svc' });
        expect((rotated as { password: string }).password).toMatch(/^[A-Za-z0-9]{20}$/);
        expect((rotated as { password: string }).password).not.toBe(created.password);
        const explicit = await client.send('secrets.version.create', { instanceGuid, secretId: created.id, version: { password: 'chosen-password' } }, as);
        expect(explicit).toMatchObject({ username: 'svc', password: 'chosen-password' });

        const byName = await client.send('secrets.secret.get-by-name', { instanceGuid, groupName: 'default', secretType: 'username_password', name: 'svc-login' }, as);
        expect(byName).toMatchObject({ id: created.id, username: 'svc', password: 'chosen-password', versions_total: 3 });
        await failure(client.send('secrets.secret.get-by-name', { instanceGuid, groupName: 'default', secretType: 'arbitrary', name: 'svc-login' }, as), 'NOT_FOUND');
        await failure(client.send('secrets.secret.get-by-name', { instanceGuid, groupName: 'nope', secretType: 'username_password', name: 'svc-login' }, as), 'NOT_FOUND');
      });

      it('kv: object data, new version, version metadata merge patch, data delete keeps metadata', async () => {
        const instanceGuid = await newInstance();
        const created = await create(instanceGuid, { secret_type: 'kv', name: 'config', data: { a: 1, nested: { b: true } }, version_custom_metadata: { build: 1 } });
        expect(created).toMatchObject({ data: { a: 1, nested: { b: true } } });
        await client.send('secrets.version.create', { instanceGuid, secretId: created.id, version: { data: { a: 2 } } }, as);
        const patched = await client.send(
          'secrets.version.metadata.update',
          { instanceGuid, secretId: created.id, id: 'previous', patch: { version_custom_metadata: { build: null, note: 'x' } } },
          as,
        );
        expect(patched.version_custom_metadata).toEqual({ note: 'x' });
        await client.send('secrets.version.data.delete', { instanceGuid, secretId: created.id, id: 'previous' }, as);
        const gone = await client.send('secrets.version.get', { instanceGuid, secretId: created.id, id: 'previous' }, as);
        expect(gone).toMatchObject({ payload_available: false, version_custom_metadata: { note: 'x' } });
        expect(gone).not.toHaveProperty('data');
        // Again: nothing left to delete, still 204.
        await client.send('secrets.version.data.delete', { instanceGuid, secretId: created.id, id: gone.id }, as);
        const keys = (await client.send('storage.object.list', { instanceGuid, prefix: 'secrets/' })).keys;
        expect(keys).toEqual([versionObjectKey(created.id, (await client.send('secrets.version.metadata.get', { instanceGuid, secretId: created.id, id: 'current' }, as)).id)]);
        await expect.poll(() => eventsOf(created.id)).toContain('secrets.version.data-deleted');
      });

      it('imported_cert: details from the certificate, a new certificate as a new version', async () => {
        const instanceGuid = await newInstance();
        const created = await create(instanceGuid, { secret_type: 'imported_cert', name: 'tls', certificate: RSA_CERT, private_key: RSA_KEY });
        expect(created).toMatchObject({
          common_name: 'rsa.test.sealbox.example',
          key_algorithm: 'RSA2048',
          private_key_included: true,
          intermediate_included: false,
          certificate: RSA_CERT,
          private_key: RSA_KEY,
          expiration_date: '2126-11-05T02:01:01.000Z',
        });
        const next = await client.send('secrets.version.create', { instanceGuid, secretId: created.id, version: { certificate: EC_CERT, private_key: EC_KEY } }, as);
        expect(next).toMatchObject({ common_name: 'ec.test.sealbox.example', certificate: EC_CERT, alias: 'current' });
        const metadata = await client.send('secrets.secret.metadata.get', { instanceGuid, id: created.id }, as);
        expect(metadata).toMatchObject({ common_name: 'ec.test.sealbox.example', key_algorithm: 'EC256' });
      });

      it('iam_credentials: an API key issued per version, revoked with the secret', async () => {
        const instanceGuid = await newInstance();
        const created = await create(instanceGuid, { secret_type: 'iam_credentials', name: 'ci-key', ttl: '1d', reuse_api_key: true, service_id: 'ServiceId-1' });
        const first = issuer.issued.at(-1);
        expect(created).toMatchObject({ ttl: '1d', reuse_api_key: true, service_id: 'ServiceId-1', api_key: first?.apiKey, api_key_id: first?.apiKeyId });
        const next = await client.send('secrets.version.create', { instanceGuid, secretId: created.id, version: {} }, as);
        const second = issuer.issued.at(-1);
        expect(next).toMatchObject({ api_key: second?.apiKey, api_key_id: second?.apiKeyId, service_id: 'ServiceId-1' });
        const read = await client.send('secrets.secret.get', { instanceGuid, id: created.id }, as);
        expect(read).toMatchObject({ api_key: second?.apiKey, api_key_id: second?.apiKeyId });
        await client.send('secrets.secret.delete', { instanceGuid, id: created.id }, as);
        expect(issuer.revoked).toEqual(expect.arrayContaining([first?.apiKeyId, second?.apiKeyId]));
        await failure(create(instanceGuid, { secret_type: 'iam_credentials', name: 'bad', ttl: '1d', reuse_api_key: true, service_id: 'missing' }), 'VALIDATION_FAILED', 'service_id');
      });
    });

    describe('bad input and conflicts', () => {
      it('refuses bad creates with the field, names taken per group and type with 409', async () => {
        const instanceGuid = await newInstance();
        await failure(create(instanceGuid, { secret_type: 'arbitrary', name: 'x1', payload: 'p', secret_group_id: randomUUID() }), 'VALIDATION_FAILED', 'secret_group_id');
        await failure(create(instanceGuid, { secret_type: 'arbitrary', name: 'x1', payload: 'p', expiration_date: '2020-01-01T00:00:00Z' }), 'VALIDATION_FAILED', 'expiration_date');
        await failure(create(instanceGuid, { secret_type: 'imported_cert', name: 'c1', certificate: RSA_CERT, private_key: EC_KEY }), 'VALIDATION_FAILED', 'private_key');
        const garbled = '-----BEGIN CERTIFICATE-----\nMIIBbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
        await failure(create(instanceGuid, { secret_type: 'imported_cert', name: 'c1', certificate: garbled }), 'VALIDATION_FAILED', 'certificate');
        await failure(create(instanceGuid, { secret_type: 'iam_credentials', name: 'i1', ttl: '1d', reuse_api_key: false, access_groups: ['AccessGroup-1'] }), 'VALIDATION_FAILED', 'service_id');
        // The contract's schema, as received by the handler.
        await failure(create(instanceGuid, { secret_type: 'kv', name: 'k1', data: [1, 2] as unknown as Record<string, unknown> }), 'VALIDATION_FAILED', 'secret.data');
        await failure(create(instanceGuid, { secret_type: 'public_cert' } as unknown as SecretsWire.SecretPrototypeInput), 'VALIDATION_FAILED', 'secret.secret_type');

        await create(instanceGuid, { secret_type: 'arbitrary', name: 'taken', payload: 'p' });
        const taken = await failure(create(instanceGuid, { secret_type: 'arbitrary', name: 'taken', payload: 'q' }), 'CONFLICT');
        expect(taken.message).toContain('taken');
        // Another type may use the name.
        await create(instanceGuid, { secret_type: 'kv', name: 'taken', data: {} });
        // Nothing of the refused creates stayed in the bucket.
        expect((await client.send('storage.object.list', { instanceGuid, prefix: 'secrets/' })).keys).toHaveLength(2);
      });

      it('answers concurrent creates of one name with one 201 and 409 for the others, leaving one object', async () => {
        const instanceGuid = await newInstance();
        const outcomes = await Promise.allSettled(
          ['a', 'b', 'c', 'd'].map((payload) => create(instanceGuid, { secret_type: 'arbitrary', name: 'raced', payload })),
        );
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        for (const outcome of outcomes.filter((outcome) => outcome.status === 'rejected')) {
          expect(outcome.reason).toMatchObject({ code: 'CONFLICT' });
          expect((outcome.reason as Error).message).toContain('raced');
        }
        expect((await client.send('storage.object.list', { instanceGuid, prefix: 'secrets/' })).keys).toHaveLength(1);
      });

      it('refuses bad metadata patches with the field, a rename onto a taken name with 409', async () => {
        const instanceGuid = await newInstance();
        const first = await create(instanceGuid, { secret_type: 'username_password', name: 'one', username: 'u1', custom_metadata: { a: 1, b: 2 } });
        await create(instanceGuid, { secret_type: 'username_password', name: 'two', username: 'u2' });
        const update = (patch: Record<string, unknown>) => client.send('secrets.secret.metadata.update', { instanceGuid, id: first.id, patch }, as);
        await failure(update({ payload: 'x' }), 'VALIDATION_FAILED', 'payload');
        await failure(update({ name: 'bad name!' }), 'VALIDATION_FAILED', 'name');
        await failure(update({ rotation: { auto_rotate: true } }), 'VALIDATION_FAILED', 'rotation.interval');
        await failure(update({ rotation: { auto_rotate: true, interval: 3 } }), 'VALIDATION_FAILED', 'rotation.unit');
        await failure(update({ rotation: { interval: 4000, unit: 'day' } }), 'VALIDATION_FAILED', 'rotation.interval');
        await failure(update({ expiration_date: '2000-01-01T00:00:00Z' }), 'VALIDATION_FAILED', 'expiration_date');
        await failure(update({ ttl: '1d' }), 'VALIDATION_FAILED', 'ttl');
        await failure(update({ name: 'two' }), 'CONFLICT');

        const updated = await update({
          name: 'renamed',
          description: 'd',
          labels: ['l1', 'l2'],
          custom_metadata: { a: null, c: 3 },
          rotation: { auto_rotate: true, interval: 10, unit: 'day' },
          password_generation_policy: { length: 40 },
        });
        expect(updated).toMatchObject({
          name: 'renamed',
          description: 'd',
          labels: ['l1', 'l2'],
          custom_metadata: { b: 2, c: 3 },
          rotation: { auto_rotate: true, interval: 10, unit: 'day' },
          password_generation_policy: { length: 40, include_digits: true },
          next_rotation_date: new Date(clock.nowMs() + 10 * DAY).toISOString(),
        });
        const cleared = await update({ description: null, labels: null, custom_metadata: null, rotation: { auto_rotate: false } });
        expect(cleared).not.toHaveProperty('description');
        expect(cleared).not.toHaveProperty('custom_metadata');
        expect(cleared).not.toHaveProperty('next_rotation_date');
        expect(cleared.labels).toEqual([]);
        await expect.poll(() => eventsOf(first.id).filter((type) => type === 'secrets.secret.updated')).toHaveLength(2);
      });

      it('refuses bad versions, unknown ids and other instances', async () => {
        const instanceGuid = await newInstance();
        const secret = await create(instanceGuid, { secret_type: 'arbitrary', name: 'a1', payload: 'p' });
        await failure(client.send('secrets.version.create', { instanceGuid, secretId: secret.id, version: { data: {} } }, as), 'VALIDATION_FAILED', 'data');
        await failure(client.send('secrets.version.create', { instanceGuid, secretId: secret.id, version: {} }, as), 'VALIDATION_FAILED', 'payload');
        await failure(client.send('secrets.version.get', { instanceGuid, secretId: secret.id, id: randomUUID() }, as), 'NOT_FOUND');
        await failure(client.send('secrets.version.get', { instanceGuid, secretId: secret.id, id: 'previous' }, as), 'NOT_FOUND');
        await failure(client.send('secrets.version.get', { instanceGuid, secretId: secret.id, id: 'latest' }, as), 'VALIDATION_FAILED', 'id');
        await failure(
          client.send('secrets.version.metadata.update', { instanceGuid, secretId: secret.id, id: 'current', patch: { version_custom_metadata: { x: 'y'.repeat(11_000) } } }, as),
          'VALIDATION_FAILED',
        );
        await failure(client.send('secrets.secret.get', { instanceGuid, id: randomUUID() }, as), 'NOT_FOUND');
        const stranger: Caller = { accountId: 'other-account', iamId: 'IBMid-x', subType: 'user' };
        await failure(client.send('secrets.secret.get', { instanceGuid, id: secret.id }, { caller: stranger }), 'NOT_FOUND');
        await client.send('secrets.instance.set-state', { instanceGuid, state: 'disabled' });
        await failure(client.send('secrets.secret.get', { instanceGuid, id: secret.id }, as), 'INSTANCE_NOT_ACTIVE');
        await failure(create(instanceGuid, { secret_type: 'arbitrary', name: 'a2', payload: 'p' }), 'INSTANCE_NOT_ACTIVE');
        await client.send('secrets.instance.set-state', { instanceGuid, state: 'active' });
        await failure(client.send('secrets.secret.list', { instanceGuid, path: '/api/v2/secrets', query: { limit: 1001 } as never }, as), 'VALIDATION_FAILED', 'query.limit');
        await failure(client.send('secrets.secret.list', { instanceGuid, path: '/api/v2/secrets', query: { sort: 'colour' } as never }, as), 'VALIDATION_FAILED', 'query.sort');
      });

      it('refuses to delete a locked secret or a locked version\'s data, naming the locks; a group holding secrets', async () => {
        const instanceGuid = await newInstance();
        const secret = await create(instanceGuid, { secret_type: 'arbitrary', name: 'locked', payload: 'p' });
        await client.send('secrets.lock.create', { instanceGuid, secretId: secret.id, locks: [{ name: 'lease-1' }] }, as);
        expect((await client.send('secrets.secret.metadata.get', { instanceGuid, id: secret.id }, as)).locks_total).toBe(1);
        const refused = await failure(client.send('secrets.secret.delete', { instanceGuid, id: secret.id }, as), 'CONFLICT');
        expect(refused.message).toContain('lease-1');
        const refusedData = await failure(client.send('secrets.version.data.delete', { instanceGuid, secretId: secret.id, id: 'current' }, as), 'CONFLICT');
        expect(refusedData.message).toContain('lease-1');
        await client.send('secrets.lock.delete', { instanceGuid, secretId: secret.id }, as);
        await client.send('secrets.secret.delete', { instanceGuid, id: secret.id }, as);

        const group = await client.send('secrets.group.create', { instanceGuid, name: 'team' }, as);
        const inGroup = await create(instanceGuid, { secret_type: 'kv', name: 'k1', data: {}, secret_group_id: group.id });
        await failure(client.send('secrets.group.delete', { instanceGuid, id: group.id }, as), 'CONFLICT');
        await client.send('secrets.secret.delete', { instanceGuid, id: inGroup.id }, as);
        await client.send('secrets.group.delete', { instanceGuid, id: group.id }, as);
      });
    });

    describe('listing', () => {
      let instanceGuid: string;
      const ids: string[] = [];

      beforeAll(async () => {
        instanceGuid = await newInstance();
        for (let index = 0; index < 450; index += 1) {
          const name = `s${String(index).padStart(3, '0')}`;
          const labels = index % 3 === 0 ? ['three'] : [];
          const secret =
            index % 5 === 0
              ? await create(instanceGuid, { secret_type: 'kv', name, data: { index }, labels: [...labels, 'five'] })
              : await create(instanceGuid, { secret_type: 'arbitrary', name, payload: `p${index}`, labels, ...(index === 7 ? { description: 'The Needle' } : {}) });
          ids.push(secret.id);
          if (index % 100 === 99) clock.advance(1000);
        }
      }, 120_000);

      const list = (query: Record<string, unknown>, path = `/secrets-manager/${'x'}/api/v2/secrets`) =>
        client.send('secrets.secret.list', { instanceGuid, path, query: query as SecretsWire.ListSecretsQuery }, as);

      it('pages over 450 secrets returning each exactly once, next absent on the last page', async () => {
        const seen: string[] = [];
        let page = await list({ limit: 100 });
        expect(page).toMatchObject({ total_count: 450, limit: 100, offset: 0 });
        expect(page.first.href).toContain('offset=0&limit=100');
        expect(page.last.href).toContain('offset=400&limit=100');
        expect(page).not.toHaveProperty('previous');
        seen.push(...page.secrets.map((secret) => secret.id));
        while (page.next) {
          const offset = Number(new URL(page.next.href, 'http://x').searchParams.get('offset'));
          page = await list({ limit: 100, offset });
          seen.push(...page.secrets.map((secret) => secret.id));
        }
        expect(page.offset).toBe(400);
        expect(page.secrets).toHaveLength(50);
        expect(page).not.toHaveProperty('next');
        expect(page.previous?.href).toContain('offset=300');
        expect(seen).toHaveLength(450);
        expect(new Set(seen)).toEqual(new Set(ids));
        expect(page.secrets[0]).not.toHaveProperty('payload');
      });

      it('sorts by name both ways and by created_at then id, default limit 200', async () => {
        const ascending = await list({ sort: 'name', limit: 3 });
        expect(ascending.secrets.map((secret) => secret.name)).toEqual(['s000', 's001', 's002']);
        const descending = await list({ sort: '-name', limit: 2 });
        expect(descending.secrets.map((secret) => secret.name)).toEqual(['s449', 's448']);
        expect(descending.next?.href).toContain('sort=-name');
        const byDefault = await list({});
        expect(byDefault.limit).toBe(200);
        expect(byDefault.secrets).toHaveLength(200);
        const createdTimes = byDefault.secrets.map((secret) => secret.created_at);
        expect([...createdTimes].sort()).toEqual(createdTimes);
        const newest = await list({ sort: '-created_at', limit: 1 });
        expect(newest.secrets[0]?.name).toMatch(/^s4[0-4][0-9]$/);
        expect(newest.secrets[0]?.created_at).toBe(createdTimes.length ? (await list({ sort: 'created_at', offset: 449, limit: 1 })).secrets[0]?.created_at : '');
        const byType = await list({ sort: 'secret_type', limit: 1 });
        expect(byType.secrets[0]?.secret_type).toBe('arbitrary');
      });

      it('filters by search, types, groups and labels', async () => {
        const needle = await list({ search: 'needle' });
        expect(needle.secrets.map((secret) => secret.name)).toEqual(['s007']);
        expect(needle.total_count).toBe(1);
        expect((await list({ search: 's44' })).total_count).toBe(10);
        expect((await list({ search: '_' })).total_count).toBe(0);
        expect((await list({ secret_types: ['kv'] })).total_count).toBe(90);
        expect((await list({ match_all_labels: ['three'] })).total_count).toBe(150);
        expect((await list({ match_all_labels: ['three', 'five'] })).total_count).toBe(30);
        expect((await list({ match_all_labels: ['thre'] })).total_count).toBe(0);
        expect((await list({ search: 'thre' })).total_count).toBe(150);
        expect((await list({ groups: ['default'] })).total_count).toBe(450);
        expect((await list({ groups: [randomUUID()] })).total_count).toBe(0);
        const beyond = await list({ offset: 1000 });
        expect(beyond.secrets).toEqual([]);
        expect(beyond).not.toHaveProperty('next');
      });
    });

    describe('schedulers', () => {
      it('rotates a due username_password secret with a generated password, once', async () => {
        const instanceGuid = await newInstance();
        const secret = await create(instanceGuid, {
          secret_type: 'username_password',
          name: 'rotating',
          username: 'app',
          password: 'initial-password',
          rotation: { auto_rotate: true, interval: 1, unit: 'day' },
        });
        expect(secret).toMatchObject({ next_rotation_date: new Date(clock.nowMs() + DAY).toISOString() });
        const rotation = app.get(RotationScheduler);
        expect((await rotation.runDue(clock.nowMs())).done).toBe(0);
        clock.advance(DAY);
        const run = await rotation.runDue(clock.nowMs());
        expect(run.done).toBeGreaterThanOrEqual(1);
        expect(run.failed).toBe(0);
        expect((await rotation.runDue(clock.nowMs())).done).toBe(0);
        const current = await client.send('secrets.version.get', { instanceGuid, secretId: secret.id, id: 'current' }, as);
        expect(current).toMatchObject({ auto_rotated: true, username: 'app', created_by: 'system' });
        expect((current as { password: string }).password).not.toBe('initial-password');
        const metadata = await client.send('secrets.secret.metadata.get', { instanceGuid, id: secret.id }, as);
        expect(metadata).toMatchObject({ versions_total: 2, next_rotation_date: new Date(clock.nowMs() + DAY).toISOString() });
        await expect.poll(() => events.filter((event) => event.type.endsWith('secrets.secret.rotated') && (event.data as { secretId: string }).secretId === secret.id).map((event) => event.data)).toEqual([
          expect.objectContaining({ auto: true, versionId: current.id }),
        ]);
      });

      it('sends expiring once within the warning period and expired once at the date', async () => {
        const instanceGuid = await newInstance();
        const expiresAt = clock.nowMs() + 40 * DAY;
        const secret = await create(instanceGuid, { secret_type: 'arbitrary', name: 'expiring', payload: 'p', expiration_date: new Date(expiresAt).toISOString() });
        const expiry = app.get(ExpiryScheduler);
        const noticesOf = () => eventsOf(secret.id).filter((type) => type === 'secrets.secret.expiring' || type === 'secrets.secret.expired');
        await expiry.runDue(clock.nowMs());
        clock.advance(11 * DAY);
        await expiry.runDue(clock.nowMs());
        await expiry.runDue(clock.nowMs());
        await expect.poll(noticesOf).toEqual(['secrets.secret.expiring']);
        clock.advance(29 * DAY);
        await expiry.runDue(clock.nowMs());
        clock.advance(DAY);
        await expiry.runDue(clock.nowMs());
        await expect.poll(noticesOf).toEqual(['secrets.secret.expiring', 'secrets.secret.expired']);
        const expired = events.find((event) => event.type.endsWith('secrets.secret.expired') && (event.data as { secretId: string }).secretId === secret.id);
        expect(expired?.data).toMatchObject({ expirationDate: new Date(expiresAt).toISOString(), secretType: 'arbitrary', groupId: 'default' });
        const metadata = await client.send('secrets.secret.metadata.get', { instanceGuid, id: secret.id }, as);
        expect(metadata).toMatchObject({ state: 1, expiration_date: new Date(expiresAt).toISOString() });
      });

      it('sweeps objects without metadata once older than the grace age, never a live one', async () => {
        const instanceGuid = await newInstance();
        const live = await create(instanceGuid, { secret_type: 'arbitrary', name: 'live', payload: 'p' });
        const body = Buffer.from('not an envelope');
        const orphanKey = versionObjectKey(randomUUID(), uuidV7(clock.nowMs() - GRACE_MS - 1));
        const inFlightKey = versionObjectKey(randomUUID(), uuidV7(clock.nowMs()));
        await client.send('storage.object.put', { instanceGuid, key: orphanKey, body });
        await client.send('storage.object.put', { instanceGuid, key: inFlightKey, body });
        const sweep = app.get(OrphanSweep);
        await sweep.runDue(clock.nowMs());
        let keys = (await client.send('storage.object.list', { instanceGuid, prefix: 'secrets/' })).keys;
        expect(keys).not.toContain(orphanKey);
        expect(keys).toContain(inFlightKey);
        clock.advance(GRACE_MS + 1);
        await sweep.runDue(clock.nowMs());
        keys = (await client.send('storage.object.list', { instanceGuid, prefix: 'secrets/' })).keys;
        expect(keys).toHaveLength(1);
        expect(await client.send('secrets.secret.get', { instanceGuid, id: live.id }, as)).toMatchObject({ payload: 'p' });
      });
    });

    describe('integrity and confidentiality', () => {
      it('fails both reads with INTEGRITY_FAILED after two objects are swapped', async () => {
        const instanceGuid = await newInstance();
        const first = await create(instanceGuid, { secret_type: 'arbitrary', name: 'first', payload: 'one' });
        const second = await create(instanceGuid, { secret_type: 'arbitrary', name: 'second', payload: 'two' });
        const keyOf = async (id: string) =>
          versionObjectKey(id, (await client.send('secrets.version.metadata.get', { instanceGuid, secretId: id, id: 'current' }, as)).id);
        const [firstKey, secondKey] = [await keyOf(first.id), await keyOf(second.id)];
        const firstBody = (await client.send('storage.object.get', { instanceGuid, key: firstKey })).body;
        const secondBody = (await client.send('storage.object.get', { instanceGuid, key: secondKey })).body;
        await client.send('storage.object.put', { instanceGuid, key: firstKey, body: secondBody });
        await client.send('storage.object.put', { instanceGuid, key: secondKey, body: firstBody });
        await failure(client.send('secrets.secret.get', { instanceGuid, id: first.id }, as), 'INTEGRITY_FAILED');
        await failure(client.send('secrets.secret.get', { instanceGuid, id: second.id }, as), 'INTEGRITY_FAILED');
        await failure(client.send('secrets.version.get', { instanceGuid, secretId: first.id, id: 'current' }, as), 'INTEGRITY_FAILED');
      });

      it('keeps a canary out of every table, every stored file and every event', async () => {
        const instanceGuid = await newInstance();
        const canary = `canary-${randomBytes(16).toString('hex')}`;
        const arbitrary = await create(instanceGuid, { secret_type: 'arbitrary', name: 'c-arbitrary', payload: canary });
        await create(instanceGuid, { secret_type: 'username_password', name: 'c-login', username: 'someone', password: canary });
        await create(instanceGuid, { secret_type: 'kv', name: 'c-kv', data: { [canary]: canary } });
        await client.send('secrets.version.create', { instanceGuid, secretId: arbitrary.id, version: { payload: `${canary}-2` } }, as);
        expect(await client.send('secrets.secret.get', { instanceGuid, id: arbitrary.id }, as)).toMatchObject({ payload: `${canary}-2` });

        for (const metadata of dataSource.entityMetadatas) {
          const rows = await dataSource.manager.createQueryBuilder().select('*').from(metadata.target, 't').getRawMany();
          expect(JSON.stringify(rows), metadata.tableName).not.toContain(canary);
        }
        const files = filesUnder(storageRoot);
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) expect(readFileSync(file).includes(canary), file).toBe(false);
        await expect.poll(() => events.some((event) => event.type.endsWith('secrets.version.created') && (event.data as { secretId: string }).secretId === arbitrary.id)).toBe(true);
        expect(JSON.stringify(events)).not.toContain(canary);
      });
    });

    describe('hot path: reads write nothing, envelopes are cached', () => {
      const currentKey = async (instanceGuid: string, secretId: string, ref = 'current') =>
        versionObjectKey(secretId, (await client.send('secrets.version.metadata.get', { instanceGuid, secretId, id: ref }, as)).id);

      it('a read writes no row; this replica answers downloaded and retrieved_at at once; the rows follow once the marks are an interval old', async () => {
        const instanceGuid = await newInstance();
        const scope = { accountId, instanceGuid };
        const created = await create(instanceGuid, { secret_type: 'arbitrary', name: 'booked', payload: 'p' });
        clock.advance(5000);
        const readAt = clock.now().toISOString();
        expect(await client.send('secrets.secret.get', { instanceGuid, id: created.id }, as)).toMatchObject({ downloaded: true, retrieved_at: readAt });
        const store = new SecretStore(dataSource.manager);
        const versionId = (await client.send('secrets.version.metadata.get', { instanceGuid, secretId: created.id, id: 'current' }, as)).id;
        expect(await store.secret(scope, created.id)).toMatchObject({ downloaded: false, retrievedAt: null });
        expect(await store.version(scope, created.id, versionId)).toMatchObject({ downloaded: false });
        expect(await client.send('secrets.secret.metadata.get', { instanceGuid, id: created.id }, as)).toMatchObject({ downloaded: true, retrieved_at: readAt });
        expect(await client.send('secrets.version.metadata.get', { instanceGuid, secretId: created.id, id: 'current' }, as)).toMatchObject({ downloaded: true });
        expect((await client.send('secrets.version.list', { instanceGuid, secretId: created.id }, as)).versions[0]).toMatchObject({ downloaded: true });
        const listed = await client.send('secrets.secret.list', { instanceGuid, path: '/api/v2/secrets', query: {} as never }, as);
        expect(listed.secrets.find((secret) => secret.id === created.id)).toMatchObject({ downloaded: true, retrieved_at: readAt });

        const reads = app.get(ReadBookkeeping);
        await reads.runDue(clock.nowMs() + 999);
        expect(await store.secret(scope, created.id)).toMatchObject({ downloaded: false, retrievedAt: null });
        await reads.runDue(clock.nowMs() + 1000);
        expect(await store.secret(scope, created.id)).toMatchObject({ downloaded: true, retrievedAt: clock.nowMs() });
        expect(await store.version(scope, created.id, versionId)).toMatchObject({ downloaded: true });
        expect(await client.send('secrets.secret.metadata.get', { instanceGuid, id: created.id }, as)).toMatchObject({ downloaded: true, retrieved_at: readAt });
      });

      it('serves a hot read from the envelope cache and drops the envelope on data delete, secret delete and instance purge', async () => {
        const envelopes = app.get(CachedEnvelopeStore);
        const instanceGuid = await newInstance();
        const secret = await create(instanceGuid, { secret_type: 'arbitrary', name: 'cached', payload: 'one' });
        const firstKey = await currentKey(instanceGuid, secret.id);
        // Creating does not fill the cache (a read does, once the envelope opened).
        expect(envelopes.has(instanceGuid, firstKey)).toBe(false);
        await client.send('secrets.secret.get', { instanceGuid, id: secret.id }, as);
        expect(envelopes.has(instanceGuid, firstKey)).toBe(true);
        // Served from the cache: the object is gone from the bucket and the read still answers.
        await client.send('storage.object.delete', { instanceGuid, key: firstKey });
        expect(await client.send('secrets.secret.get', { instanceGuid, id: secret.id }, as)).toMatchObject({ payload: 'one' });

        await client.send('secrets.version.create', { instanceGuid, secretId: secret.id, version: { payload: 'two' } }, as);
        const secondKey = await currentKey(instanceGuid, secret.id);
        await client.send('secrets.secret.get', { instanceGuid, id: secret.id }, as);
        expect(envelopes.has(instanceGuid, secondKey)).toBe(true);
        await client.send('secrets.version.data.delete', { instanceGuid, secretId: secret.id, id: 'current' }, as);
        expect(envelopes.has(instanceGuid, secondKey)).toBe(false);
        expect(await client.send('secrets.secret.get', { instanceGuid, id: secret.id }, as)).not.toHaveProperty('payload');

        const other = await create(instanceGuid, { secret_type: 'arbitrary', name: 'other', payload: 'x' });
        const otherKey = await currentKey(instanceGuid, other.id);
        await client.send('secrets.secret.get', { instanceGuid, id: other.id }, as);
        expect(envelopes.has(instanceGuid, otherKey)).toBe(true);
        await client.send('secrets.secret.delete', { instanceGuid, id: other.id }, as);
        expect(envelopes.has(instanceGuid, otherKey)).toBe(false);

        const kept = await create(instanceGuid, { secret_type: 'arbitrary', name: 'kept', payload: 'y' });
        const keptKey = await currentKey(instanceGuid, kept.id);
        await client.send('secrets.secret.get', { instanceGuid, id: kept.id }, as);
        expect(envelopes.has(instanceGuid, keptKey)).toBe(true);
        await client.send('secrets.instance.purge', { instanceGuid });
        expect(envelopes.has(instanceGuid, keptKey)).toBe(false);
      });

      it('drops an envelope when a rewrapped one is stored back, and never keeps one that did not open', async () => {
        const envelopes = app.get(CachedEnvelopeStore);
        const instanceGuid = await newInstance();
        const secret = await create(instanceGuid, { secret_type: 'arbitrary', name: 'rewrapped', payload: 'r' });
        const key = await currentKey(instanceGuid, secret.id);
        const sealed = (await client.send('storage.object.get', { instanceGuid, key })).body;
        kms.rotate(lastKmsKey.instanceId, lastKmsKey.keyId);
        expect(await client.send('secrets.secret.get', { instanceGuid, id: secret.id }, as)).toMatchObject({ payload: 'r' });
        const stored = (await client.send('storage.object.get', { instanceGuid, key })).body;
        expect(stored).not.toBe(sealed);
        expect(envelopes.has(instanceGuid, key)).toBe(false);
        await client.send('secrets.secret.get', { instanceGuid, id: secret.id }, as);
        expect(envelopes.has(instanceGuid, key)).toBe(true);

        const tampered = await create(instanceGuid, { secret_type: 'arbitrary', name: 'tampered', payload: 't' });
        const tamperedKey = await currentKey(instanceGuid, tampered.id);
        await client.send('storage.object.put', { instanceGuid, key: tamperedKey, body: stored });
        await failure(client.send('secrets.secret.get', { instanceGuid, id: tampered.id }, as), 'INTEGRITY_FAILED');
        expect(envelopes.has(instanceGuid, tamperedKey)).toBe(false);
      });
    });

    describe('instance purge', () => {
      it('removes every row of the instance, once, and answers a repeat with zero', async () => {
        const instanceGuid = await newInstance();
        const secret = await create(instanceGuid, { secret_type: 'arbitrary', name: 'p1', payload: 'p' });
        await client.send('secrets.version.create', { instanceGuid, secretId: secret.id, version: { payload: 'q' } }, as);
        await create(instanceGuid, { secret_type: 'kv', name: 'p2', data: {}, labels: ['lab'] });
        await client.send('secrets.lock.create', { instanceGuid, secretId: secret.id, locks: [{ name: 'hold' }] }, as);
        await client.send('secrets.group.create', { instanceGuid, name: 'extra' }, as);
        expect(await client.send('secrets.instance.purge', { instanceGuid })).toEqual({ secrets: 2, versions: 3 });
        for (const metadata of dataSource.entityMetadatas.filter((entity) => entity.target !== OutboxEventEntity)) {
          const rows = await dataSource.manager.createQueryBuilder().select('*').from(metadata.target, 't').getRawMany();
          expect(JSON.stringify(rows), metadata.tableName).not.toContain(instanceGuid);
        }
        await failure(client.send('secrets.instance.get', { instanceGuid }), 'NOT_FOUND');
        expect(await client.send('secrets.instance.purge', { instanceGuid })).toEqual({ secrets: 0, versions: 0 });
        await expect
          .poll(() => events.filter((event) => event.type.endsWith('secrets.instance.purged') && (event.data as { instanceId: string }).instanceId === instanceGuid))
          .toHaveLength(1);
      });

      it('revokes the API keys of iam_credentials versions first: a failed revoke fails the purge and keeps every row for the retry', async () => {
        const instanceGuid = await newInstance();
        const reused = await create(instanceGuid, { secret_type: 'iam_credentials', name: 'reused', ttl: '1d', reuse_api_key: true, service_id: 'ServiceId-1' });
        await client.send('secrets.version.create', { instanceGuid, secretId: reused.id, version: {} }, as);
        await create(instanceGuid, { secret_type: 'iam_credentials', name: 'single', ttl: '1d', reuse_api_key: false, service_id: 'ServiceId-1' });
        await create(instanceGuid, { secret_type: 'arbitrary', name: 'plain', payload: 'p' });
        const keys = issuer.issued.slice(-3).map((key) => key.apiKeyId);
        expect(new Set(keys).size).toBe(3);

        issuer.revokeFailure = new DomainError('SERVICE_UNAVAILABLE', 'iam is not reachable');
        try {
          await failure(client.send('secrets.instance.purge', { instanceGuid }), 'SERVICE_UNAVAILABLE');
        } finally {
          issuer.revokeFailure = undefined;
        }
        expect(issuer.revoked).not.toEqual(expect.arrayContaining([keys[0]]));
        expect((await client.send('secrets.secret.list', { instanceGuid, path: '/api/v2/secrets', query: {} as never }, as)).total_count).toBe(3);

        expect(await client.send('secrets.instance.purge', { instanceGuid })).toEqual({ secrets: 3, versions: 4 });
        expect(issuer.revoked).toEqual(expect.arrayContaining(keys));
        const revokedHere = issuer.revoked.filter((id) => keys.includes(id));
        expect(revokedHere).toHaveLength(3);
      });
    });

    describe('Idempotency-Key (recorded with the write)', () => {
      let tracing: TracingHandle;
      // The AsyncLocalStorage context the gateway's keys travel in.
      beforeAll(() => void (tracing = startTracing('secrets-idempotency-test', { exporter: 'none' })));
      afterAll(() => tracing.shutdown());

      const sha = (text: string) => createHash('sha256').update(text).digest('hex');
      /** A key as the gateway forwards it; `replays` counts the replies that said "replayed". */
      const keyed = (name: string, request: object) => {
        const state = { replays: 0 };
        const key: IdempotencyKey = { key: sha(`${user.iamId}\n${name}`), fingerprint: sha(JSON.stringify(request)), onReplay: () => void state.replays++ };
        return { state, send: <T>(call: () => Promise<T>) => activeContext.with(withIdempotencyKey(activeContext.active(), key), call) };
      };
      const secretsNamed = async (instanceGuid: string, name: string) =>
        (await client.send('secrets.secret.list', { instanceGuid, path: '/api/v2/secrets', query: {} as never }, as)).secrets.filter((secret) => secret.name === name);

      it('answers a retried create (its first answer lost) the secret the first attempt created, with its payload, once', async () => {
        const instanceGuid = await newInstance();
        const body = { secret_type: 'arbitrary', name: 'once', payload: 'first-payload' } as const;
        const attempt = keyed(randomUUID(), body);
        const first = await attempt.send(() => create(instanceGuid, body));
        expect(attempt.state.replays).toBe(0);
        // The client never saw `first`: it sends the same request with the same key again.
        const retry = await attempt.send(() => create(instanceGuid, body));
        expect(attempt.state.replays).toBe(1);
        expect(retry).toMatchObject({ id: first.id, name: 'once', payload: 'first-payload', versions_total: 1 });
        expect(await secretsNamed(instanceGuid, 'once')).toHaveLength(1);
        await expect.poll(() => eventsOf(first.id)).toEqual(['secrets.secret.created']);
        // The record keeps references only: no payload in the database.
        const kept: { result: string }[] = await dataSource.query('SELECT result FROM idempotency_records');
        expect(kept.map((row) => row.result).join()).not.toContain('first-payload');
        // Without the key, the IBM behaviour: 409.
        await failure(create(instanceGuid, body), 'CONFLICT');
      });

      it('refuses the same key with another request: IDEMPOTENCY_KEY_REUSED, nothing created', async () => {
        const instanceGuid = await newInstance();
        const name = randomUUID();
        const body = { secret_type: 'arbitrary', name: 'reused-1', payload: 'p' } as const;
        await keyed(name, body).send(() => create(instanceGuid, body));
        const other = { secret_type: 'arbitrary', name: 'reused-2', payload: 'p' } as const;
        await failure(keyed(name, other).send(() => create(instanceGuid, other)), 'IDEMPOTENCY_KEY_REUSED');
        expect(await secretsNamed(instanceGuid, 'reused-2')).toHaveLength(0);
      });

      it('serializes two attempts with one key running together: one secret, both answered it', async () => {
        const instanceGuid = await newInstance();
        const body = { secret_type: 'arbitrary', name: 'together', payload: 'p' } as const;
        const attempt = keyed(randomUUID(), body);
        const answers = await Promise.all([attempt.send(() => create(instanceGuid, body)), attempt.send(() => create(instanceGuid, body))]);
        expect(answers[1].id).toBe(answers[0].id);
        expect(attempt.state.replays).toBe(1);
        expect(await secretsNamed(instanceGuid, 'together')).toHaveLength(1);
        // The loser's envelope was removed: one object for one version.
        expect(filesUnder(storageRoot).filter((path) => path.includes(answers[0].id))).toHaveLength(1);
      });

      it('makes one new version per key: a retry is answered that version', async () => {
        const instanceGuid = await newInstance();
        const secret = await create(instanceGuid, { secret_type: 'arbitrary', name: 'rotated-once', payload: 'v1' });
        const request = { instanceGuid, secretId: secret.id, version: { payload: 'v2' } };
        const attempt = keyed(randomUUID(), request);
        const first = await attempt.send(() => client.send('secrets.version.create', request, as));
        const retry = await attempt.send(() => client.send('secrets.version.create', request, as));
        expect(retry).toMatchObject({ id: first.id, payload: 'v2' });
        expect(attempt.state.replays).toBe(1);
        expect((await client.send('secrets.secret.metadata.get', { instanceGuid, id: secret.id }, as)).versions_total).toBe(2);
        // A different key makes another version, as without one.
        const next = await keyed(randomUUID(), request).send(() => client.send('secrets.version.create', request, as));
        expect(next.id).not.toBe(first.id);
      });
    });
  });
}
