/** The guards of the hand-written SQL helpers (their reads and writes are covered by the secrets queries' conformance suite). */
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlReader, sqlInTransaction } from './raw-sql.js';

describe('hand-written SQL helpers', () => {
  let memory: DataSource;

  beforeAll(async () => {
    memory = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    await memory.initialize();
  });
  afterAll(async () => {
    await memory?.destroy();
  });

  it('refuses an SQLite reader on :memory: (a second connection would see another database)', () => {
    expect(() => openSqlReader(memory)).toThrow(/need a database file/);
  });

  it('refuses statements outside a transaction', async () => {
    expect(() => sqlInTransaction(memory.manager)).toThrow(/open transaction/);
    await memory.transaction(async (manager) => {
      expect(await sqlInTransaction(manager).rows({ name: 'one', text: 'SELECT $1 AS a, $2 AS b, $1 AS c' }, ['x', true])).toEqual([{ a: 'x', b: 1, c: 'x' }]);
    });
  });
});
