/**
 * A database connection lost under a request (PostgreSQL terminating the backend, as an operator's
 * pg_terminate_backend or a failover does): the RPC handler answers 503 naming the database, never
 * INTERNAL, and a retry-safe request is run once more on a fresh connection before answering.
 */
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consume } from '../rpc/handler.js';
import { createTestDatabase, TEST_POSTGRES_ADMIN_URL } from '../testing/postgres.js';
import { openServiceDatabase } from './database.js';

describe('a lost PostgreSQL connection under an RPC handler', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  let admin: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openServiceDatabase({ service: 'iam', config: { type: 'postgres', url: database.url }, entities: [], migrations: [] });
    admin = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  /** Terminate every backend of the service's pool that is running a statement, once one is. */
  async function terminateWhenBusy(): Promise<number> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const result = await admin.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
          WHERE datname = $1 AND application_name = 'sealbox-iam' AND state = 'active' AND query LIKE '%pg_sleep%'`,
        [database.name],
      );
      if (result.rows.length > 0) return result.rows.length;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the statement never started');
  }

  it('runs a retry-safe request once more on a fresh connection and answers it', async () => {
    let runs = 0;
    const reply = consume('iam.health', {}, undefined, async () => {
      runs++;
      // The first run's connection is terminated while its statement runs.
      const rows: { pid: number }[] = await dataSource.query(runs === 1 ? 'SELECT pg_backend_pid() AS pid, pg_sleep(5)' : 'SELECT pg_backend_pid() AS pid');
      return { ok: true, pid: rows[0]?.pid } as never;
    });
    expect(await terminateWhenBusy()).toBe(1);
    expect(await reply).toMatchObject({ ok: { ok: true } });
    expect(runs).toBe(2);
  });

  it('answers SERVICE_UNAVAILABLE naming the database (not INTERNAL) for a request that is not retry-safe', async () => {
    let runs = 0;
    const reply = consume('iam.signing-key.rotate', {}, undefined, async () => {
      runs++;
      await dataSource.transaction((manager) => manager.query('SELECT pg_sleep(5)'));
      return {} as never;
    });
    await terminateWhenBusy();
    expect(await reply).toEqual({ err: { code: 'SERVICE_UNAVAILABLE', message: 'The database of the iam service cannot be reached' } });
    expect(runs).toBe(1);
    // The pool dropped the dead connection: the next statement works.
    await expect(dataSource.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });
});
