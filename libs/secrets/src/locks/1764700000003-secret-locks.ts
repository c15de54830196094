import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class SecretLocks1764700000003 implements MigrationInterface {
  name = 'SecretLocks1764700000003';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'secret_locks',
        columns: [
          { name: 'instance_guid', type: 'varchar', length: '36', isPrimary: true },
          { name: 'secret_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'version_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'secret_group_id', type: 'varchar', length: '36' },
          { name: 'description', type: 'text', isNullable: true },
          { name: 'attributes', type: 'text', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'created_by', type: 'varchar', length: '200' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex(
      'secret_locks',
      new TableIndex({ name: 'secret_locks_secret', columnNames: ['account_id', 'instance_guid', 'secret_id', 'created_at'] }),
    );
    await runner.createIndex(
      'secret_locks',
      new TableIndex({ name: 'secret_locks_version', columnNames: ['account_id', 'instance_guid', 'secret_id', 'version_id', 'created_at'] }),
    );
    await runner.createIndex(
      'secret_locks',
      new TableIndex({ name: 'secret_locks_instance', columnNames: ['account_id', 'instance_guid', 'secret_group_id', 'secret_id'] }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('secret_locks');
  }
}
