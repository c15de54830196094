import { openServiceDatabase, schemaOf, type DatabaseConfig } from '@sealbox/platform';
import { testDatabases } from '@sealbox/platform/testing';
import { describe, expect, it } from 'vitest';
import { Kms1764500000001 } from './1764500000001-kms.js';
import { kmsEntities, KeyEntity, KeyVersionEntity } from './entities.js';
import { kmsMigrations } from './migrations.js';

const CREATED = Date.UTC(2025, 10, 30, 12, 0, 0);
const ROTATED = Date.UTC(2026, 0, 31, 8, 0, 0);

/** Keys as Kms1764500000001 stored them (fixed test values, inlined). */
async function seedLegacy(config: DatabaseConfig): Promise<void> {
  const legacy = await openServiceDatabase({ service: 'kms', config, entities: [], migrations: [Kms1764500000001] });
  const table = (name: string) => (config.type === 'postgres' ? `"${schemaOf('kms')}"."${name}"` : `"${name}"`);
  const key = (id: string, state: number, imported: boolean, rotationEnabled: boolean, interval: number | null, rotatedAt: number | null) =>
    legacy.query(
      `INSERT INTO ${table('kms_keys')} (id, account_id, instance_id, name, description, state, nonactive_reason, imported, created_at, created_by,
         updated_at, rotated_at, expires_at, current_version_id, current_version_at, dual_auth_delete, rotation_enabled, rotation_interval_month,
         set_for_deletion_by, set_for_deletion_at, deleted_at, deleted_by, row_version)
       VALUES ('${id}', 'acc1', 'kp-1', 'key ${id}', NULL, ${state}, NULL, ${imported ? 'TRUE' : 'FALSE'}, ${CREATED}, 'IBMid-a',
         ${CREATED}, ${rotatedAt ?? 'NULL'}, NULL, 'v-${id}', ${CREATED}, FALSE, ${rotationEnabled ? 'TRUE' : 'FALSE'}, ${interval ?? 'NULL'},
         NULL, NULL, ${state === 5 ? CREATED : 'NULL'}, ${state === 5 ? "'IBMid-a'" : 'NULL'}, 1)`,
    );
  try {
    await legacy.query(
      `INSERT INTO ${table('kms_instances')} (id, account_id, service_name, region, provider, provider_state, master_key_status, created_at, row_version)
       VALUES ('kp-1', 'acc1', 'kms', 'us-south', 'key-protect', '{}', 'not_applicable', ${CREATED}, 1)`,
    );
    await key('generated', 1, false, true, 3, null);
    await key('rotated', 2, false, true, 1, ROTATED);
    await key('imported', 1, true, true, 1, null);
    await key('disabled-policy', 1, false, false, 1, null);
    await key('no-policy', 1, false, false, null, null);
    await key('deleted', 5, false, true, 1, null);
    await legacy.query(
      `INSERT INTO ${table('kms_key_versions')} (id, key_id, account_id, instance_id, created_at, material, fingerprint)
       VALUES ('v-generated', 'generated', 'acc1', 'kp-1', ${CREATED}, 'blob', NULL)`,
    );
  } finally {
    await legacy.destroy();
  }
}

function describeMigration(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`KmsSchedules migration (${name})`, () => {
    it('adds extractable (false), next_rotation_at (backfilled from enabled policies), sealed_payload and the scheduler indexes; can be reverted', async () => {
      const { config, cleanup } = await database();
      try {
        await seedLegacy(config);
        const current = await openServiceDatabase({ service: 'kms', config, entities: kmsEntities, migrations: kmsMigrations });
        try {
          const keys = await current.getRepository(KeyEntity).find({ order: { id: 'ASC' } });
          expect(Object.fromEntries(keys.map((key) => [key.id, [key.extractable, key.nextRotationAt]]))).toEqual({
            deleted: [false, null],
            'disabled-policy': [false, null],
            generated: [false, Date.UTC(2026, 1, 28, 12, 0, 0)],
            imported: [false, null],
            'no-policy': [false, null],
            rotated: [false, Date.UTC(2026, 1, 28, 8, 0, 0)],
          });
          expect(await current.getRepository(KeyVersionEntity).findOneByOrFail({ id: 'v-generated' })).toMatchObject({ material: 'blob', sealedPayload: null });

          const runner = current.createQueryRunner();
          const shape = async (table: string) => {
            const found = await runner.getTable(table);
            if (!found) throw new Error(`table ${table} is missing`);
            return { columns: found.columns.map((column) => column.name), indices: found.indices.map((index) => index.name) };
          };
          try {
            expect((await shape('kms_keys')).indices).toEqual(expect.arrayContaining(['kms_keys_listing', 'kms_keys_rotation_due', 'kms_keys_purge_due']));
            await current.undoLastMigration({ transaction: 'each' });
            const keysAfter = await shape('kms_keys');
            expect(keysAfter.columns).not.toContain('extractable');
            expect(keysAfter.columns).not.toContain('next_rotation_at');
            expect(keysAfter.indices).not.toContain('kms_keys_rotation_due');
            expect(keysAfter.indices).not.toContain('kms_keys_purge_due');
            expect(keysAfter.indices).toContain('kms_keys_listing');
            expect((await shape('kms_key_versions')).columns).not.toContain('sealed_payload');
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
