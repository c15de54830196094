import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { databaseUnavailable, isConnectionLoss } from './connection-loss.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const queryFailed = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

describe('isConnectionLoss', () => {
  it.each([
    ['a terminated backend (57P01)', queryFailed(pgError('57P01', 'terminating connection due to administrator command'))],
    ['a crash shutdown (57P02)', queryFailed(pgError('57P02'))],
    ['a server not accepting connections yet (57P03)', pgError('57P03')],
    ['a connection exception (08006)', queryFailed(pgError('08006'))],
    ['a refused connection', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset socket', queryFailed(pgError('ECONNRESET'))],
    ['node-postgres losing the socket under a query', queryFailed(new Error('Connection terminated unexpectedly'))],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['a cause that is one of these', Object.assign(new Error('wrapped'), { cause: pgError('ECONNREFUSED') })],
  ])('is true for %s', (_name, error) => {
    expect(isConnectionLoss(error)).toBe(true);
  });

  it.each([
    ['a unique violation', queryFailed(pgError('23505'))],
    ['a syntax error', queryFailed(pgError('42601'))],
    ['a serialization failure', queryFailed(pgError('40001'))],
    ['an SQLite constraint', queryFailed(pgError('SQLITE_CONSTRAINT_UNIQUE'))],
    ['a plain error', new Error('business rule failed')],
    ['a string', 'Connection terminated'],
    ['nothing', undefined],
  ])('is false for %s', (_name, error) => {
    expect(isConnectionLoss(error)).toBe(false);
  });
});

describe('databaseUnavailable', () => {
  it('is SERVICE_UNAVAILABLE naming the service whose database is away', () => {
    const error = databaseUnavailable('secrets');
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toBe('The database of the secrets service cannot be reached');
  });
});
