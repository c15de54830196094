import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { tablePath } from './table-path.js';

/**
 * Account identity settings: who may create API keys (`restrict_create_platform_apikey`, NOT_SET =
 * Sealbox's default, restricted) and their version for If-Match; the account's owner (its first
 * administrator, who cannot be removed). Existing accounts get the default settings and, as owner,
 * their first user.
 */
export class AccountSettings1764700000002 implements MigrationInterface {
  name = 'AccountSettings1764700000002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumns('accounts', [
      new TableColumn({ name: 'restrict_create_platform_apikey', type: 'varchar', length: '16', default: "'NOT_SET'" }),
      new TableColumn({ name: 'settings_entity_tag', type: 'integer', default: 1 }),
      new TableColumn({ name: 'owner_iam_id', type: 'varchar', length: '120', isNullable: true }),
    ]);
    const accounts = tablePath(runner, 'accounts');
    const identities = tablePath(runner, 'identities');
    await runner.query(
      `UPDATE ${accounts} SET owner_iam_id = (SELECT i.iam_id FROM ${identities} i
         WHERE i.account_id = ${accounts}.id AND i.kind = 'user' ORDER BY i.created_at, i.iam_id LIMIT 1)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumns('accounts', ['restrict_create_platform_apikey', 'settings_entity_tag', 'owner_iam_id']);
  }
}
