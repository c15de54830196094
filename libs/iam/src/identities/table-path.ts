import type { QueryRunner } from 'typeorm';

/** `"schema"."table"` on PostgreSQL (TypeORM sets no search_path), `"table"` on SQLite: for raw SQL in migrations. */
export function tablePath(runner: QueryRunner, table: string): string {
  const options = runner.connection.options;
  const schema = options.type === 'postgres' ? options.schema : undefined;
  return schema ? `"${schema}"."${table}"` : `"${table}"`;
}
