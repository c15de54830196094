import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * API keys that another service manages (`managed_by`, e.g. `secrets-manager` for the keys of
 * `iam_credentials` secrets), and the index the expiry sweep reads them by: (managed_by, expires_at).
 * Existing keys are users' own: `managed_by` stays null.
 */
export class ManagedApiKeys1764650000001 implements MigrationInterface {
  name = 'ManagedApiKeys1764650000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('api_keys', new TableColumn({ name: 'managed_by', type: 'varchar', length: '64', isNullable: true }));
    await runner.createIndex('api_keys', new TableIndex({ name: 'api_keys_managed_expiry', columnNames: ['managed_by', 'expires_at'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropIndex('api_keys', 'api_keys_managed_expiry');
    await runner.dropColumn('api_keys', 'managed_by');
  }
}
