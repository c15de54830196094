import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

const bigint = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });
const varchar = (name: string, length: number, isNullable = false) => ({ name, type: 'varchar', length: String(length), isNullable });
const text = (name: string, isNullable = false) => ({ name, type: 'text', isNullable });

/** The private_cert engine's configurations: root CAs, intermediate CAs and certificate templates. */
export class PrivateCertConfigurations1765000000001 implements MigrationInterface {
  name = 'PrivateCertConfigurations1765000000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'private_cert_configurations',
        columns: [
          { ...varchar('instance_guid', 36), isPrimary: true },
          { ...varchar('name', 128), isPrimary: true },
          varchar('account_id', 64),
          varchar('id', 36),
          varchar('config_type', 64),
          text('settings'),
          varchar('status', 32, true),
          varchar('issuer', 128, true),
          text('certificate', true),
          text('ca_chain'),
          text('csr', true),
          varchar('key_id', 36, true),
          text('sealed_key', true),
          text('revoked'),
          text('crl', true),
          { name: 'crl_number', type: 'integer' },
          bigint('crl_next_update', true),
          bigint('expiration_at', true),
          bigint('created_at'),
          varchar('created_by', 200),
          bigint('updated_at'),
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('private_cert_configurations');
  }
}
