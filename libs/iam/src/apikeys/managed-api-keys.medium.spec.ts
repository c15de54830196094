import type { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IamWire, type CloudEvent, type RequestOf, type ResponseOf, type Subject } from '@sealbox/contracts';
import {
  createLogger,
  dataSourceToken,
  DomainError,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  ManualClock,
  PlatformModule,
  RpcClient,
  type Caller,
  type DatabaseConfig,
} from '@sealbox/platform';
import { testDatabases } from '@sealbox/platform/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyEntity } from '../entities/index.js';
import { IamModule } from '../iam.module.js';
import { ExpiredApiKeySweeper } from './expired-key-sweeper.js';
import { SECRETS_MANAGER, SWEEP_BATCH_SIZE } from './managed-api-keys.js';

const HOUR_S = 3600;

interface Harness {
  readonly app: INestMicroservice;
  readonly client: RpcClient;
  readonly clock: ManualClock;
  readonly dataSource: DataSource;
  readonly sweeper: ExpiredApiKeySweeper;
  readonly events: CloudEvent[];
}

/** iam as its process composes it, served on the in-process transport so requests go through the subjects' schemas and handlers. */
async function startIam(database: DatabaseConfig, dir: string): Promise<Harness> {
  const bus = new InProcessBus();
  const eventBus = new InProcessEventBus();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const events: CloudEvent[] = [];
  eventBus.subscribe('events.iam.>', (_subject, event) => {
    events.push(event);
  });
  const moduleRef = await Test.createTestingModule({
    imports: [
      PlatformModule.forRoot({
        logger: createLogger({ app: 'test', level: 'silent' }),
        clientProxy: new InProcessClient(bus),
        rpcTimeoutMs: 20_000,
        eventPublisher: eventBus,
        eventSubscriber: eventBus,
        clock,
      }),
      IamModule.register({
        database,
        bootstrap: { announce: () => undefined },
        // No sweep timer: the tests sweep at the manual clock's time themselves.
        iam: {
          masterKeyFile: join(dir, 'master.key'),
          accessTokenTtlSeconds: 600,
          refreshTokenTtlSeconds: 86_400,
          signingKeyOverlapSeconds: 600,
          issuer: 'sealbox-test',
          apiKeySweepIntervalMs: 0,
        },
      }),
    ],
  }).compile();
  const app = moduleRef.createNestMicroservice({ strategy: new InProcessServer(bus), logger: false });
  await app.listen();
  return {
    app,
    client: app.get(RpcClient),
    clock,
    dataSource: app.get<DataSource>(dataSourceToken('iam')),
    sweeper: app.get(ExpiredApiKeySweeper),
    events,
  };
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

for (const database of testDatabases) {
  describe(`iam: API keys issued for secrets (${database.name})`, () => {
    let iam: Harness;
    let cleanup: () => Promise<void>;
    let dir: string;
    let account: ResponseOf<'iam.account.create'>;
    let admin: Caller;
    let robot: IamWire.ServiceId;

    const call = <S extends Subject>(subject: S, request: RequestOf<S>, caller?: Caller) =>
      iam.client.send(subject, request, caller ? { caller } : {});
    const issue = (fields: Partial<RequestOf<'iam.apikey.issue-for-service'>> = {}) =>
      call('iam.apikey.issue-for-service', {
        account_id: account.account_id,
        service_id: robot.id,
        ttl_seconds: HOUR_S,
        name: 'deployer-credentials',
        ...fields,
      });
    const exchange = (apikey: string) => call('iam.token.exchange', { grant_type: IamWire.APIKEY_GRANT, apikey });
    const eventsAbout = (apikeyId: string) =>
      iam.events.filter((event) => JSON.stringify(event.data).includes(apikeyId)).map((event) => event.type);
    const keyRow = (id: string) => iam.dataSource.getRepository(ApiKeyEntity).findOneBy({ id });

    beforeAll(async () => {
      const opened = await database.open();
      cleanup = opened.cleanup;
      dir = mkdtempSync(join(tmpdir(), 'sealbox-managed-keys-'));
      iam = await startIam(opened.config, dir);
      account = await call('iam.account.create', { name: 'Account S' });
      admin = { iamId: account.admin_iam_id, accountId: account.account_id, subType: 'user' };
      robot = await call('iam.serviceid.create', { account_id: account.account_id, name: 'deployer' }, admin);
    });
    afterAll(async () => {
      await iam?.app.close();
      await cleanup?.();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('issues a key of the service ID that signs in until its ttl ends, then is refused and deleted by the sweep', async () => {
      const issuedAt = iam.clock.nowMs();
      const issued = await issue({ description: 'secret 0f1e' });
      expect(issued.apikey_id).toMatch(/^ApiKey-/);
      expect(issued.iam_id).toBe(robot.iam_id);
      expect(issued.expires_at).toBe(new Date(issuedAt + HOUR_S * 1000).toISOString());
      expect(issued.apikey).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const token = await exchange(issued.apikey);
      expect(token.access_token).toBeTruthy();

      // The account's users see it, marked as managed by Secrets Manager, with its expiry.
      const listed = await call('iam.apikey.list', IamWire.ListApiKeysRequest.parse({ iam_id: robot.iam_id }), admin);
      const seen = listed.apikeys.find((key) => key.id === issued.apikey_id);
      expect(seen).toMatchObject({ name: 'deployer-credentials', created_by: SECRETS_MANAGER, expires_at: issued.expires_at, iam_id: robot.iam_id });
      expect(seen?.description).toMatch(/^Managed by Secrets Manager .*secret 0f1e$/);
      expect(seen).not.toHaveProperty('apikey');
      expect((await keyRow(issued.apikey_id))?.managedBy).toBe(SECRETS_MANAGER);

      // One second before the end it still works, and the sweep leaves it alone.
      iam.clock.advance(HOUR_S * 1000 - 1000);
      expect((await exchange(issued.apikey)).access_token).toBeTruthy();
      await iam.sweeper.sweep();
      expect(await keyRow(issued.apikey_id)).not.toBeNull();

      // At the end it is refused at once, and the sweep deletes it with its event.
      iam.clock.advance(1000);
      expect((await failure(exchange(issued.apikey))).code).toBe('INVALID_GRANT');
      expect(await iam.sweeper.sweep()).toBe(1);
      expect(await keyRow(issued.apikey_id)).toBeNull();
      const refused = await failure(exchange(issued.apikey));
      expect(refused.code).toBe('INVALID_GRANT');
      expect(refused.message).not.toContain(issued.apikey);
      await expect
        .poll(() => eventsAbout(issued.apikey_id))
        .toEqual(['com.sealbox.iam.apikey.created', 'com.sealbox.iam.apikey.deleted', 'com.sealbox.iam.tokens.revoked']);
      expect(iam.events.find((event) => event.type === 'com.sealbox.iam.apikey.deleted' && JSON.stringify(event.data).includes(issued.apikey_id))?.data).toEqual({
        accountId: account.account_id,
        apikeyId: issued.apikey_id,
        iamId: robot.iam_id,
      });
      // Its access tokens end with it, as with any deleted key; its creation names the managing service.
      expect(iam.events.find((event) => event.type === 'com.sealbox.iam.tokens.revoked' && JSON.stringify(event.data).includes(issued.apikey_id))?.data).toMatchObject({
        kind: 'apikey',
        id: issued.apikey_id,
        reason: 'apikey-deleted',
      });
      expect(iam.events.find((event) => event.type === 'com.sealbox.iam.apikey.created' && JSON.stringify(event.data).includes(issued.apikey_id))?.data).toMatchObject({
        createdBy: 'secrets-manager',
      });
      expect(JSON.stringify(iam.events)).not.toContain(issued.apikey);
      const after = await call('iam.apikey.list', IamWire.ListApiKeysRequest.parse({ iam_id: robot.iam_id }), admin);
      expect(after.apikeys.map((key) => key.id)).not.toContain(issued.apikey_id);
    });

    it('answers NOT_FOUND for a service ID that is not one of the account', async () => {
      const other = await call('iam.account.create', { name: 'Account T' });
      const otherAdmin: Caller = { iamId: other.admin_iam_id, accountId: other.account_id, subType: 'user' };
      const foreign = await call('iam.serviceid.create', { account_id: other.account_id, name: 'foreign' }, otherAdmin);
      for (const service_id of ['ServiceId-00000000-0000-0000-0000-000000000000', foreign.id, robot.iam_id, account.admin_iam_id]) {
        const error = await failure(issue({ service_id }));
        expect(error.code, service_id).toBe('NOT_FOUND');
        expect(error.message).toContain(service_id);
      }
      // The service ID of the other account works in its own account.
      const issued = await issue({ account_id: other.account_id, service_id: foreign.id });
      expect(issued.iam_id).toBe(foreign.iam_id);
    });

    it('refuses a ttl of 0 or beyond 90 days with VALIDATION_FAILED naming ttl_seconds', async () => {
      for (const ttl_seconds of [0, IamWire.ISSUED_APIKEY_MAX_TTL_S + 1]) {
        const error = await failure(issue({ ttl_seconds }));
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.fields?.map((issue) => issue.field)).toEqual(['ttl_seconds']);
      }
    });

    it('revokes an issued key once, and never a key that was not issued for a service', async () => {
      const issued = await issue();
      expect(await call('iam.apikey.revoke', { account_id: account.account_id, apikey_id: issued.apikey_id })).toEqual({ deleted: true });
      expect((await failure(exchange(issued.apikey))).code).toBe('INVALID_GRANT');
      await expect
        .poll(() => eventsAbout(issued.apikey_id))
        .toEqual(['com.sealbox.iam.apikey.created', 'com.sealbox.iam.apikey.deleted', 'com.sealbox.iam.tokens.revoked']);
      expect(await call('iam.apikey.revoke', { account_id: account.account_id, apikey_id: issued.apikey_id })).toEqual({ deleted: false });

      // Another account's id does not reach it, and a user's own key is not the service's to revoke.
      const kept = await issue();
      const other = await call('iam.account.create', { name: 'Account U' });
      expect(await call('iam.apikey.revoke', { account_id: other.account_id, apikey_id: kept.apikey_id })).toEqual({ deleted: false });
      expect(await call('iam.apikey.revoke', { account_id: account.account_id, apikey_id: account.apikey_id })).toEqual({ deleted: false });
      expect((await exchange(kept.apikey)).access_token).toBeTruthy();
      expect((await exchange(account.apikey)).access_token).toBeTruthy();
    });

    it('sweeps only expired managed keys, locked ones too, batch after batch', async () => {
      const now = iam.clock.nowMs();
      const repository = iam.dataSource.getRepository(ApiKeyEntity);
      const row = (id: string, expiresAt: number | null, managedBy: string | null, locked = false): ApiKeyEntity => ({
        id,
        accountId: account.account_id,
        iamId: robot.iam_id,
        name: id,
        description: '',
        lookup: '0000000000000000',
        hash: 'scrypt$1$1$1$AA$AA',
        locked,
        entityTag: 1,
        createdBy: SECRETS_MANAGER,
        createdAt: now,
        modifiedAt: now,
        expiresAt,
        managedBy,
      });
      const expired = Array.from({ length: 2 * SWEEP_BATCH_SIZE + 5 }, (_, index) => row(`ApiKey-expired-${index}`, now - index, SECRETS_MANAGER, index === 7));
      const kept = [
        row('ApiKey-user-expired', now - 1000, null),
        row('ApiKey-user-forever', null, null),
        row('ApiKey-managed-later', now + 1, SECRETS_MANAGER),
      ];
      for (const key of [...expired, ...kept]) await repository.insert({ ...key });

      expect(await iam.sweeper.sweep()).toBe(expired.length);
      expect(await repository.countBy({ managedBy: SECRETS_MANAGER, accountId: account.account_id, name: 'ApiKey-expired-7' })).toBe(0);
      for (const key of kept) expect(await repository.existsBy({ id: key.id }), key.id).toBe(true);
      expect(await iam.sweeper.sweep()).toBe(0);
      await expect
        .poll(() => iam.events.filter((event) => event.type === 'com.sealbox.iam.apikey.deleted' && JSON.stringify(event.data).includes('ApiKey-expired-')).length)
        .toBe(expired.length);
    });
  });
}
