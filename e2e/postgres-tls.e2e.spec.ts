import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { stackInfo, type StackApp } from './harness/context.js';
import { POSTGRES_SERVER } from './harness/infra.js';

const stack = stackInfo();
const DATABASE_APPS = ['gateway', 'iam', 'kms', 'secrets', 'lifecycle'] as const satisfies readonly StackApp[];
/** PostgreSQL's log line for a connection (log_connections): role, database, application, and the TLS of it. */
const CONNECTION_AUTHORIZED = /connection authorized: user=(\S+) database=(\S+) application_name=(\S+) SSL enabled \(protocol=([^,]+),/g;

async function asSuperuser<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** How a connection attempt with `config` ends: 'connected', or the error's message. */
async function attempt(config: pg.ClientConfig): Promise<string> {
  const client = new pg.Client(config);
  try {
    await client.connect();
    await client.end();
    return 'connected';
  } catch (error) {
    await client.end().catch(() => undefined);
    return error instanceof Error ? error.message : String(error);
  }
}

// The run's own cluster only: SEALBOX_E2E_POSTGRES_URL names a plain server, for diagnosis.
describe.skipIf(!stack.databaseTls)('service traffic to PostgreSQL: TLS only, a client certificate per service role', () => {
  it('has every database-owning service connected over TLS, each as its own role', async () => {
    const database = new URL(stack.databaseUrl).pathname.slice(1);
    const rows = await asSuperuser((client) =>
      client
        .query<{ application_name: string; usename: string; ssl: boolean; version: string | null }>(
          `SELECT a.application_name, a.usename, s.ssl, s.version
             FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.datname = $1 AND a.application_name LIKE 'sealbox-%'`,
          [database],
        )
        .then((result) => result.rows),
    );
    // A pool closes its idle connections, so the log tells which apps connected (log_connections):
    // every one did, as its own role, over TLS.
    const authorized = [...readFileSync(join(stack.logDir, `${POSTGRES_SERVER}.log`), 'utf8').matchAll(CONNECTION_AUTHORIZED)]
      .filter((match) => match[2] === database)
      .map((match) => ({ user: match[1], application: match[3], protocol: match[4] }));
    for (const app of DATABASE_APPS) {
      const own = authorized.filter((entry) => entry.application === `sealbox-${app}`);
      expect(own.length, `connections of ${app}`).toBeGreaterThan(0);
      for (const entry of own) expect(entry, app).toMatchObject({ user: `sealbox_${app}`, protocol: expect.stringMatching(/^TLSv1\.[23]$/) as string });
    }
    // And every connection open now.
    for (const row of rows) {
      expect(row, row.application_name).toMatchObject({ ssl: true, usename: `sealbox_${row.application_name.slice('sealbox-'.length)}` });
      expect(row.version, row.application_name).toMatch(/^TLSv1\.[23]$/);
    }
  });

  it('refuses a service without TLS or without its client certificate', async () => {
    const env = stack.appEnv.secrets;
    const url = env['SEALBOX_DATABASE_URL'] ?? '';
    const ca = env['SEALBOX_DATABASE_TLS_CA_FILE'] ?? '';
    expect(ca).not.toBe('');
    const tls = { ca: readFileSync(ca, 'utf8') };
    const certificate = { cert: readFileSync(env['SEALBOX_DATABASE_TLS_CERT_FILE'] ?? '', 'utf8'), key: readFileSync(env['SEALBOX_DATABASE_TLS_KEY_FILE'] ?? '', 'utf8') };

    expect(await attempt({ connectionString: url, ssl: false })).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "sealbox_secrets", database "[^"]+", no encryption/);
    expect(await attempt({ connectionString: url, ssl: tls })).toMatch(/connection requires a valid client certificate|certificate authentication failed/);
    // Its own certificate is for its own role only.
    expect(await attempt({ connectionString: url.replace('sealbox_secrets@', 'sealbox_iam@'), ssl: { ...tls, ...certificate } })).toMatch(
      /certificate authentication failed for user "sealbox_iam"/,
    );
    expect(await attempt({ connectionString: url, ssl: { ...tls, ...certificate } })).toBe('connected');
  });
});
