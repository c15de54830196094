import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const bigint = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });
const varchar = (name: string, length: number, isNullable = false) => ({ name, type: 'varchar', length: String(length), isNullable });
const text = (name: string, isNullable = false) => ({ name, type: 'text', isNullable });
const integer = (name: string) => ({ name, type: 'integer' });
const boolean = (name: string) => ({ name, type: 'boolean' });

const index = (name: string, columnNames: string[], isUnique = false) => new TableIndex({ name, columnNames, isUnique });

/**
 * Secrets, their versions and their labels. Listing reads one instance in the order of the sort
 * column then id, so each sortable column has an (instance, column, id) index; the schedulers find
 * due rotations and expiry notices by index across instances.
 */
export class SecretsAndVersions1764600000002 implements MigrationInterface {
  name = 'SecretsAndVersions1764600000002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'secrets',
        columns: [
          { ...varchar('instance_guid', 36), isPrimary: true },
          { ...varchar('id', 36), isPrimary: true },
          varchar('account_id', 64),
          varchar('secret_group_id', 36),
          varchar('name', 256),
          varchar('secret_type', 32),
          text('description', true),
          text('labels'),
          text('custom_metadata', true),
          integer('state'),
          bigint('created_at'),
          varchar('created_by', 200),
          bigint('updated_at'),
          bigint('expiration_at', true),
          text('details'),
          integer('versions_total'),
          integer('current_ordinal'),
          boolean('downloaded'),
          bigint('retrieved_at', true),
          bigint('next_rotation_at', true),
          integer('expiry_notice'),
        ],
      }),
    );
    await runner.createIndex('secrets', index('secrets_by_name', ['instance_guid', 'secret_group_id', 'secret_type', 'name'], true));
    await runner.createIndex('secrets', index('secrets_by_created', ['instance_guid', 'created_at', 'id']));
    await runner.createIndex('secrets', index('secrets_by_updated', ['instance_guid', 'updated_at', 'id']));
    await runner.createIndex('secrets', index('secrets_by_name_sort', ['instance_guid', 'name', 'id']));
    await runner.createIndex('secrets', index('secrets_by_type', ['instance_guid', 'secret_type', 'id']));
    await runner.createIndex('secrets', index('secrets_by_expiration', ['instance_guid', 'expiration_at', 'id']));
    await runner.createIndex('secrets', index('secrets_by_retrieved', ['instance_guid', 'retrieved_at', 'id']));
    await runner.createIndex('secrets', index('secrets_due_rotation', ['next_rotation_at']));
    await runner.createIndex('secrets', index('secrets_due_expiry', ['expiry_notice', 'expiration_at']));

    await runner.createTable(
      new Table({
        name: 'secret_versions',
        columns: [
          { ...varchar('instance_guid', 36), isPrimary: true },
          { ...varchar('id', 36), isPrimary: true },
          varchar('account_id', 64),
          varchar('secret_id', 36),
          integer('ordinal'),
          bigint('created_at'),
          varchar('created_by', 200),
          boolean('payload_available'),
          text('version_custom_metadata', true),
          boolean('downloaded'),
          boolean('auto_rotated'),
          bigint('expiration_at', true),
          text('details'),
        ],
      }),
    );
    await runner.createIndex('secret_versions', index('secret_versions_ordinal', ['instance_guid', 'secret_id', 'ordinal'], true));

    await runner.createTable(
      new Table({
        name: 'secret_labels',
        columns: [
          { ...varchar('instance_guid', 36), isPrimary: true },
          { ...varchar('secret_id', 36), isPrimary: true },
          { ...varchar('label', 64), isPrimary: true },
          varchar('account_id', 64),
        ],
      }),
    );
    await runner.createIndex('secret_labels', index('secret_labels_by_label', ['instance_guid', 'label']));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('secret_labels');
    await runner.dropTable('secret_versions');
    await runner.dropTable('secrets');
  }
}
