import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Token revocations (what gateways refuse besides expired tokens) and the refresh chain of each
 * refresh token (one chain per API key sign-in, kept by its refreshes; older rows have none).
 */
export class TokenRevocations1764700000001 implements MigrationInterface {
  name = 'TokenRevocations1764700000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'token_revocations',
        columns: [
          { name: 'kind', type: 'varchar', length: '16', isPrimary: true },
          { name: 'subject_id', type: 'varchar', length: '120', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'reason', type: 'varchar', length: '32' },
          { name: 'revoked_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex('token_revocations', new TableIndex({ name: 'token_revocations_expiry', columnNames: ['expires_at'] }));
    await runner.addColumn('refresh_tokens', new TableColumn({ name: 'chain_id', type: 'varchar', length: '64', isNullable: true }));
    await runner.createIndex('refresh_tokens', new TableIndex({ name: 'refresh_tokens_chain', columnNames: ['chain_id'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropIndex('refresh_tokens', 'refresh_tokens_chain');
    await runner.dropColumn('refresh_tokens', 'chain_id');
    await runner.dropTable('token_revocations');
  }
}
