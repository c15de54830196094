/**
 * Secrets Manager v2 through the gateway of the distributed stack (seven processes over NATS,
 * PostgreSQL, s3rver, SoftHSM2; see ../stack/distributed.ts), loaded by autocannon with the admin's
 * Bearer token:
 * - create: POST /secrets, an `arbitrary` secret of 64 bytes under a new name per request (seal with
 *   a fresh DEK wrapped by kms on the HSM, envelope put to s3rver, metadata + outbox committed);
 * - get: GET /secrets/{id} of one secret again and again: metadata from PostgreSQL (one round trip),
 *   the envelope from the secrets service's envelope cache (s3rver once), opened by crypto with its DEK
 *   cache hot (default cache: kms unwraps once per 100 opens); `.c1` one request at a time;
 * - list: GET /secrets?limit=100 (first page, sorted by the default order) with 100 and with 10,000
 *   secrets in the instance (one made through the API, the others cloned from its rows: see `seed`).
 * Each row starts a stack of its own (a case runs in a fresh process); its ratio compares it with
 * the bare route (`http.fastify`) of the same run, the 10,000 row with the 100 row, and its
 * dependency ratio with the store it cannot avoid (./dependencies.ts): a create must put its envelope
 * to s3rver (`s3.raw.put`); a hot read and a list must ask PostgreSQL (`pg.raw.select`).
 */
import pg from 'pg';
import type { BenchCase, Measurement } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { gatewayJson, provisionSecretsInstance, startDistributedStack, type DistributedStack } from '../stack/distributed.js';
import { cannon, warmThenCannon } from './http.js';

const PAYLOAD = 'x'.repeat(64);
/** Starting the seven apps takes 30–60 s here, several times that on a loaded machine; seeding 10,000 rows more. */
const STACK_SETUP_S = 300;
const LIST_LIMIT = 100;

const secretsPath = (guid: string) => `/secrets-manager/${guid}/api/v2/secrets`;
const prototype = (name: string) => ({ secret_type: 'arbitrary', name, payload: PAYLOAD });

async function withStack<T>(run: (stack: DistributedStack, guid: string) => Promise<T>): Promise<T> {
  const stack = await startDistributedStack();
  try {
    return await run(stack, await provisionSecretsInstance(stack));
  } finally {
    await stack.stop();
  }
}

/**
 * `count` secrets in the instance: one created through the API, the others cloned from its rows in
 * SQL (its `secrets` and `secret_versions` rows with new ids and names, every other column as the
 * service wrote it), then ANALYZE, as autovacuum would after such a load. Listing reads metadata
 * only, so the clones list exactly like API-made secrets; creating 10,000 through the API would take
 * far longer than the row on this machine (each is a kms wrap on the HSM and an s3rver put).
 */
async function seed(stack: DistributedStack, guid: string, count: number): Promise<void> {
  const template = (await gatewayJson(stack, 'POST', secretsPath(guid), 201, prototype('seed-000000'))) as { id?: string };
  if (!template.id) throw new Error('the template secret was created without an id');
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    const schemas = await client.query<{ table_schema: string }>(
      "SELECT table_schema FROM information_schema.tables WHERE table_name = 'secrets' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    );
    if (schemas.rows.length !== 1) throw new Error(`expected one secrets table, found ${schemas.rows.length}`);
    const schema = `"${(schemas.rows[0]?.table_schema ?? '').replaceAll('"', '""')}"`;
    await client.query('BEGIN');
    await client.query(
      `CREATE TEMP TABLE bench_clones ON COMMIT DROP AS
         SELECT g, gen_random_uuid()::text AS secret_id, gen_random_uuid()::text AS version_id FROM generate_series(1, $1::int) AS g`,
      [count - 1],
    );
    await client.query(
      `INSERT INTO ${schema}.secrets
         SELECT (jsonb_populate_record(NULL::${schema}.secrets, to_jsonb(s) || jsonb_build_object('id', c.secret_id, 'name', 'seed-' || lpad(c.g::text, 6, '0')))).*
           FROM ${schema}.secrets s CROSS JOIN bench_clones c WHERE s.instance_guid = $1 AND s.id = $2`,
      [guid, template.id],
    );
    await client.query(
      `INSERT INTO ${schema}.secret_versions
         SELECT (jsonb_populate_record(NULL::${schema}.secret_versions, to_jsonb(v) || jsonb_build_object('id', c.version_id, 'secret_id', c.secret_id))).*
           FROM ${schema}.secret_versions v CROSS JOIN bench_clones c WHERE v.instance_guid = $1 AND v.secret_id = $2`,
      [guid, template.id],
    );
    await client.query('COMMIT');
    await client.query(`ANALYZE ${schema}.secrets`);
    await client.query(`ANALYZE ${schema}.secret_versions`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

async function measureCreate(settings: BenchSettings): Promise<Measurement> {
  return withStack(async (stack, guid) => {
    const url = `${stack.gatewayUrl}${secretsPath(guid)}`;
    const headers = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json', accept: 'application/json' };
    await gatewayJson(stack, 'POST', secretsPath(guid), 201, prototype('bench-preflight'));
    let counter = 0;
    // A new name per request (a name is unique in its group: a repeat would be a 409).
    const extra = (phase: string) => ({
      method: 'POST' as const,
      requests: [{ setupRequest: (request: object) => ({ ...request, body: JSON.stringify(prototype(`bench-${phase}-${counter++}`)) }) }],
    });
    if (settings.warmupS > 0) await cannon(url, settings.connections, settings.warmupS, headers, extra('warm'));
    return cannon(url, settings.connections, settings.durationS, headers, extra('run'));
  });
}

async function measureGet(settings: BenchSettings, connections = settings.connections): Promise<Measurement> {
  return withStack(async (stack, guid) => {
    const created = (await gatewayJson(stack, 'POST', secretsPath(guid), 201, prototype('bench-read'))) as { id?: string };
    if (!created.id) throw new Error('the secret was created without an id');
    return warmThenCannon(`${stack.gatewayUrl}${secretsPath(guid)}/${created.id}`, { ...settings, connections }, { authorization: `Bearer ${stack.token}` });
  });
}

async function measureList(settings: BenchSettings, secrets: number): Promise<Measurement> {
  return withStack(async (stack, guid) => {
    await seed(stack, guid, secrets);
    const page = (await gatewayJson(stack, 'GET', `${secretsPath(guid)}?limit=${LIST_LIMIT}`, 200)) as { total_count?: number; secrets?: unknown[] };
    if (page.total_count !== secrets || page.secrets?.length !== Math.min(LIST_LIMIT, secrets)) {
      throw new Error(`the seeded list answered total_count ${page.total_count} with ${page.secrets?.length} secrets, expected ${secrets}`);
    }
    return warmThenCannon(`${stack.gatewayUrl}${secretsPath(guid)}?limit=${LIST_LIMIT}`, settings, { authorization: `Bearer ${stack.token}` });
  });
}

export function secretsCases(settings: BenchSettings): BenchCase[] {
  const how = `distributed stack (7 processes, NATS, PostgreSQL, s3rver, SoftHSM2) started for the row; autocannon, ${settings.connections} connections, admin Bearer token`;
  return [
    {
      name: 'http.secrets.create',
      description: `SM v2 POST /secrets (arbitrary, 64 B, a new name per request: seal + kms wrap on the HSM + s3rver put + metadata); ${how}`,
      baseline: 'http.fastify',
      dependency: 's3.raw.put',
      setupS: STACK_SETUP_S,
      run: measureCreate,
    },
    {
      name: 'http.secrets.get',
      description: `SM v2 GET /secrets/{id} of one secret (metadata from PostgreSQL, envelope from the secrets service's cache after the first read, opened by crypto with its DEK cache hot); ${how}`,
      baseline: 'http.fastify',
      dependency: 'pg.raw.select',
      setupS: STACK_SETUP_S,
      run: (current) => measureGet(current),
    },
    {
      name: 'http.secrets.get.c1',
      description: `the same GET one request at a time (1 connection): its p50 is the latency of a read; ${how.replace(`${settings.connections} connections`, '1 connection')}`,
      baseline: 'http.secrets.get',
      dependency: 'pg.raw.select.c1',
      setupS: STACK_SETUP_S,
      run: (current) => measureGet(current, 1),
    },
    {
      name: 'http.secrets.list.100',
      description: `SM v2 GET /secrets?limit=${LIST_LIMIT} (first page) with 100 secrets in the instance (1 through the API, 99 cloned from its rows in SQL); ${how}`,
      baseline: 'http.fastify',
      dependency: 'pg.raw.select',
      setupS: STACK_SETUP_S,
      run: (current) => measureList(current, 100),
    },
    {
      name: 'http.secrets.list.10000',
      description: `SM v2 GET /secrets?limit=${LIST_LIMIT} (first page) with 10,000 secrets in the instance (1 through the API, 9,999 cloned from its rows in SQL); ${how}`,
      baseline: 'http.secrets.list.100',
      dependency: 'pg.raw.select',
      setupS: STACK_SETUP_S,
      run: (current) => measureList(current, 10_000),
    },
  ];
}
