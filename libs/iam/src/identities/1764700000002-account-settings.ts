import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Account identity settings: who may create API keys (`restrict_create_platform_apikey`, NOT_SET =
 * Sealbox's default, restricted) and their version for If-Match. Existing accounts get the default.
 */
export class AccountSettings1764700000002 implements MigrationInterface {
  name = 'AccountSettings1764700000002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumns('accounts', [
      new TableColumn({ name: 'restrict_create_platform_apikey', type: 'varchar', length: '16', default: "'NOT_SET'" }),
      new TableColumn({ name: 'settings_entity_tag', type: 'integer', default: 1 }),
    ]);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumns('accounts', ['restrict_create_platform_apikey', 'settings_entity_tag']);
  }
}
