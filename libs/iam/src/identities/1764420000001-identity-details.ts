import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { tablePath } from './table-path.js';

const versioning = () => [
  new TableColumn({ name: 'entity_tag', type: 'integer', default: 1 }),
  new TableColumn({ name: 'created_by', type: 'varchar', length: '120', default: "''" }),
  new TableColumn({ name: 'modified_at', type: 'bigint', default: 0 }),
];

/**
 * Service IDs and manageable API keys: descriptions, an entity tag (version counter) for If-Match,
 * the creator and the modification time; indexes for paging and per-identity lookups; the first-start
 * administrator and key recorded in the bootstrap row (so deleting that key does not break restarts).
 * Existing rows are backfilled: modified = created, and every existing identity and key was created
 * by the first-start administrator itself.
 */
export class IdentityDetails1764420000001 implements MigrationInterface {
  name = 'IdentityDetails1764420000001';

  async up(runner: QueryRunner): Promise<void> {
    const identities = tablePath(runner, 'identities');
    const apiKeys = tablePath(runner, 'api_keys');
    const bootstrap = tablePath(runner, 'bootstrap_state');

    await runner.addColumns('identities', [
      new TableColumn({ name: 'description', type: 'varchar', length: '1024', default: "''" }),
      ...versioning(),
    ]);
    await runner.query(`UPDATE ${identities} SET modified_at = created_at, created_by = iam_id`);
    await runner.createIndex(
      'identities',
      new TableIndex({ name: 'identities_page', columnNames: ['account_id', 'kind', 'created_at', 'iam_id'] }),
    );

    await runner.addColumns('api_keys', versioning());
    await runner.query(`UPDATE ${apiKeys} SET modified_at = created_at, created_by = iam_id`);
    await runner.createIndex('api_keys', new TableIndex({ name: 'api_keys_identity', columnNames: ['iam_id'] }));
    await runner.createIndex('api_keys', new TableIndex({ name: 'api_keys_page', columnNames: ['account_id', 'created_at', 'id'] }));

    await runner.addColumns('bootstrap_state', [
      new TableColumn({ name: 'admin_iam_id', type: 'varchar', length: '120', isNullable: true }),
      new TableColumn({ name: 'apikey_id', type: 'varchar', length: '64', isNullable: true }),
    ]);
    // Before this migration keys could not be deleted, so the first-start key is still there.
    await runner.query(
      `UPDATE ${bootstrap} SET
         apikey_id = (SELECT k.id FROM ${apiKeys} k WHERE k.account_id = ${bootstrap}.account_id ORDER BY k.created_at, k.id LIMIT 1),
         admin_iam_id = (SELECT k.iam_id FROM ${apiKeys} k WHERE k.account_id = ${bootstrap}.account_id ORDER BY k.created_at, k.id LIMIT 1)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumns('bootstrap_state', ['admin_iam_id', 'apikey_id']);
    await runner.dropIndex('api_keys', 'api_keys_page');
    await runner.dropIndex('api_keys', 'api_keys_identity');
    await runner.dropColumns('api_keys', ['entity_tag', 'created_by', 'modified_at']);
    await runner.dropIndex('identities', 'identities_page');
    await runner.dropColumns('identities', ['description', 'entity_tag', 'created_by', 'modified_at']);
  }
}
