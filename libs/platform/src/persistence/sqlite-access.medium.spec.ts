/** serializeSqliteAccess with a group WAL fsync on a real SQLite file: every commit awaits an fsync that began after it. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupSync } from './group-sync.js';
import { serializeSqliteAccess, walFsync } from './sqlite-access.js';

describe('SQLite access with group commit', () => {
  let dir: string;
  let path: string;
  let dataSource: DataSource;
  let observer: Database.Database;
  /** What each fsync saw from a separate connection when it began: the rows committed by then. */
  const seenAtFsync: number[] = [];

  const committedRows = () => (observer.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-sqlite-sync-'));
    path = join(dir, 'db.sqlite');
    dataSource = new DataSource({ type: 'better-sqlite3', database: path, enableWAL: true });
    await dataSource.initialize();
    await dataSource.query('PRAGMA synchronous = NORMAL');
    await dataSource.query('CREATE TABLE t (id integer PRIMARY KEY)');
    observer = new Database(path, { readonly: true });
    const fsync = walFsync(path);
    serializeSqliteAccess(
      dataSource,
      new GroupSync(async () => {
        seenAtFsync.push(committedRows());
        await fsync();
      }),
    );
  });
  afterAll(async () => {
    observer?.close();
    await dataSource?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a transaction resolves after an fsync that began once its rows were committed', async () => {
    const before = seenAtFsync.length;
    await dataSource.transaction((manager) => manager.query('INSERT INTO t VALUES (1)'));
    expect(seenAtFsync.slice(before)).toEqual([1]);
  });

  it('so does a write outside any transaction and an implicit transaction; a read or a rollback needs none', async () => {
    let before = seenAtFsync.length;
    await dataSource.query('INSERT INTO t VALUES (2)');
    expect(seenAtFsync.slice(before)).toEqual([2]);
    before = seenAtFsync.length;
    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    await runner.query('INSERT INTO t VALUES (3)');
    await runner.commitTransaction();
    expect(seenAtFsync.slice(before)).toEqual([3]);
    before = seenAtFsync.length;
    await dataSource.query('SELECT * FROM t');
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.query('INSERT INTO t VALUES (4)');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(seenAtFsync.length).toBe(before);
  });

  it('concurrent commits share fsyncs', async () => {
    const before = seenAtFsync.length;
    await Promise.all(Array.from({ length: 20 }, (_, index) => dataSource.transaction((manager) => manager.query(`INSERT INTO t VALUES (${100 + index})`))));
    const used = seenAtFsync.length - before;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(20);
    expect(committedRows()).toBe(23);
  });
});
