/**
 * Secret locks served on the in-process transport (schema validation, caller header, error
 * serialization as in production), on SQLite and PostgreSQL. The versions come from an in-memory
 * VersionDirectory (the secrets store's seam), so every lock rule is exercised on its own.
 */
import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SecretsWire, type CloudEvent, type RequestOf } from '@sealbox/contracts';
import {
  dataSourceToken,
  DomainError,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  ManualClock,
  RpcClient,
  ServiceDatabaseModule,
  type Caller,
} from '@sealbox/platform';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockDirectory, VersionDirectory, type TenantScope } from '../ports.js';
import { InstanceRegistry, registryEntities, registryMigrations } from '../registry/index.js';
import { lockEntities, lockMigrations, lockProviders, LocksRpcController } from './index.js';
import { activateInstance, failure } from './testing/helpers.js';
import { MemoryVersions } from './testing/memory-versions.js';

const fieldsOf = (error: DomainError) => error.fields?.map((issue) => issue.field) ?? [];

for (const database of testDatabases) {
  describe(`Secret locks (${database.name})`, () => {
    let cleanup: () => Promise<void>;
    let app: INestMicroservice;
    let client: RpcClient;
    let directory: LockDirectory;
    let dataSource: DataSource;
    const clock = new ManualClock();
    const versions = new MemoryVersions();
    const events: CloudEvent[] = [];

    const newAccount = () => randomUUID().replaceAll('-', '');
    const userOf = (accountId: string): Caller => ({ accountId, iamId: `IBMid-${randomUUID()}`, subType: 'user' });

    interface Tenant {
      readonly scope: TenantScope;
      readonly instanceGuid: string;
      readonly user: Caller;
      readonly as: { caller: Caller };
    }

    async function tenant(): Promise<Tenant> {
      const accountId = newAccount();
      const instanceGuid = await activateInstance(app.get(InstanceRegistry), accountId);
      const user = userOf(accountId);
      return { scope: { accountId, instanceGuid }, instanceGuid, user, as: { caller: user } };
    }

    const create = (t: Tenant, request: Omit<RequestOf<'secrets.lock.create'>, 'instanceGuid'>) =>
      client.send('secrets.lock.create', { instanceGuid: t.instanceGuid, ...request }, t.as);
    const remove = (t: Tenant, request: Omit<RequestOf<'secrets.lock.delete'>, 'instanceGuid'>) =>
      client.send('secrets.lock.delete', { instanceGuid: t.instanceGuid, ...request }, t.as);
    const list = (t: Tenant, secretId: string, query: RequestOf<'secrets.lock.list'>['query'] = {}, versionId?: string) =>
      client.send(
        'secrets.lock.list',
        { instanceGuid: t.instanceGuid, secretId, ...(versionId ? { versionId } : {}), path: `/api/v2/secrets/${secretId}/locks`, query },
        t.as,
      );
    const listAll = (t: Tenant, query: RequestOf<'secrets.lock.list-all'>['query'] = {}) =>
      client.send('secrets.lock.list-all', { instanceGuid: t.instanceGuid, path: '/api/v2/secrets_locks', query }, t.as);

    /** Lock events of an instance as `type version [names]`. */
    const lockEventsOf = (instanceGuid: string) =>
      events
        .filter((event) => (event.data as { instanceId?: string }).instanceId === instanceGuid && event.type.includes('.lock.'))
        .map((event) => {
          const data = event.data as { versionId: string; locks: string[] };
          return `${event.type.replace('com.sealbox.secrets.', '')} ${data.versionId} ${data.locks.join(',')}`;
        });

    beforeAll(async () => {
      const opened = await database.open();
      cleanup = opened.cleanup;
      const bus = new InProcessEventBus();
      bus.subscribe('events.secrets.>', (_subject, event) => {
        events.push(event);
      });
      const rpc = new InProcessBus();
      const moduleRef = await Test.createTestingModule({
        imports: [
          testPlatformModule({ events: bus, clock, clientProxy: new InProcessClient(rpc), rpcTimeoutMs: 10_000 }),
          ServiceDatabaseModule.register({
            service: 'secrets',
            config: opened.config,
            entities: [...registryEntities, ...lockEntities],
            migrations: [...registryMigrations, ...lockMigrations],
          }),
        ],
        controllers: [LocksRpcController],
        providers: [InstanceRegistry, ...lockProviders, { provide: VersionDirectory, useValue: versions }],
      }).compile();
      app = moduleRef.createNestMicroservice({ strategy: new InProcessServer(rpc), logger: false });
      await app.listen();
      client = app.get(RpcClient);
      directory = app.get(LockDirectory);
      dataSource = app.get<DataSource>(dataSourceToken('secrets'));
    });
    afterAll(async () => {
      await app?.close();
      await cleanup?.();
    });

    describe('create', () => {
      it("locks a secret's current version, replaces a lock of the same name, and records the events", async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope, { name: 'db-password' });
        const [v1] = versions.versionIds(t.scope, secretId);
        clock.advance(1000);
        const created = await create(t, {
          secretId,
          locks: [{ name: 'billing', description: 'used by billing', attributes: { owner: 'team-b' } }, { name: 'app' }],
        });
        expect(created).toEqual({
          secret_id: secretId,
          secret_group_id: 'default',
          secret_type: 'arbitrary',
          secret_name: 'db-password',
          versions: [{ version_id: v1, version_alias: 'current', locks: ['app', 'billing'], payload_available: true }],
        });
        const listed = await list(t, secretId, { sort: 'name' });
        expect(listed.locks).toEqual([
          expect.objectContaining({ name: 'app', created_by: t.user.iamId, secret_id: secretId, secret_version_id: v1, secret_version_alias: 'current' }),
          {
            name: 'billing',
            description: 'used by billing',
            attributes: { owner: 'team-b' },
            created_at: listed.locks[1]?.created_at,
            updated_at: listed.locks[1]?.created_at,
            created_by: t.user.iamId,
            secret_group_id: 'default',
            secret_id: secretId,
            secret_version_id: v1,
            secret_version_alias: 'current',
          },
        ]);
        expect(listed.locks[0]).not.toHaveProperty('description');

        // Same name again, by another user: replaced (description and attributes), created_at/by kept.
        clock.advance(1000);
        const other = userOf(t.scope.accountId);
        await client.send('secrets.lock.create', { instanceGuid: t.instanceGuid, secretId, locks: [{ name: 'billing', description: 'moved' }] }, { caller: other });
        const after = await list(t, secretId, { sort: 'name' });
        expect(after.total_count).toBe(2);
        const billing = after.locks[1];
        expect(billing).toMatchObject({ name: 'billing', description: 'moved', created_by: t.user.iamId, created_at: listed.locks[1]?.created_at });
        expect(billing).not.toHaveProperty('attributes');
        expect(billing?.updated_at).not.toBe(billing?.created_at);
        await expect.poll(() => lockEventsOf(t.instanceGuid)).toEqual([`lock.created ${v1} billing,app`, `lock.created ${v1} billing`]);
        const event = events.find(
          (candidate) => candidate.type.endsWith('secrets.lock.created') && (candidate.data as { instanceId?: string }).instanceId === t.instanceGuid,
        );
        expect(event?.data).toEqual({
          accountId: t.scope.accountId,
          instanceId: t.instanceGuid,
          secretId,
          secretType: 'arbitrary',
          groupId: 'default',
          versionId: v1,
          locks: ['billing', 'app'],
        });
      });

      it('locks a given version by id or alias, and answers NOT_FOUND for an unknown version or secret', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        const v2 = versions.rotate(t.scope, secretId);
        const [, v1] = versions.versionIds(t.scope, secretId);
        const byAlias = await create(t, { secretId, versionId: 'previous', locks: [{ name: 'old-app' }] });
        expect(byAlias.versions).toEqual([{ version_id: v1, version_alias: 'previous', locks: ['old-app'], payload_available: true }]);
        const byId = await create(t, { secretId, versionId: v2, locks: [{ name: 'new-app' }] });
        expect(byId.versions).toEqual([
          { version_id: v2, version_alias: 'current', locks: ['new-app'], payload_available: true },
          { version_id: v1, version_alias: 'previous', locks: ['old-app'], payload_available: true },
        ]);
        await failure(create(t, { secretId, versionId: randomUUID(), locks: [{ name: 'x1' }] }), 'NOT_FOUND');
        await failure(create(t, { secretId: randomUUID(), locks: [{ name: 'x1' }] }), 'NOT_FOUND');
        // A secret with one version has no previous one.
        const single = versions.addSecret(t.scope);
        await failure(create(t, { secretId: single, versionId: 'previous', locks: [{ name: 'x1' }] }), 'NOT_FOUND');
        expect((await list(t, secretId)).total_count).toBe(2);
      });

      it('refuses bad input with VALIDATION_FAILED naming the field', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        expect(fieldsOf(await failure(create(t, { secretId, locks: [{ name: '1-starts-with-digit' }] }), 'VALIDATION_FAILED'))).toEqual(['locks.0.name']);
        expect(fieldsOf(await failure(create(t, { secretId, locks: [{ name: 'ok1' }, { name: 'a' }] }), 'VALIDATION_FAILED'))).toEqual(['locks.1.name']);
        expect(fieldsOf(await failure(create(t, { secretId, locks: [{ name: 'twice' }, { name: 'twice' }] }), 'VALIDATION_FAILED'))).toEqual(['locks.1.name']);
        expect(fieldsOf(await failure(create(t, { secretId, locks: [] }), 'VALIDATION_FAILED'))).toEqual(['locks']);
        expect(
          fieldsOf(await failure(create(t, { secretId, locks: [{ name: 'ok1', colour: 'red' } as SecretsWire.SecretLockPrototype] }), 'VALIDATION_FAILED')),
        ).toEqual(['locks.0.colour']);
        expect(
          fieldsOf(await failure(create(t, { secretId, locks: [{ name: 'ok1' }], mode: 'remove_all' as SecretsWire.LockMode }), 'VALIDATION_FAILED')),
        ).toEqual(['mode']);
        expect(fieldsOf(await failure(create(t, { secretId, versionId: 'latest', locks: [{ name: 'ok1' }] }), 'VALIDATION_FAILED'))).toEqual([
          'versionId',
        ]);
        const tooMany = Array.from({ length: SecretsWire.MAX_LOCKS_PER_VERSION + 1 }, (_, index) => ({ name: `lock${index}` }));
        expect(fieldsOf(await failure(create(t, { secretId, locks: tooMany }), 'VALIDATION_FAILED'))).toEqual(['locks']);
        expect((await list(t, secretId)).total_count).toBe(0);
        await failure(client.send('secrets.lock.create', { instanceGuid: t.instanceGuid, secretId, locks: [{ name: 'ok1' }] }), 'UNAUTHORIZED');
      });

      it('concurrent requests locking the same new names all succeed, leaving one lock per name', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        const locks = [{ name: 'app' }, { name: 'audit' }];
        const answers = await Promise.all(Array.from({ length: 4 }, (_, index) => create(t, { secretId, locks: [...locks, { name: `own${index}` }] })));
        expect(answers.every((answer) => answer.versions[0]?.locks.includes('app'))).toBe(true);
        expect((await list(t, secretId, { sort: 'name' })).locks.map((lock) => lock.name)).toEqual(['app', 'audit', 'own0', 'own1', 'own2', 'own3']);
      });

      it(`holds at most ${SecretsWire.MAX_LOCKS_PER_VERSION} locks per version: more is CONFLICT, replacing is fine`, async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        const full = Array.from({ length: SecretsWire.MAX_LOCKS_PER_VERSION }, (_, index) => ({ name: `lock${index}` }));
        expect((await create(t, { secretId, locks: full })).versions[0]?.locks).toHaveLength(SecretsWire.MAX_LOCKS_PER_VERSION);
        const refused = await failure(create(t, { secretId, locks: [{ name: 'lock0' }, { name: 'extra' }] }), 'CONFLICT');
        expect(refused.message).toContain(String(SecretsWire.MAX_LOCKS_PER_VERSION));
        await create(t, { secretId, locks: [{ name: 'lock0', description: 'replaced' }] });
        expect((await list(t, secretId, { search: 'lock0', limit: 1 })).locks[0]?.description).toBe('replaced');
        // Another version has its own quota.
        versions.rotate(t.scope, secretId);
        expect((await create(t, { secretId, locks: [{ name: 'extra' }] })).versions[0]?.locks).toEqual(['extra']);
        expect((await directory.countBySecret(dataSource.manager, t.scope, [secretId])).get(secretId)).toBe(SecretsWire.MAX_LOCKS_PER_VERSION + 1);
      });
    });

    describe('modes', () => {
      it('remove_previous moves locks of the same names off the version before, and nothing else', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        const [v1] = versions.versionIds(t.scope, secretId);
        await create(t, { secretId, locks: [{ name: 'app' }, { name: 'audit' }] });
        const v2 = versions.rotate(t.scope, secretId);
        const moved = await create(t, { secretId, locks: [{ name: 'app' }], mode: 'remove_previous' });
        expect(moved.versions).toEqual([
          { version_id: v2, version_alias: 'current', locks: ['app'], payload_available: true },
          { version_id: v1, version_alias: 'previous', locks: ['audit'], payload_available: true },
        ]);
        const all = await create(t, { secretId, locks: [{ name: 'audit' }], mode: 'remove_previous' });
        // The previous version is shown although it holds no lock any more: the operation changed it.
        expect(all.versions).toEqual([
          { version_id: v2, version_alias: 'current', locks: ['app', 'audit'], payload_available: true },
          { version_id: v1, version_alias: 'previous', locks: [], payload_available: true },
        ]);
        expect(versions.dataDeleted).not.toContain(`${secretId}/${v1}`);
        // On a secret with a single version there is nothing before: the mode changes nothing.
        const single = versions.addSecret(t.scope);
        const [only] = versions.versionIds(t.scope, single);
        expect((await create(t, { secretId: single, locks: [{ name: 'app' }], mode: 'remove_previous_and_delete' })).versions).toEqual([
          { version_id: only, version_alias: 'current', locks: ['app'], payload_available: true },
        ]);
        await expect
          .poll(() => lockEventsOf(t.instanceGuid))
          .toEqual([
            `lock.created ${v1} app,audit`,
            `lock.created ${v2} app`,
            `lock.deleted ${v1} app`,
            `lock.created ${v2} audit`,
            `lock.deleted ${v1} audit`,
            `lock.created ${only} app`,
          ]);
      });

      it("remove_previous_and_delete deletes the previous version's data once it holds no lock", async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        const [v1] = versions.versionIds(t.scope, secretId);
        await create(t, { secretId, locks: [{ name: 'app' }, { name: 'audit' }] });
        const v2 = versions.rotate(t.scope, secretId);
        // `audit` stays on v1: its data stays too.
        const kept = await create(t, { secretId, locks: [{ name: 'app' }], mode: 'remove_previous_and_delete' });
        expect(kept.versions[1]).toEqual({ version_id: v1, version_alias: 'previous', locks: ['audit'], payload_available: true });
        expect(versions.dataDeleted).not.toContain(`${secretId}/${v1}`);

        const deleted = await create(t, { secretId, locks: [{ name: 'audit' }], mode: 'remove_previous_and_delete' });
        expect(deleted.versions).toEqual([
          { version_id: v2, version_alias: 'current', locks: ['app', 'audit'], payload_available: true },
          { version_id: v1, version_alias: 'previous', locks: [], payload_available: false },
        ]);
        expect(versions.dataDeleted).toContain(`${secretId}/${v1}`);
        expect(versions.objectsRemoved).toContain(`${secretId}/${v1}`);
        // A version without data cannot be locked.
        const refused = await failure(create(t, { secretId, versionId: v1, locks: [{ name: 'late' }] }), 'CONFLICT');
        expect(refused.message).toContain(v1);
        // Locking a version before one whose data is gone does not delete it again.
        const v3 = versions.rotate(t.scope, secretId);
        await create(t, { secretId, locks: [{ name: 'app' }, { name: 'audit' }], mode: 'remove_previous_and_delete' });
        expect(versions.dataDeleted.filter((entry) => entry === `${secretId}/${v1}`)).toHaveLength(1);
        expect(versions.dataDeleted).toContain(`${secretId}/${v2}`);
        expect(await directory.locksOn(dataSource.manager, t.scope, secretId)).toEqual(new Map([[v3, ['app', 'audit']]]));

        // The object's removal after the commit is best effort: its failure does not fail the request.
        versions.failRemovals = true;
        try {
          versions.rotate(t.scope, secretId);
          const answer = await create(t, { secretId, locks: [{ name: 'app' }, { name: 'audit' }], mode: 'remove_previous_and_delete' });
          expect(answer.versions[1]).toEqual({ version_id: v3, version_alias: 'previous', locks: [], payload_available: false });
          expect(versions.objectsRemoved).not.toContain(`${secretId}/${v3}`);
        } finally {
          versions.failRemovals = false;
        }
      });
    });

    describe('delete', () => {
      it('removes named locks or all locks of a version, ignoring names the version does not hold', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        const [v1] = versions.versionIds(t.scope, secretId);
        await create(t, { secretId, locks: [{ name: 'app' }, { name: 'audit' }, { name: 'backup' }] });
        const v2 = versions.rotate(t.scope, secretId);
        await create(t, { secretId, locks: [{ name: 'app' }] });

        const named = await remove(t, { secretId, versionId: 'previous', names: ['app', 'not-there'] });
        expect(named.versions).toEqual([
          { version_id: v2, version_alias: 'current', locks: ['app'], payload_available: true },
          { version_id: v1, version_alias: 'previous', locks: ['audit', 'backup'], payload_available: true },
        ]);
        const all = await remove(t, { secretId, versionId: v1 });
        expect(all.versions).toEqual([
          { version_id: v2, version_alias: 'current', locks: ['app'], payload_available: true },
          { version_id: v1, version_alias: 'previous', locks: [], payload_available: true },
        ]);
        const nothing = await remove(t, { secretId, versionId: v1, names: ['app'] });
        expect(nothing.versions.find((version) => version.version_id === v1)?.locks).toEqual([]);
        await expect
          .poll(() => lockEventsOf(t.instanceGuid))
          .toEqual([`lock.created ${v1} app,audit,backup`, `lock.created ${v2} app`, `lock.deleted ${v1} app`, `lock.deleted ${v1} audit,backup`]);
      });

      it('without a version, removes the locks from every version of the secret (unlocking it)', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        const [v1] = versions.versionIds(t.scope, secretId);
        await create(t, { secretId, locks: [{ name: 'app' }, { name: 'audit' }] });
        const v2 = versions.rotate(t.scope, secretId);
        await create(t, { secretId, locks: [{ name: 'app' }] });
        const named = await remove(t, { secretId, names: ['app'] });
        expect(named.versions).toEqual([
          { version_id: v2, version_alias: 'current', locks: [], payload_available: true },
          { version_id: v1, version_alias: 'previous', locks: ['audit'], payload_available: true },
        ]);
        const all = await remove(t, { secretId });
        expect(all.versions).toEqual([{ version_id: v1, version_alias: 'previous', locks: [], payload_available: true }]);
        expect((await directory.countBySecret(dataSource.manager, t.scope, [secretId])).size).toBe(0);
        await expect
          .poll(() => lockEventsOf(t.instanceGuid))
          .toEqual([`lock.created ${v1} app,audit`, `lock.created ${v2} app`, `lock.deleted ${v2} app`, `lock.deleted ${v1} app`, `lock.deleted ${v1} audit`]);
      });

      it('refuses bad input and unknown secrets or versions', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        await failure(remove(t, { secretId: randomUUID() }), 'NOT_FOUND');
        await failure(remove(t, { secretId, versionId: randomUUID() }), 'NOT_FOUND');
        expect(fieldsOf(await failure(remove(t, { secretId, names: ['bad name'] }), 'VALIDATION_FAILED'))).toEqual(['names.0']);
        expect(fieldsOf(await failure(remove(t, { secretId, names: [] }), 'VALIDATION_FAILED'))).toEqual(['names']);
        expect(fieldsOf(await failure(remove(t, { secretId: 'not-a-uuid' }), 'VALIDATION_FAILED'))).toEqual(['secretId']);
      });
    });

    describe('list', () => {
      it('pages the locks of a secret with IBM links, sorts, searches and lists one version', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        const [v1] = versions.versionIds(t.scope, secretId);
        for (const name of ['delta', 'alpha', 'charlie']) {
          clock.advance(1000);
          await create(t, { secretId, locks: [{ name }] });
        }
        const v2 = versions.rotate(t.scope, secretId);
        for (const name of ['bravo', 'app_x1', 'appzx1']) {
          clock.advance(1000);
          await create(t, { secretId, locks: [{ name }] });
        }
        const path = `/api/v2/secrets/${secretId}/locks`;
        const first = await list(t, secretId, { limit: 4 });
        expect(first.locks.map((lock) => lock.name)).toEqual(['delta', 'alpha', 'charlie', 'bravo']);
        expect(first).toMatchObject({
          total_count: 6,
          limit: 4,
          offset: 0,
          first: { href: `${path}?offset=0&limit=4` },
          last: { href: `${path}?offset=4&limit=4` },
          next: { href: `${path}?offset=4&limit=4` },
        });
        expect(first).not.toHaveProperty('previous');
        expect(first.locks.map((lock) => lock.secret_version_alias)).toEqual(['previous', 'previous', 'previous', 'current']);
        const last = await list(t, secretId, { limit: '4', offset: '4' } as unknown as SecretsWire.ListLocksQuery);
        expect(last.locks.map((lock) => lock.name)).toEqual(['app_x1', 'appzx1']);
        expect(last).not.toHaveProperty('next');
        expect(last.previous).toEqual({ href: `${path}?offset=0&limit=4` });

        expect((await list(t, secretId, { sort: 'name' })).locks.map((lock) => lock.name)).toEqual(['alpha', 'app_x1', 'appzx1', 'bravo', 'charlie', 'delta']);
        expect((await list(t, secretId, { sort: '-created_at' })).locks.map((lock) => lock.name)).toEqual(['appzx1', 'app_x1', 'bravo', 'charlie', 'alpha', 'delta']);
        // `_` in the search is a character, not a wildcard; the search ignores case; the links repeat it.
        const searched = await list(t, secretId, { search: 'P_X', sort: '-name' });
        expect(searched.locks.map((lock) => lock.name)).toEqual(['app_x1']);
        expect(searched.first.href).toBe(`${path}?sort=-name&search=P_X&offset=0&limit=25`);

        const ofVersion = await list(t, secretId, { sort: 'name' }, v1);
        expect(ofVersion.locks.map((lock) => lock.name)).toEqual(['alpha', 'charlie', 'delta']);
        expect(ofVersion.locks.every((lock) => lock.secret_version_id === v1 && lock.secret_version_alias === 'previous')).toBe(true);
        expect((await list(t, secretId, {}, 'current')).locks.map((lock) => lock.secret_version_id)).toEqual([v2, v2, v2]);

        await failure(list(t, randomUUID()), 'NOT_FOUND');
        await failure(list(t, secretId, {}, randomUUID()), 'NOT_FOUND');
        expect(fieldsOf(await failure(list(t, secretId, { sort: 'colour' } as unknown as SecretsWire.ListLocksQuery), 'VALIDATION_FAILED'))).toEqual(['query.sort']);
        expect(
          fieldsOf(await failure(list(t, secretId, { limit: SecretsWire.LIST_LOCKS_MAX_LIMIT + 1 }), 'VALIDATION_FAILED')),
        ).toEqual(['query.limit']);
        expect(fieldsOf(await failure(list(t, secretId, { limit: 'abc' } as unknown as SecretsWire.ListLocksQuery), 'VALIDATION_FAILED'))).toEqual([
          'query.limit',
        ]);
      });

      it('lists every secret of the instance that holds locks, by group and lock name, with page links', async () => {
        const t = await tenant();
        const group = randomUUID();
        const a = versions.addSecret(t.scope, { name: 'alpha-secret' });
        const b = versions.addSecret(t.scope, { name: 'bravo-secret', groupId: group, type: 'kv' });
        const c = versions.addSecret(t.scope, { name: 'charlie-secret' });
        versions.addSecret(t.scope, { name: 'unlocked' });
        clock.advance(1000);
        await create(t, { secretId: a, locks: [{ name: 'app' }] });
        const aV2 = versions.rotate(t.scope, a);
        clock.advance(1000);
        await create(t, { secretId: a, locks: [{ name: 'billing' }] });
        clock.advance(1000);
        await create(t, { secretId: b, locks: [{ name: 'billing' }, { name: 'audit' }] });
        clock.advance(1000);
        await create(t, { secretId: c, locks: [{ name: 'audit' }] });
        const [aV1] = versions.versionIds(t.scope, a).slice(1);
        const [bV1] = versions.versionIds(t.scope, b);

        const all = await listAll(t);
        expect(all.total_count).toBe(3);
        expect(all.secrets_locks.map((row) => row.secret_id)).toEqual([a, b, c]);
        expect(all.secrets_locks[0]).toEqual({
          secret_id: a,
          secret_group_id: 'default',
          secret_type: 'arbitrary',
          secret_name: 'alpha-secret',
          versions: [
            { version_id: aV2, version_alias: 'current', locks: ['billing'], payload_available: true },
            { version_id: aV1, version_alias: 'previous', locks: ['app'], payload_available: true },
          ],
        });
        expect(all).not.toHaveProperty('next');

        const paged = await listAll(t, { limit: 2 });
        expect(paged.secrets_locks.map((row) => row.secret_id)).toEqual([a, b]);
        expect(paged.next).toEqual({ href: '/api/v2/secrets_locks?offset=2&limit=2' });
        const rest = await listAll(t, { limit: 2, offset: 2 });
        expect(rest.secrets_locks.map((row) => row.secret_id)).toEqual([c]);
        expect(rest).not.toHaveProperty('next');

        const grouped = await listAll(t, { groups: [group] });
        expect(grouped.secrets_locks).toEqual([
          {
            secret_id: b,
            secret_group_id: group,
            secret_type: 'kv',
            secret_name: 'bravo-secret',
            versions: [{ version_id: bV1, version_alias: 'current', locks: ['audit', 'billing'], payload_available: true }],
          },
        ]);
        expect(grouped.first.href).toBe(`/api/v2/secrets_locks?groups=${group}&offset=0&limit=200`);
        expect((await listAll(t, { groups: ['default'] })).secrets_locks.map((row) => row.secret_id)).toEqual([a, c]);
        // `search` keeps the locks whose name contains it, and the secrets holding one.
        const billing = await listAll(t, { search: 'BILL' });
        expect(billing.total_count).toBe(2);
        expect(billing.secrets_locks.map((row) => [row.secret_id, row.versions.map((version) => version.locks)])).toEqual([
          [a, [['billing']]],
          [b, [['billing']]],
        ]);
        expect((await listAll(t, { search: 'nothing-matches' })).secrets_locks).toEqual([]);
        expect(fieldsOf(await failure(listAll(t, { groups: ['not-a-group'] }), 'VALIDATION_FAILED'))).toEqual(['query.groups.0']);
        expect(fieldsOf(await failure(listAll(t, { limit: 1001 }), 'VALIDATION_FAILED'))).toEqual(['query.limit']);

        // Locks whose secret the secrets store no longer knows are still listed, from the lock rows.
        versions.forget(t.scope, c);
        const orphan = (await listAll(t)).secrets_locks.find((row) => row.secret_id === c);
        expect(orphan).toEqual({ secret_id: c, secret_group_id: 'default', versions: [{ version_id: expect.any(String), locks: ['audit'] }] });
      });
    });

    describe('instance gate', () => {
      it('answers INSTANCE_NOT_ACTIVE for a disabled instance and NOT_FOUND for another account, to every operation', async () => {
        const t = await tenant();
        const secretId = versions.addSecret(t.scope);
        await create(t, { secretId, locks: [{ name: 'app' }] });
        const stranger: Tenant = { ...t, user: userOf(newAccount()), as: { caller: userOf(newAccount()) } };
        await failure(create(stranger, { secretId, locks: [{ name: 'app' }] }), 'NOT_FOUND');
        await failure(remove(stranger, { secretId }), 'NOT_FOUND');
        await failure(list(stranger, secretId), 'NOT_FOUND');
        await failure(listAll(stranger), 'NOT_FOUND');

        await app.get(InstanceRegistry).setState({ instanceGuid: t.instanceGuid, state: 'disabled' });
        await failure(create(t, { secretId, locks: [{ name: 'other' }] }), 'INSTANCE_NOT_ACTIVE');
        await failure(remove(t, { secretId }), 'INSTANCE_NOT_ACTIVE');
        await failure(list(t, secretId), 'INSTANCE_NOT_ACTIVE');
        await failure(listAll(t), 'INSTANCE_NOT_ACTIVE');
        // An unknown instance is NOT_FOUND, like another account's.
        await failure(listAll({ ...t, instanceGuid: randomUUID() }), 'NOT_FOUND');

        await app.get(InstanceRegistry).setState({ instanceGuid: t.instanceGuid, state: 'active' });
        expect((await list(t, secretId)).locks.map((lock) => lock.name)).toEqual(['app']);
      });
    });

    describe('LockDirectory', () => {
      it('answers lock names by version, counts by secret, and removes per secret, version and instance', async () => {
        const t = await tenant();
        const neighbour = await tenant();
        const manager = dataSource.manager;
        const a = versions.addSecret(t.scope);
        const b = versions.addSecret(t.scope);
        const unlocked = versions.addSecret(t.scope);
        const n = versions.addSecret(neighbour.scope);
        const [aV1] = versions.versionIds(t.scope, a);
        await create(t, { secretId: a, locks: [{ name: 'zeta' }, { name: 'alpha' }] });
        const aV2 = versions.rotate(t.scope, a);
        await create(t, { secretId: a, locks: [{ name: 'app' }] });
        await create(t, { secretId: b, locks: [{ name: 'app' }] });
        await create(neighbour, { secretId: n, locks: [{ name: 'app' }] });

        expect(await directory.locksOn(manager, t.scope, a)).toEqual(
          new Map([
            [aV1, ['alpha', 'zeta']],
            [aV2, ['app']],
          ]),
        );
        expect(await directory.locksOn(manager, t.scope, a, [aV2, randomUUID()])).toEqual(new Map([[aV2, ['app']]]));
        expect(await directory.locksOn(manager, t.scope, a, [])).toEqual(new Map());
        expect(await directory.locksOn(manager, t.scope, unlocked)).toEqual(new Map());
        // Another account's scope sees nothing of this instance.
        expect(await directory.locksOn(manager, { accountId: neighbour.scope.accountId, instanceGuid: t.instanceGuid }, a)).toEqual(new Map());
        expect(await directory.countBySecret(manager, t.scope, [a, b, unlocked, n])).toEqual(
          new Map([
            [a, 3],
            [b, 1],
          ]),
        );
        expect(await directory.countBySecret(manager, t.scope, [])).toEqual(new Map());
        await expect(directory.locksOn(manager, { accountId: '', instanceGuid: t.instanceGuid }, a)).rejects.toThrow(/without an account id/);

        await dataSource.transaction((tx) => directory.removeAll(tx, t.scope, a, aV1));
        expect(await directory.locksOn(manager, t.scope, a)).toEqual(new Map([[aV2, ['app']]]));
        await dataSource.transaction((tx) => directory.removeAll(tx, t.scope, a));
        expect(await directory.locksOn(manager, t.scope, a)).toEqual(new Map());
        expect(await dataSource.transaction((tx) => directory.removeInstance(tx, t.scope))).toBe(1);
        expect(await directory.countBySecret(manager, t.scope, [a, b])).toEqual(new Map());
        expect(await directory.countBySecret(manager, neighbour.scope, [n])).toEqual(new Map([[n, 1]]));
      });
    });
  });
}
