import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class Identities1764374500000 implements MigrationInterface {
  name = 'Identities1764374500000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'accounts',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'identities',
        columns: [
          { name: 'iam_id', type: 'varchar', length: '120', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'kind', type: 'varchar', length: '20' },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex('identities', new TableIndex({ name: 'identities_account', columnNames: ['account_id'] }));
    await runner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'iam_id', type: 'varchar', length: '120' },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'description', type: 'varchar', length: '1024', default: "''" },
          { name: 'lookup', type: 'varchar', length: '16' },
          { name: 'hash', type: 'varchar', length: '200' },
          { name: 'locked', type: 'boolean', default: false },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await runner.createIndex('api_keys', new TableIndex({ name: 'api_keys_lookup', columnNames: ['lookup'] }));
    await runner.createIndex('api_keys', new TableIndex({ name: 'api_keys_account', columnNames: ['account_id'] }));
    await runner.createTable(
      new Table({
        name: 'bootstrap_state',
        columns: [
          { name: 'id', type: 'varchar', length: '32', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'completed_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['bootstrap_state', 'api_keys', 'identities', 'accounts']) await runner.dropTable(table);
  }
}
