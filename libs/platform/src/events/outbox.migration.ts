import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Creates the outbox table; every service lists it among its migrations. */
export class CreateOutbox1764374400000 implements MigrationInterface {
  name = 'CreateOutbox1764374400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'outbox_events',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'subject', type: 'varchar', length: '200' },
          { name: 'envelope', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'attempts', type: 'integer', default: 0 },
        ],
      }),
    );
    await runner.createIndex('outbox_events', new TableIndex({ name: 'outbox_events_pending', columnNames: ['created_at'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('outbox_events');
  }
}
