import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const bigint = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });
const varchar = (name: string, length: number, isNullable = false) => ({ name, type: 'varchar', length: String(length), isNullable });

/** Instances, keys, versions, aliases, policies, registrations, import tokens, service secrets. */
export class Kms1764500000001 implements MigrationInterface {
  name = 'Kms1764500000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'kms_instances',
        columns: [
          { ...varchar('id', 128), isPrimary: true },
          varchar('account_id', 64),
          varchar('service_name', 16),
          varchar('region', 64),
          varchar('provider', 16),
          { name: 'provider_state', type: 'text' },
          varchar('master_key_status', 16),
          bigint('created_at'),
          { name: 'row_version', type: 'integer' },
        ],
      }),
    );
    await runner.createIndex('kms_instances', new TableIndex({ name: 'kms_instances_account', columnNames: ['account_id'] }));

    await runner.createTable(
      new Table({
        name: 'kms_keys',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('account_id', 64),
          varchar('instance_id', 128),
          varchar('name', 90),
          varchar('description', 240, true),
          { name: 'state', type: 'integer' },
          { name: 'nonactive_reason', type: 'integer', isNullable: true },
          { name: 'imported', type: 'boolean' },
          bigint('created_at'),
          varchar('created_by', 200),
          bigint('updated_at'),
          bigint('rotated_at', true),
          bigint('expires_at', true),
          varchar('current_version_id', 36),
          bigint('current_version_at'),
          { name: 'dual_auth_delete', type: 'boolean' },
          { name: 'rotation_enabled', type: 'boolean' },
          { name: 'rotation_interval_month', type: 'integer', isNullable: true },
          varchar('set_for_deletion_by', 200, true),
          bigint('set_for_deletion_at', true),
          bigint('deleted_at', true),
          varchar('deleted_by', 200, true),
          { name: 'row_version', type: 'integer' },
        ],
      }),
    );
    await runner.createIndex(
      'kms_keys',
      new TableIndex({ name: 'kms_keys_listing', columnNames: ['account_id', 'instance_id', 'created_at', 'id'] }),
    );

    await runner.createTable(
      new Table({
        name: 'kms_key_versions',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          varchar('key_id', 36),
          varchar('account_id', 64),
          varchar('instance_id', 128),
          bigint('created_at'),
          { name: 'material', type: 'text' },
          varchar('fingerprint', 64, true),
        ],
      }),
    );
    await runner.createIndex('kms_key_versions', new TableIndex({ name: 'kms_key_versions_key', columnNames: ['key_id', 'created_at'] }));

    await runner.createTable(
      new Table({
        name: 'kms_key_aliases',
        columns: [
          { ...varchar('instance_id', 128), isPrimary: true },
          { ...varchar('alias', 90), isPrimary: true },
          varchar('key_id', 36),
          varchar('account_id', 64),
          bigint('created_at'),
          varchar('created_by', 200),
        ],
      }),
    );
    await runner.createIndex('kms_key_aliases', new TableIndex({ name: 'kms_key_aliases_key', columnNames: ['key_id'] }));

    await runner.createTable(
      new Table({
        name: 'kms_key_policies',
        columns: [
          { ...varchar('key_id', 36), isPrimary: true },
          { ...varchar('policy_type', 16), isPrimary: true },
          varchar('id', 36),
          varchar('account_id', 64),
          varchar('instance_id', 128),
          bigint('created_at'),
          varchar('created_by', 200),
          bigint('updated_at'),
          varchar('updated_by', 200),
        ],
      }),
    );

    await runner.createTable(
      new Table({
        name: 'kms_registrations',
        columns: [
          { ...varchar('key_id', 36), isPrimary: true },
          { ...varchar('resource_crn', 512), isPrimary: true },
          varchar('account_id', 64),
          varchar('instance_id', 128),
          { name: 'prevent_key_deletion', type: 'boolean' },
          varchar('description', 256, true),
          varchar('key_version_id', 36),
          bigint('created_at'),
          varchar('created_by', 200),
          bigint('updated_at'),
        ],
      }),
    );
    await runner.createIndex(
      'kms_registrations',
      new TableIndex({ name: 'kms_registrations_instance', columnNames: ['account_id', 'instance_id', 'created_at'] }),
    );

    await runner.createTable(
      new Table({
        name: 'kms_import_tokens',
        columns: [
          { ...varchar('instance_id', 128), isPrimary: true },
          varchar('account_id', 64),
          bigint('created_at'),
          varchar('created_by', 200),
          bigint('expires_at'),
          { name: 'expiration', type: 'integer' },
          { name: 'max_retrievals', type: 'integer' },
          { name: 'remaining_retrievals', type: 'integer' },
          { name: 'public_key', type: 'text' },
          { name: 'sealed_private_key', type: 'text' },
          varchar('nonce', 64),
        ],
      }),
    );

    await runner.createTable(
      new Table({
        name: 'kms_service_secrets',
        columns: [{ ...varchar('name', 64), isPrimary: true }, { name: 'sealed', type: 'text' }, bigint('created_at')],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'kms_service_secrets',
      'kms_import_tokens',
      'kms_registrations',
      'kms_key_policies',
      'kms_key_aliases',
      'kms_key_versions',
      'kms_keys',
      'kms_instances',
    ]) {
      await runner.dropTable(table);
    }
  }
}

