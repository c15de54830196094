import { QueryFailedError } from 'typeorm';

const UNIQUE_CODES: ReadonlySet<string> = new Set(['23505', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']);

/**
 * A primary key or unique constraint refused the row (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_*):
 * TypeORM's QueryFailedError, or the driver's own error from hand-written SQL (`sqlInTransaction`).
 */
export function isUniqueViolation(error: unknown): boolean {
  const driverError = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  const code = typeof driverError === 'object' && driverError !== null ? (driverError as { code?: unknown }).code : undefined;
  return typeof code === 'string' && UNIQUE_CODES.has(code);
}
