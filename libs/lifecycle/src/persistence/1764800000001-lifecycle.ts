import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const text = (name: string, length: string, nullable = false) => ({ name, type: 'varchar', length, isNullable: nullable });
const ms = (name: string, nullable = false) => ({ name, type: 'bigint', isNullable: nullable });

/** Resource instances, reclamations, retired plans and the provider's root keys. */
export class Lifecycle1764800000001 implements MigrationInterface {
  name = 'Lifecycle1764800000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'resource_instances',
        columns: [
          { ...text('guid', '36'), isPrimary: true },
          text('account_id', '64'),
          text('crn', '512'),
          text('name', '180'),
          text('service', '64'),
          text('plan_id', '128'),
          text('region', '64'),
          text('resource_group_id', '64'),
          { name: 'tags', type: 'text' },
          { name: 'parameters', type: 'text' },
          { name: 'allow_cleanup', type: 'boolean' },
          { name: 'locked', type: 'boolean' },
          { name: 'purge_protection', type: 'boolean' },
          text('state', '32'),
          text('kms_mode', '16', true),
          text('kms_account_id', '64', true),
          text('kms_instance_id', '128', true),
          text('kms_key_id', '128', true),
          { name: 'plan_history', type: 'text' },
          ms('created_at'),
          text('created_by', '200'),
          ms('updated_at'),
          text('updated_by', '200'),
          ms('deleted_at', true),
          text('deleted_by', '200', true),
          text('deletion_reason', '16', true),
          ms('scheduled_reclaim_at', true),
          ms('restored_at', true),
          text('restored_by', '200', true),
          ms('plan_change_due_at', true),
          text('op_type', '32'),
          text('op_sub_type', '32', true),
          text('op_state', '16'),
          text('op_description', '1024', true),
          text('saga', '16', true),
          text('saga_step', '32', true),
          text('saga_status', '16', true),
          text('saga_reason', '1024', true),
          ms('saga_lease_until', true),
          text('reclamation_id', '36', true),
        ],
      }),
    );
    await runner.createIndex('resource_instances', new TableIndex({ name: 'resource_instances_account_order', columnNames: ['account_id', 'created_at', 'guid'] }));
    await runner.createIndex('resource_instances', new TableIndex({ name: 'resource_instances_crn', columnNames: ['crn'], isUnique: true }));
    await runner.createIndex('resource_instances', new TableIndex({ name: 'resource_instances_plan', columnNames: ['plan_id', 'state'] }));
    await runner.createIndex('resource_instances', new TableIndex({ name: 'resource_instances_saga', columnNames: ['saga_status', 'saga_lease_until'] }));
    await runner.createIndex('resource_instances', new TableIndex({ name: 'resource_instances_plan_change_due', columnNames: ['plan_change_due_at'] }));

    await runner.createTable(
      new Table({
        name: 'reclamations',
        columns: [
          { ...text('id', '36'), isPrimary: true },
          text('account_id', '64'),
          text('instance_guid', '36'),
          text('instance_crn', '512'),
          text('resource_group_id', '64'),
          text('state', '16'),
          ms('target_time'),
          text('reason', '16'),
          { name: 'purge_protection', type: 'boolean' },
          ms('created_at'),
          text('created_by', '200'),
          ms('updated_at'),
          text('updated_by', '200'),
        ],
      }),
    );
    await runner.createIndex('reclamations', new TableIndex({ name: 'reclamations_due', columnNames: ['state', 'target_time'] }));
    await runner.createIndex('reclamations', new TableIndex({ name: 'reclamations_account', columnNames: ['account_id', 'instance_guid'] }));

    await runner.createTable(new Table({ name: 'retired_plans', columns: [{ ...text('plan_id', '128'), isPrimary: true }, ms('retired_at')] }));
    await runner.createTable(
      new Table({
        name: 'provider_keys',
        columns: [{ ...text('region', '64'), isPrimary: true }, text('account_id', '64'), text('kms_instance_id', '128'), text('key_id', '128'), ms('created_at')],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('provider_keys');
    await runner.dropTable('retired_plans');
    await runner.dropTable('reclamations');
    await runner.dropTable('resource_instances');
  }
}

export const lifecycleMigrations = [Lifecycle1764800000001];
