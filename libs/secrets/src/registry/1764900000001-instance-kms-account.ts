import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** `secret_instances.kms_account_id`: the root key's account when it is not the instance's (provider-managed encryption). */
export class InstanceKmsAccount1764900000001 implements MigrationInterface {
  name = 'InstanceKmsAccount1764900000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('secret_instances', new TableColumn({ name: 'kms_account_id', type: 'varchar', length: '64', isNullable: true }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('secret_instances', 'kms_account_id');
  }
}
