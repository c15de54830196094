import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../testing/postgres.js';
import { describeServiceDatabaseConformance } from '../testing/service-database-conformance.js';
import { describe, expect, it } from 'vitest';
import { openServiceDatabase, schemaOf } from './database.js';

describeServiceDatabaseConformance('PostgreSQL', {
  async fresh() {
    const database = await createTestDatabase();
    return { config: { type: 'postgres', url: database.url }, drop: () => database.drop() };
  },
  async tablesOf(dataSource, service) {
    const rows: { table_name: string }[] = await dataSource.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schemaOf(service)],
    );
    // Nothing leaked into the default schema.
    const outside: unknown[] = await dataSource.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    if (outside.length) throw new Error(`tables outside the service schema: ${JSON.stringify(outside)}`);
    return rows.map((row) => row.table_name);
  },
});

describeServiceDatabaseConformance('SQLite', {
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-sqlite-'));
    return {
      // A nested folder: openServiceDatabase creates it.
      config: { type: 'sqlite', path: join(dir, 'data', 'iam.sqlite') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  async tablesOf(dataSource) {
    const rows: { name: string }[] = await dataSource.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    return rows.map((row) => row.name);
  },
});

describe('SQLite durability', () => {
  it('runs WAL at synchronous NORMAL (commits are fsynced by the group sync instead)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-sqlite-'));
    try {
      const dataSource = await openServiceDatabase({ service: 'secrets', config: { type: 'sqlite', path: join(dir, 'secrets.sqlite') }, entities: [], migrations: [] });
      try {
        expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
        expect(await dataSource.query('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
        // A write through the serialized connection is fsynced (on the real file) before it resolves.
        await dataSource.query('CREATE TABLE t (id integer PRIMARY KEY)');
        await dataSource.transaction((manager) => manager.query('INSERT INTO t VALUES (1)'));
        expect(await dataSource.query('SELECT id FROM t')).toEqual([{ id: 1 }]);
      } finally {
        await dataSource.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
