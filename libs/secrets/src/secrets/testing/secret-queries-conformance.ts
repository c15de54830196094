/**
 * The one conformance suite of the SecretQueries port (hand-written SQL): every implementation must
 * answer exactly what the TypeORM stores answer for the same rows, write rows the TypeORM stores read
 * back unchanged, refuse an unscoped call, and read committed rows only.
 */
import { isUniqueViolation, openServiceDatabase, type DatabaseConfig } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockEntities, lockMigrations, LockStore } from '../../locks/index.js';
import { registryEntities, registryMigrations, RegistryStore, type InstanceEntity, type TenantScope } from '../../registry/index.js';
import type { SecretEntity, SecretVersionEntity } from '../entities.js';
import type { SecretQueries } from '../queries.js';
import { secretEntities, secretMigrations } from '../index.js';
import { SecretStore } from '../store.js';
import { ROWS_T0 as T0, secretRow as rowOf, versionRow as versionOf } from './rows.js';

export interface SecretQueriesHarness {
  /** A fresh, empty database. */
  open(): Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>;
  /** The implementation under test on the opened DataSource. */
  queries(dataSource: DataSource): SecretQueries;
}

export function describeSecretQueriesConformance(name: string, harness: SecretQueriesHarness): void {
  describe(`SecretQueries conformance (${name})`, () => {
    let dataSource: DataSource;
    let queries: SecretQueries;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await harness.open();
      cleanup = opened.cleanup;
      dataSource = await openServiceDatabase({
        service: 'secrets',
        config: opened.config,
        entities: [...registryEntities, ...secretEntities, ...lockEntities],
        migrations: [...registryMigrations, ...secretMigrations, ...lockMigrations],
      });
      queries = harness.queries(dataSource);
    });
    afterAll(async () => {
      await queries?.close();
      await dataSource?.destroy();
      await cleanup?.();
    });

    async function newInstance(state: InstanceEntity['state'] = 'active'): Promise<TenantScope> {
      const scope = { accountId: randomUUID().replaceAll('-', ''), instanceGuid: randomUUID() };
      const store = new RegistryStore(dataSource.manager);
      await store.insertInstance({
        ...scope,
        crn: `crn:v1:sealbox:public:secrets-manager:us-south:a/${scope.accountId}:${scope.instanceGuid}::`,
        region: 'us-south',
        kmsInstanceId: randomUUID(),
        kmsKeyId: randomUUID(),
        kmsAccountId: null,
        planId: null,
        state,
        createdAt: T0,
        updatedAt: T0,
      });
      await store.insertGroup({ ...scope, id: 'default', name: 'default', description: null, createdAt: T0, createdBy: 'system', updatedAt: T0 });
      return scope;
    }

    /** Every column set to something other than its default, so a column the SQL forgets shows. */
    const secretRow = (scope: TenantScope, overrides: Partial<SecretEntity> = {}) =>
      rowOf(scope, {
        description: 'a "quoted" description',
        labels: ['one', 'two'],
        customMetadata: { nested: { n: 1 }, flag: true },
        updatedAt: T0 + 1,
        expirationAt: T0 + 86_400_000,
        details: { rotation: { auto_rotate: false } },
        ...overrides,
      });
    const versionRow = (secret: SecretEntity, ordinal: number, overrides: Partial<SecretVersionEntity> = {}) =>
      versionOf(secret, ordinal, { versionCustomMetadata: ordinal === 1 ? null : { build: ordinal }, ...overrides });

    /** A secret with its first version, written by the TypeORM store. */
    async function seeded(scope: TenantScope, overrides: Partial<SecretEntity> = {}): Promise<{ secret: SecretEntity; version: SecretVersionEntity }> {
      const secret = secretRow(scope, overrides);
      const version = versionRow(secret, 1);
      await dataSource.transaction(async (manager) => {
        const store = new SecretStore(manager);
        await store.insertSecret(secret);
        await store.insertVersion(version);
      });
      return { secret, version };
    }

    const typeormSecret = (scope: TenantScope, id: string) => new SecretStore(dataSource.manager).secret(scope, id);
    const typeormVersion = (scope: TenantScope, secretId: string, id: string) => new SecretStore(dataSource.manager).version(scope, secretId, id);
    const unscoped: TenantScope[] = [
      { accountId: '', instanceGuid: randomUUID() },
      { accountId: 'acct', instanceGuid: '' },
    ];

    describe('secretView', () => {
      it('answers the instance, the secret, its current version and its locks as the TypeORM stores read them', async () => {
        const scope = await newInstance();
        const { secret, version } = await seeded(scope);
        await new LockStore(dataSource.manager).insert(
          ['a', 'b'].map((lock) => ({ ...scope, secretId: secret.id, versionId: version.id, name: lock, secretGroupId: 'default', description: null, attributes: null, createdAt: T0, createdBy: 'x', updatedAt: T0 })),
        );
        const view = await queries.secretView(scope, secret.id);
        expect(view.instance).toEqual(await new RegistryStore(dataSource.manager).instance(scope));
        expect(view.secret).toEqual(await typeormSecret(scope, secret.id));
        expect(view.secret).toEqual(secret);
        expect(view.current).toEqual(await typeormVersion(scope, secret.id, version.id));
        expect(view.current).toEqual(version);
        expect(view.locks).toBe(2);
      });

      it('follows current_ordinal to the current version', async () => {
        const scope = await newInstance();
        const { secret } = await seeded(scope);
        const second = versionRow(secret, 2, { downloaded: true, autoRotated: true, expirationAt: T0 + 5 });
        await new SecretStore(dataSource.manager).insertVersion(second);
        await new SecretStore(dataSource.manager).updateSecret(scope, secret.id, { currentOrdinal: 2, versionsTotal: 2 });
        const view = await queries.secretView(scope, secret.id);
        expect(view.current).toEqual(second);
        expect(view.secret).toMatchObject({ currentOrdinal: 2, versionsTotal: 2 });
        expect(view.locks).toBe(0);
      });

      it('answers the instance alone for a secret it does not hold, nothing for another account, and a disabled instance as it is', async () => {
        const scope = await newInstance();
        const { secret } = await seeded(scope);
        const missing = await queries.secretView(scope, randomUUID());
        expect(missing.instance?.instanceGuid).toBe(scope.instanceGuid);
        expect(missing.secret).toBeUndefined();
        expect(missing.current).toBeUndefined();
        expect(await queries.secretView({ ...scope, accountId: 'another' }, secret.id)).toEqual({ locks: 0 });
        const other = await newInstance();
        expect((await queries.secretView(other, secret.id)).secret).toBeUndefined();
        const disabled = await newInstance('disabled');
        expect((await queries.secretView(disabled, randomUUID())).instance?.state).toBe('disabled');
      });

      it('refuses a call without the account or the instance', async () => {
        for (const scope of unscoped) await expect(queries.secretView(scope, randomUUID())).rejects.toThrow(/without an account id and an instance GUID/);
      });
    });

    describe('secretViewByName', () => {
      it('finds the secret by group name, type and name, with its current version and locks, as secretView does', async () => {
        const scope = await newInstance();
        const { secret } = await seeded(scope);
        const byName = await queries.secretViewByName(scope, 'default', 'arbitrary', secret.name);
        expect(byName).toEqual({ ...(await queries.secretView(scope, secret.id)), groupExists: true });
        expect(byName.secret).toEqual(secret);
      });

      it('says whether the group exists when the secret is not there, and answers nothing for another account', async () => {
        const scope = await newInstance();
        const { secret } = await seeded(scope);
        const otherType = await queries.secretViewByName(scope, 'default', 'kv', secret.name);
        expect(otherType).toMatchObject({ groupExists: true, locks: 0 });
        expect(otherType.secret).toBeUndefined();
        expect(otherType.instance?.instanceGuid).toBe(scope.instanceGuid);
        const noGroup = await queries.secretViewByName(scope, 'nope', 'arbitrary', secret.name);
        expect(noGroup).toMatchObject({ groupExists: false });
        expect(noGroup.secret).toBeUndefined();
        expect(await queries.secretViewByName({ ...scope, accountId: 'another' }, 'default', 'arbitrary', secret.name)).toEqual({ locks: 0, groupExists: false });
        for (const unscopedCall of unscoped) await expect(queries.secretViewByName(unscopedCall, 'default', 'arbitrary', 'x')).rejects.toThrow(/without an account id/);
      });
    });

    describe('placement', () => {
      it('says whether the group exists and whether the name is taken for the type in the group', async () => {
        const scope = await newInstance();
        const { secret } = await seeded(scope);
        const free = await queries.placement(scope, 'default', 'arbitrary', 'free-name', 1000);
        expect(free).toEqual({ instance: await new RegistryStore(dataSource.manager).instance(scope), groupExists: true, nameTaken: false, secretsTotal: 1 });
        expect(await queries.placement(scope, 'default', 'arbitrary', secret.name, 1000)).toMatchObject({ groupExists: true, nameTaken: true });
        expect(await queries.placement(scope, 'default', 'kv', secret.name, 1000)).toMatchObject({ nameTaken: false });
        expect(await queries.placement(scope, randomUUID(), 'arbitrary', secret.name, 1000)).toMatchObject({ groupExists: false, nameTaken: false });
        expect(await queries.placement({ ...scope, accountId: 'another' }, 'default', 'arbitrary', secret.name, 1000)).toEqual({ groupExists: false, nameTaken: false, secretsTotal: 0 });
      });

      it("counts the instance's secrets, of every group and type, only up to the number asked for", async () => {
        const scope = await newInstance();
        await seeded(scope);
        await seeded(scope, { secretType: 'kv' });
        await seeded(scope);
        expect((await queries.placement(scope, 'default', 'arbitrary', 'free-name', 1000)).secretsTotal).toBe(3);
        expect((await queries.placement(scope, 'default', 'arbitrary', 'free-name', 2)).secretsTotal).toBe(2);
        expect((await queries.placement(await newInstance(), 'default', 'arbitrary', 'free-name', 1000)).secretsTotal).toBe(0);
      });

      it('refuses a call without the account or the instance', async () => {
        for (const scope of unscoped) await expect(queries.placement(scope, 'default', 'arbitrary', 'x', 1000)).rejects.toThrow(/without an account id/);
      });
    });

    describe('insertCreated', () => {
      it('writes the secret, its labels and its first version as the TypeORM stores read them', async () => {
        const scope = await newInstance();
        const secret = secretRow(scope, { labels: ['x', 'y', 'z'], retrievedAt: null, nextRotationAt: T0 + 9 });
        const version = versionRow(secret, 1, { versionCustomMetadata: { a: [1, 2] }, expirationAt: T0 + 7 });
        expect(await dataSource.transaction((manager) => queries.insertCreated(manager, secret, version))).toBe(true);
        expect(await typeormSecret(scope, secret.id)).toEqual(secret);
        expect(await typeormVersion(scope, secret.id, version.id)).toEqual(version);
        const plan = { offset: 0, limit: 10, orderBy: [{ column: 'id' as const, direction: 'asc' as const, nulls: 'last' as const }], filters: { labels: ['y', 'z'] } };
        expect((await new SecretStore(dataSource.manager).list(scope, plan)).rows.map((row) => row.id)).toEqual([secret.id]);
        const unlabeled = secretRow(scope, { labels: [] });
        expect(await dataSource.transaction((manager) => queries.insertCreated(manager, unlabeled, versionRow(unlabeled, 1)))).toBe(true);
        expect(await typeormSecret(scope, unlabeled.id)).toEqual(unlabeled);
      });

      it('inserts nothing when the instance is not active or the group is missing', async () => {
        const disabled = await newInstance('disabled');
        const inDisabled = secretRow(disabled);
        expect(await dataSource.transaction((manager) => queries.insertCreated(manager, inDisabled, versionRow(inDisabled, 1)))).toBe(false);
        expect(await typeormSecret(disabled, inDisabled.id)).toBeNull();
        const scope = await newInstance();
        const noGroup = secretRow(scope, { groupId: randomUUID() });
        const version = versionRow(noGroup, 1);
        expect(await dataSource.transaction((manager) => queries.insertCreated(manager, noGroup, version))).toBe(false);
        expect(await typeormSecret(scope, noGroup.id)).toBeNull();
        expect(await typeormVersion(scope, noGroup.id, version.id)).toBeNull();
      });

      it('fails on the unique index when the name was taken meanwhile, and rolls back with the transaction', async () => {
        const scope = await newInstance();
        const { secret } = await seeded(scope);
        const again = secretRow(scope, { name: secret.name });
        const error = await dataSource.transaction((manager) => queries.insertCreated(manager, again, versionRow(again, 1))).catch((reason: unknown) => reason);
        expect(isUniqueViolation(error)).toBe(true);
        const rolledBack = secretRow(scope);
        await expect(
          dataSource.transaction(async (manager) => {
            await queries.insertCreated(manager, rolledBack, versionRow(rolledBack, 1));
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect(await typeormSecret(scope, rolledBack.id)).toBeNull();
      });

      it('refuses a row without the account or the instance', async () => {
        for (const scope of unscoped) {
          const secret = secretRow(scope);
          await expect(dataSource.transaction((manager) => queries.insertCreated(manager, secret, versionRow(secret, 1)))).rejects.toThrow(/without an account id/);
        }
      });
    });

    describe('recordReads', () => {
      it('moves retrieved_at forward only, marks downloaded versions, and the secret only while the read ordinal is current', async () => {
        const scope = await newInstance();
        const { secret, version } = await seeded(scope);
        const { secret: other, version: otherVersion } = await seeded(scope);
        await queries.recordReads([
          { ...scope, secretId: secret.id, retrievedAt: T0 + 100, currentOrdinal: 1, versionIds: [version.id] },
          // A read of ordinal 2 as current: not this secret's current ordinal (1), so it stays not downloaded.
          { ...scope, secretId: other.id, retrievedAt: T0 + 50, currentOrdinal: 2, versionIds: [] },
          { ...scope, secretId: randomUUID(), retrievedAt: T0, versionIds: [randomUUID()] },
        ]);
        expect(await typeormSecret(scope, secret.id)).toMatchObject({ downloaded: true, retrievedAt: T0 + 100 });
        expect(await typeormVersion(scope, secret.id, version.id)).toMatchObject({ downloaded: true });
        expect(await typeormSecret(scope, other.id)).toMatchObject({ downloaded: false, retrievedAt: T0 + 50 });
        expect(await typeormVersion(scope, other.id, otherVersion.id)).toMatchObject({ downloaded: false });
        // An older read (another replica's late flush) does not move retrieved_at back or undo downloaded.
        await queries.recordReads([{ ...scope, secretId: secret.id, retrievedAt: T0 + 10, versionIds: [] }]);
        expect(await typeormSecret(scope, secret.id)).toMatchObject({ downloaded: true, retrievedAt: T0 + 100 });
        // Other rows are untouched.
        expect(await typeormSecret(scope, other.id)).toEqual({ ...other, retrievedAt: T0 + 50 });
      });

      it('writes only within the named account and instance', async () => {
        const scope = await newInstance();
        const { secret } = await seeded(scope);
        await queries.recordReads([{ accountId: 'another', instanceGuid: scope.instanceGuid, secretId: secret.id, retrievedAt: T0, currentOrdinal: 1, versionIds: [] }]);
        expect(await typeormSecret(scope, secret.id)).toEqual(secret);
        for (const unscopedMark of unscoped) {
          await expect(queries.recordReads([{ ...unscopedMark, secretId: secret.id, retrievedAt: T0, versionIds: [] }])).rejects.toThrow(/without an account id/);
        }
      });
    });

    describe('committed rows only', () => {
      it("does not see another transaction's uncommitted rows, nor wait for it to end", async () => {
        const scope = await newInstance();
        const secret = secretRow(scope);
        const during = await dataSource.transaction(async (manager) => {
          await new SecretStore(manager).insertSecret(secret);
          await new SecretStore(manager).insertVersion(versionRow(secret, 1));
          // Awaited while the transaction is open: a read that waited for the connection would never return.
          return {
            view: await queries.secretView(scope, secret.id),
            placement: await queries.placement(scope, 'default', secret.secretType, secret.name, 1000),
          };
        });
        expect(during.view.instance?.instanceGuid).toBe(scope.instanceGuid);
        expect(during.view.secret).toBeUndefined();
        expect(during.placement.nameTaken).toBe(false);
        expect((await queries.secretView(scope, secret.id)).secret).toEqual(secret);
        expect((await queries.placement(scope, 'default', secret.secretType, secret.name, 1000)).nameTaken).toBe(true);
      });
    });
  });
}
