/**
 * The dependencies the distributed secrets rows cannot avoid, driven directly as the services drive
 * them, so each secrets row can say how far it is from them (its `dependency` ratio):
 * - `s3.raw.get` / `s3.raw.put`: the `minio` client (configured as the storage driver configures it:
 *   path style, retries off) against s3rver in a child process, one object of the size a secrets row
 *   stores (the envelope of a 64-byte `arbitrary` secret); put writes a new key each time, as creates do;
 * - `pg.raw.select` / `.c1`: a `pg` pool of 10 connections (the services' pool size) on a fresh
 *   database, a named primary-key SELECT of one row out of 1,000.
 * In flight: BENCH_CONNECTIONS (16), as the HTTP rows, or 1 for `.c1`.
 */
import { Client } from 'minio';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { BenchCase, Measurement } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { measureLoop } from '../loop.js';
import { createBenchDatabase, startS3rver, stopChild } from '../stack/distributed.js';

/**
 * Bytes of the object a secrets row stores: the envelope of the 64-byte `arbitrary` payload the rows
 * create (the stored size of one under a key-protect root key, measured on the standalone app's bucket).
 */
export const SECRET_ENVELOPE_BYTES = 285;
/** The services' pool size (TypeORM `extra.max` in libs/platform persistence). */
const POOL_SIZE = 10;
const ROWS = 1000;
const BUCKET = 'sbx-bench';

async function measureS3(settings: BenchSettings, operation: 'get' | 'put'): Promise<Measurement> {
  const directory = mkdtempSync(join(tmpdir(), 'sealbox-bench-s3-'));
  const s3 = await startS3rver(directory);
  try {
    const url = new URL(s3.endpoint);
    const client = new Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      region: 'us-east-1',
      pathStyle: true,
      retryOptions: { disableRetry: true },
    });
    await client.makeBucket(BUCKET, 'us-east-1');
    const body = Buffer.alloc(SECRET_ENVELOPE_BYTES, 7);
    const key = 'secrets/bench/versions/read';
    await client.putObject(BUCKET, key, body, body.length);
    let counter = 0;
    const get = async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of await client.getObject(BUCKET, key)) chunks.push(chunk as Buffer);
      if (Buffer.concat(chunks).length !== SECRET_ENVELOPE_BYTES) throw new Error('s3rver answered another object');
    };
    const put = async () => {
      await client.putObject(BUCKET, `secrets/bench/versions/${counter++}`, body, body.length);
    };
    return await warmThenLoop(operation === 'get' ? get : put, settings, settings.connections);
  } finally {
    await stopChild(s3.child);
    rmSync(directory, { recursive: true, force: true });
  }
}

async function measurePg(settings: BenchSettings, inFlight: number): Promise<Measurement> {
  const database = await createBenchDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: POOL_SIZE });
  try {
    await pool.query('CREATE TABLE bench_rows (id varchar(36) PRIMARY KEY, account_id varchar(64) NOT NULL, body text NOT NULL)');
    await pool.query(
      "INSERT INTO bench_rows SELECT 'row-' || g, 'account', repeat('x', 200) FROM generate_series(0, $1::int - 1) AS g",
      [ROWS],
    );
    await pool.query('ANALYZE bench_rows');
    let counter = 0;
    const select = async () => {
      const id = `row-${counter++ % ROWS}`;
      const result = await pool.query({ name: 'bench_select', text: 'SELECT id, account_id, body FROM bench_rows WHERE id = $1', values: [id] });
      if (result.rows.length !== 1) throw new Error(`no row ${id}`);
    };
    return await warmThenLoop(select, settings, inFlight);
  } finally {
    await pool.end();
    await database.drop();
  }
}

async function warmThenLoop(operation: () => Promise<void>, settings: BenchSettings, concurrency: number): Promise<Measurement> {
  if (settings.warmupS > 0) await measureLoop(operation, { durationMs: settings.warmupS * 1000, concurrency });
  return { unit: 'ops/s', ...(await measureLoop(operation, { durationMs: settings.durationS * 1000, concurrency })) };
}

export function dependencyCases(settings: BenchSettings): BenchCase[] {
  const inFlight = `${settings.connections} in flight`;
  return [
    {
      name: 's3.raw.get',
      description: `minio client GET of one ${SECRET_ENVELOPE_BYTES}-byte object from s3rver (child process); ${inFlight}`,
      run: (current) => measureS3(current, 'get'),
    },
    {
      name: 's3.raw.put',
      description: `minio client PUT of a ${SECRET_ENVELOPE_BYTES}-byte object under a new key to s3rver (child process); ${inFlight}`,
      run: (current) => measureS3(current, 'put'),
    },
    {
      name: 'pg.raw.select',
      description: `pg pool (${POOL_SIZE} connections), named primary-key SELECT of one row of ${ROWS} on a fresh database; ${inFlight}`,
      run: (current) => measurePg(current, current.connections),
    },
    {
      name: 'pg.raw.select.c1',
      description: `the same SELECT one at a time: its p50 is a database round trip`,
      baseline: 'pg.raw.select',
      run: (current) => measurePg(current, 1),
    },
  ];
}
