import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class Policies1764410000001 implements MigrationInterface {
  name = 'Policies1764410000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'policies',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'type', type: 'varchar', length: '16' },
          { name: 'subject_key', type: 'varchar', length: '200' },
          { name: 'resource_service', type: 'varchar', length: '512', isNullable: true },
          { name: 'subjects', type: 'text' },
          { name: 'roles', type: 'text' },
          { name: 'resources', type: 'text' },
          { name: 'description', type: 'varchar', length: '300', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'created_by', type: 'varchar', length: '200' },
          { name: 'last_modified_at', type: 'bigint' },
          { name: 'last_modified_by', type: 'varchar', length: '200' },
          { name: 'etag', type: 'varchar', length: '64' },
        ],
      }),
    );
    await runner.createIndex('policies', new TableIndex({ name: 'policies_subject', columnNames: ['account_id', 'type', 'subject_key'] }));
    await runner.createIndex(
      'policies',
      new TableIndex({ name: 'policies_account_order', columnNames: ['account_id', 'created_at', 'id'] }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('policies');
  }
}
