import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Token signing keys (sealed by the master key) and refresh tokens (hashes only). */
export class TokenSigningKeysAndRefreshTokens1764400000001 implements MigrationInterface {
  name = 'TokenSigningKeysAndRefreshTokens1764400000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'signing_keys',
        columns: [
          { name: 'kid', type: 'varchar', length: '64', isPrimary: true },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'public_jwk', type: 'text' },
          { name: 'private_key_sealed', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'retire_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    // At most one active key, even when replicas start or rotate at the same moment.
    await runner.createIndex(
      'signing_keys',
      new TableIndex({ name: 'signing_keys_one_active', columnNames: ['state'], isUnique: true, where: "state = 'active'" }),
    );
    await runner.createTable(
      new Table({
        name: 'refresh_tokens',
        columns: [
          { name: 'token_hash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'apikey_id', type: 'varchar', length: '120' },
          { name: 'iam_id', type: 'varchar', length: '120' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'used_at', type: 'bigint', isNullable: true },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await runner.createIndex('refresh_tokens', new TableIndex({ name: 'refresh_tokens_apikey', columnNames: ['account_id', 'apikey_id'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('refresh_tokens');
    await runner.dropTable('signing_keys');
  }
}
