import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class InstancesAndGroups1764600000001 implements MigrationInterface {
  name = 'InstancesAndGroups1764600000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'secret_instances',
        columns: [
          { name: 'instance_guid', type: 'varchar', length: '36', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'crn', type: 'varchar', length: '512' },
          { name: 'region', type: 'varchar', length: '64' },
          { name: 'kms_instance_id', type: 'varchar', length: '64' },
          { name: 'kms_key_id', type: 'varchar', length: '64' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex('secret_instances', new TableIndex({ name: 'secret_instances_account', columnNames: ['account_id', 'instance_guid'] }));
    await runner.createTable(
      new Table({
        name: 'secret_groups',
        columns: [
          { name: 'instance_guid', type: 'varchar', length: '36', isPrimary: true },
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'description', type: 'text', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'created_by', type: 'varchar', length: '200' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex(
      'secret_groups',
      new TableIndex({ name: 'secret_groups_name', columnNames: ['account_id', 'instance_guid', 'name'], isUnique: true }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('secret_groups');
    await runner.dropTable('secret_instances');
  }
}
