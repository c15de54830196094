/**
 * The secret list as it runs: SecretStore.list over a real database (SQLite and PostgreSQL), from a
 * plan of a parsed `listSecrets` query — filters, the order of missing values, and pages that return
 * each secret exactly once when many tie on the sort column.
 */
import { SecretsWire } from '@sealbox/contracts';
import { openServiceDatabase } from '@sealbox/platform';
import { testDatabases } from '@sealbox/platform/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageLinks, planSecretList } from '../domain/listing.js';
import { lockEntities, lockMigrations } from '../locks/index.js';
import { registryEntities, registryMigrations, RegistryStore, type TenantScope } from '../registry/index.js';
import { secretEntities, secretMigrations } from './index.js';
import { SecretStore } from './store.js';
import { ROWS_T0 as T0, secretRow } from './testing/rows.js';

const DAY = 86_400_000;
const PATH = '/api/v2/secrets';
const query = (raw: Record<string, string>) => SecretsWire.ListSecretsQuery.parse(raw);

for (const database of testDatabases) {
  describe(`listing secrets in SQL (${database.name})`, () => {
    let dataSource: DataSource;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await database.open();
      cleanup = opened.cleanup;
      dataSource = await openServiceDatabase({
        service: 'secrets',
        config: opened.config,
        entities: [...registryEntities, ...secretEntities, ...lockEntities],
        migrations: [...registryMigrations, ...secretMigrations, ...lockMigrations],
      });
    });
    afterAll(async () => {
      await dataSource?.destroy();
      await cleanup?.();
    });

    async function newInstance(groups: readonly string[] = []): Promise<TenantScope> {
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
        state: 'active',
        createdAt: T0,
        updatedAt: T0,
      });
      for (const id of ['default', ...groups]) {
        await store.insertGroup({ ...scope, id, name: id === 'default' ? 'default' : `g-${id.slice(0, 8)}`, description: null, createdAt: T0, createdBy: 'system', updatedAt: T0 });
      }
      return scope;
    }

    describe('filters and order', () => {
      const group = randomUUID();
      let scope: TenantScope;
      const names = async (raw: Record<string, string>) => (await new SecretStore(dataSource.manager).list(scope, planSecretList(query(raw)))).rows.map((row) => row.name);

      beforeAll(async () => {
        scope = await newInstance([group]);
        const store = new SecretStore(dataSource.manager);
        // Fixed ids: a random UUID could contain a searched text such as "db".
        const rows = [
          secretRow(scope, { id: '00000000-0000-4000-8000-000000000001', name: 'alpha', labels: ['prod', 'eu'], createdAt: T0 + 3 * DAY, expirationAt: T0 + 365 * DAY }),
          secretRow(scope, { id: '00000000-0000-4000-8000-000000000002', name: 'beta', description: 'The DB password', secretType: 'username_password', groupId: group }),
          secretRow(scope, { id: '00000000-0000-4000-8000-000000000003', name: 'gamma', labels: ['prod', 'Prod2'], secretType: 'kv', createdAt: T0 + 2 * DAY, expirationAt: T0 + 100 * DAY }),
          secretRow(scope, { id: '00000000-0000-4000-8000-000000000004', name: 'delta', secretType: 'kv', groupId: group }),
        ];
        for (const row of rows) await store.insertSecret(row);
      });

      it('filters by search (id, name, description, label, type; any case), groups, types and labels', async () => {
        expect(await names({ search: 'db' })).toEqual(['beta']);
        expect(await names({ search: 'GAM' })).toEqual(['gamma']);
        expect(await names({ search: 'password' })).toEqual(['beta']);
        expect(await names({ search: 'eu' })).toEqual(['alpha']);
        expect(await names({ search: '0000000004' })).toEqual(['delta']);
        expect(await names({ groups: group, sort: 'name' })).toEqual(['beta', 'delta']);
        expect(await names({ secret_types: 'kv', sort: 'name' })).toEqual(['delta', 'gamma']);
        expect(await names({ match_all_labels: 'prod', sort: 'name' })).toEqual(['alpha', 'gamma']);
        expect(await names({ match_all_labels: 'prod,eu' })).toEqual(['alpha']);
        expect(await names({ groups: 'default', secret_types: 'kv' })).toEqual(['gamma']);
      });

      it('matches labels exactly (case and whole label), and a search with LIKE wildcards literally', async () => {
        expect(await names({ match_all_labels: 'Prod' })).toEqual([]);
        expect(await names({ match_all_labels: 'pro' })).toEqual([]);
        expect(await names({ search: '%' })).toEqual([]);
        expect(await names({ search: '_' })).toEqual(['beta']); // its type, username_password
      });

      it('puts secrets without a value last ascending and first descending, and ties on id', async () => {
        expect((await names({ sort: 'expiration_date' })).slice(0, 2)).toEqual(['gamma', 'alpha']);
        expect((await names({ sort: '-expiration_date' })).slice(2)).toEqual(['alpha', 'gamma']);
        expect(await names({ sort: '-name' })).toEqual(['gamma', 'delta', 'beta', 'alpha']);
        // beta and delta share created_at: id decides, in the direction of the sort.
        expect(await names({ sort: 'created_at' })).toEqual(['beta', 'delta', 'gamma', 'alpha']);
        expect(await names({ sort: '-created_at' })).toEqual(['alpha', 'gamma', 'delta', 'beta']);
      });

      it('counts every match and pages them', async () => {
        const store = new SecretStore(dataSource.manager);
        const page = await store.list(scope, planSecretList(query({ sort: 'name', limit: '3', offset: '2' })));
        expect(page.totalCount).toBe(4);
        expect(page.rows.map((row) => row.name)).toEqual(['delta', 'gamma']);
        expect(await store.list(scope, planSecretList(query({ offset: '9' })))).toEqual({ rows: [], totalCount: 4 });
      });

      it('never lists another instance’s secrets', async () => {
        const other = await newInstance();
        await new SecretStore(dataSource.manager).insertSecret(secretRow(other, { name: 'alpha' }));
        expect(await names({})).toHaveLength(4);
      });
    });

    it('returns each secret exactly once across pages when many tie on the sort column', async () => {
      const scope = await newInstance();
      const store = new SecretStore(dataSource.manager);
      for (let index = 0; index < 230; index += 1) {
        await store.insertSecret(secretRow(scope, { name: `s-${index % 7}-${index}`, secretType: index % 2 ? 'kv' : 'arbitrary', expirationAt: index % 3 ? null : T0 + DAY }));
      }
      for (const sort of ['created_at', '-created_at', '-secret_type', 'expiration_date', '-expiration_date']) {
        const seen: string[] = [];
        let offset = 0;
        for (;;) {
          const { rows, totalCount } = await store.list(scope, planSecretList(query({ sort, limit: '50', offset: String(offset) })));
          seen.push(...rows.map((row) => row.id));
          const links = pageLinks({ path: PATH, query: {}, offset, limit: 50, totalCount });
          if (!links.next) break;
          offset = Number(new URL(links.next.href, 'http://relative.invalid').searchParams.get('offset'));
        }
        expect(seen, sort).toHaveLength(230);
        expect(new Set(seen).size, sort).toBe(230);
      }
    });
  });
}
