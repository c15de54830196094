import { QueryFailedError } from 'typeorm';
import { DomainError, serviceUnavailable } from '../errors/domain-error.js';

/**
 * PostgreSQL SQLSTATEs and socket errors that mean "the connection went away", not "the query was
 * wrong": class 08 (connection exception), 57P01–57P03 (the backend was terminated, the server is
 * shutting down or not accepting connections yet), 53300 (too many connections), and the driver's
 * socket errors.
 */
const LOST_CODES: ReadonlySet<string> = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What node-postgres says (without a code) when a connection died under a query or cannot be made. */
const LOST_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
  'Connection ended unexpectedly',
  'Client was closed and is not queryable',
];

function codeOf(error: object): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether a failure is the database connection being lost or unreachable (TypeORM's QueryFailedError
 * around the driver's error, or the driver's own error from a pool connect or hand-written SQL).
 * Such a failure says nothing about the request: the statement may be retried on a fresh connection.
 */
export function isConnectionLoss(error: unknown): boolean {
  const driverError = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  for (const candidate of [driverError, (driverError as { cause?: unknown } | null)?.cause]) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const code = codeOf(candidate);
    if (code !== undefined && (LOST_CODES.has(code) || code.startsWith('08'))) return true;
    const message = (candidate as { message?: unknown }).message;
    if (typeof message === 'string' && LOST_MESSAGES.some((text) => message.includes(text))) return true;
  }
  return false;
}

/** The 503 a lost database connection is answered with, naming the service whose database it is. */
export function databaseUnavailable(service: string): DomainError {
  return serviceUnavailable(`The database of the ${service} service cannot be reached`);
}
