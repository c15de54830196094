import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { addMonthsUtc } from '../domain/schedules.js';

/** `"schema"."table"` on PostgreSQL, `"table"` on SQLite. */
function tablePath(runner: QueryRunner, table: string): string {
  const options = runner.connection.options;
  const schema = options.type === 'postgres' ? options.schema : undefined;
  return schema ? `"${schema}"."${table}"` : `"${table}"`;
}

/** Positional parameter `n` (1-based) in the driver's syntax. */
const parameter = (runner: QueryRunner, n: number) => (runner.connection.options.type === 'postgres' ? `$${n}` : '?');

interface ScheduledRow {
  id: string;
  created_at: number | string;
  rotated_at: number | string | null;
  rotation_interval_month: number | string;
}

/**
 * Standard keys and the two schedulers: `kms_keys.extractable` (false for every existing key: they are
 * root keys), `kms_keys.next_rotation_at` (when the rotation scheduler rotates the key; backfilled for
 * keys that already have an enabled rotation policy), `kms_key_versions.sealed_payload` (a standard
 * key's sealed material), and the indexes the schedulers query: (state, next_rotation_at) and
 * (state, deleted_at).
 */
export class KmsSchedules1764500000002 implements MigrationInterface {
  name = 'KmsSchedules1764500000002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumns('kms_keys', [
      new TableColumn({ name: 'extractable', type: 'boolean', default: false }),
      new TableColumn({ name: 'next_rotation_at', type: 'bigint', isNullable: true }),
    ]);
    await runner.addColumn('kms_key_versions', new TableColumn({ name: 'sealed_payload', type: 'text', isNullable: true }));
    await runner.createIndex('kms_keys', new TableIndex({ name: 'kms_keys_rotation_due', columnNames: ['state', 'next_rotation_at'] }));
    await runner.createIndex('kms_keys', new TableIndex({ name: 'kms_keys_purge_due', columnNames: ['state', 'deleted_at'] }));

    const keys = tablePath(runner, 'kms_keys');
    // Keys with an enabled rotation policy: due at their last rotation (or creation) plus the interval.
    // Imported and deleted keys are never rotated automatically.
    const rows = (await runner.query(
      `SELECT id, created_at, rotated_at, rotation_interval_month FROM ${keys}
        WHERE rotation_enabled = TRUE AND imported = FALSE AND state <> 5 AND rotation_interval_month IS NOT NULL`,
    )) as ScheduledRow[];
    for (const row of rows) {
      const next = addMonthsUtc(Number(row.rotated_at ?? row.created_at), Number(row.rotation_interval_month));
      await runner.query(`UPDATE ${keys} SET next_rotation_at = ${parameter(runner, 1)} WHERE id = ${parameter(runner, 2)}`, [next, row.id]);
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropIndex('kms_keys', 'kms_keys_purge_due');
    await runner.dropIndex('kms_keys', 'kms_keys_rotation_due');
    await runner.dropColumn('kms_key_versions', 'sealed_payload');
    await runner.dropColumns('kms_keys', ['next_rotation_at', 'extractable']);
  }
}
