import { openServiceDatabase, schemaOf, type DatabaseConfig } from '@sealbox/platform';
import { testDatabases } from '@sealbox/platform/testing';
import { describe, expect, it } from 'vitest';
import { apiKeyMigrations } from '../apikeys/index.js';
import { AccountEntity, ApiKeyEntity, BootstrapStateEntity, iamEntities, IdentityEntity } from '../entities/index.js';
import { iamMigrations } from '../migrations/index.js';
import { identityMigrations } from './index.js';

const CREATED = 1_764_000_000_000;

/** Rows as the foundation wrote them before IdentityDetails1764420000001 (fixed test values, inlined). */
async function seedLegacy(config: DatabaseConfig): Promise<void> {
  const legacy = await openServiceDatabase({ service: 'iam', config, entities: [], migrations: iamMigrations });
  const table = (name: string) => (config.type === 'postgres' ? `"${schemaOf('iam')}"."${name}"` : `"${name}"`);
  try {
    await legacy.query(`INSERT INTO ${table('accounts')} (id, name, created_at) VALUES ('acc1', 'Sealbox', ${CREATED})`);
    await legacy.query(
      `INSERT INTO ${table('identities')} (iam_id, account_id, kind, name, created_at) VALUES ('IBMid-admin', 'acc1', 'user', 'admin', ${CREATED})`,
    );
    await legacy.query(
      `INSERT INTO ${table('api_keys')} (id, account_id, iam_id, name, description, lookup, hash, locked, created_at, expires_at)
       VALUES ('ApiKey-first', 'acc1', 'IBMid-admin', 'admin', 'Created on first start', '0123456789abcdef',
               'scrypt$1$1$1$s$h', false, ${CREATED}, NULL)`,
    );
    await legacy.query(`INSERT INTO ${table('bootstrap_state')} (id, account_id, completed_at) VALUES ('bootstrap', 'acc1', ${CREATED})`);
  } finally {
    await legacy.destroy();
  }
}

function describeMigration(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`IdentityDetails migration (${name})`, () => {
    it('backfills existing rows and can be reverted', async () => {
      const { config, cleanup } = await database();
      try {
        await seedLegacy(config);
        const current = await openServiceDatabase({
          service: 'iam',
          config,
          entities: iamEntities,
          // The later migrations too: the entities have their columns. They are undone first below.
          migrations: [...iamMigrations, ...identityMigrations, ...apiKeyMigrations],
        });
        try {
          // Existing accounts get the default settings.
          expect(await current.getRepository(AccountEntity).findOneByOrFail({ id: 'acc1' })).toMatchObject({
            restrictCreatePlatformApikey: 'NOT_SET',
            settingsEntityTag: 1,
            ownerIamId: 'IBMid-admin',
          });
          expect(await current.getRepository(BootstrapStateEntity).findOneByOrFail({ id: 'bootstrap' })).toMatchObject({
            accountId: 'acc1',
            adminIamId: 'IBMid-admin',
            apikeyId: 'ApiKey-first',
          });
          expect(await current.getRepository(IdentityEntity).findOneByOrFail({ iamId: 'IBMid-admin' })).toMatchObject({
            description: '',
            entityTag: 1,
            createdBy: 'IBMid-admin',
            createdAt: CREATED,
            modifiedAt: CREATED,
          });
          expect(await current.getRepository(ApiKeyEntity).findOneByOrFail({ id: 'ApiKey-first' })).toMatchObject({
            description: 'Created on first start',
            entityTag: 1,
            createdBy: 'IBMid-admin',
            modifiedAt: CREATED,
            locked: false,
            managedBy: null,
          });

          const runner = current.createQueryRunner();
          const shape = async (table: string) => {
            const found = await runner.getTable(table);
            if (!found) throw new Error(`table ${table} is missing`);
            return { columns: found.columns.map((column) => column.name), indices: found.indices.map((index) => index.name) };
          };
          try {
            expect((await shape('api_keys')).columns).toContain('entity_tag');
            expect((await shape('api_keys')).indices).toContain('api_keys_page');
            expect((await shape('api_keys')).columns).toContain('managed_by');
            expect((await shape('api_keys')).indices).toContain('api_keys_managed_expiry');
            expect((await shape('accounts')).columns).toContain('restrict_create_platform_apikey');
            await current.undoLastMigration({ transaction: 'each' }); // AccountSettings
            expect((await shape('accounts')).columns).not.toContain('restrict_create_platform_apikey');
            expect((await shape('accounts')).columns).not.toContain('settings_entity_tag');
            expect((await shape('accounts')).columns).not.toContain('owner_iam_id');
            await current.undoLastMigration({ transaction: 'each' }); // ManagedApiKeys
            expect((await shape('api_keys')).columns).not.toContain('managed_by');
            expect((await shape('api_keys')).indices).not.toContain('api_keys_managed_expiry');
            expect((await shape('api_keys')).columns).toContain('entity_tag');
            await current.undoLastMigration({ transaction: 'each' }); // IdentityDetails
            expect((await shape('api_keys')).columns).not.toContain('entity_tag');
            expect((await shape('api_keys')).indices).not.toContain('api_keys_page');
            expect((await shape('api_keys')).indices).toContain('api_keys_lookup');
            expect((await shape('identities')).columns).not.toContain('modified_at');
            expect((await shape('bootstrap_state')).columns).not.toContain('admin_iam_id');
          } finally {
            await runner.release();
          }
        } finally {
          await current.destroy();
        }
      } finally {
        await cleanup();
      }
    });
  });
}

for (const database of testDatabases) describeMigration(database.name, database.open);
