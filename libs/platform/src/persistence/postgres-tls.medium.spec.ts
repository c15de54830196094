/**
 * A service's database over TLS, against a private PostgreSQL cluster that accepts TLS with a client
 * certificate only (testing/private-postgres.ts): the settings a service reads (postgresConfigOf)
 * connect with the right CA and certificate, and every lesser configuration is refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki } from '../testing/pki.js';
import { startPrivatePostgres, type PrivatePostgres } from '../testing/private-postgres.js';
import { openServiceDatabase } from './database.js';
import { postgresConfigOf } from './postgres-tls.js';

const ROLE = 'sealbox_iam';
const DATABASE = 'sealbox_tls';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('PostgreSQL over TLS (a private cluster: hostssl with client certificates only)', () => {
  let directory: string;
  let cluster: PrivatePostgres;
  let settings: Record<string, string>;
  let otherCa: ReturnType<typeof createTestPki>;
  let startMs: number;

  /** openServiceDatabase with the settings a service would read; the DataSource is closed again. */
  async function open(overrides: Record<string, string | undefined>, service: 'iam' | 'kms' = 'iam'): Promise<string> {
    const merged = Object.fromEntries(Object.entries({ ...settings, ...overrides }).filter(([, value]) => value !== undefined)) as Record<string, string>;
    const config = postgresConfigOf({
      SEALBOX_DATABASE_URL: merged['SEALBOX_DATABASE_URL'] ?? '',
      SEALBOX_DATABASE_TLS_MODE: merged['SEALBOX_DATABASE_TLS_MODE'] as 'disable' | 'require' | 'verify-full' | undefined,
      SEALBOX_DATABASE_TLS_CA_FILE: merged['SEALBOX_DATABASE_TLS_CA_FILE'],
      SEALBOX_DATABASE_TLS_CERT_FILE: merged['SEALBOX_DATABASE_TLS_CERT_FILE'],
      SEALBOX_DATABASE_TLS_KEY_FILE: merged['SEALBOX_DATABASE_TLS_KEY_FILE'],
    });
    const dataSource = await openServiceDatabase({ service, config, entities: [], migrations: [] });
    try {
      const rows: { ssl: boolean; version: string }[] = await dataSource.query('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return rows[0]?.ssl ? `tls ${rows[0].version}` : 'plain';
    } finally {
      await dataSource.destroy();
    }
  }

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'sealbox-pg-tls-'));
    const started = performance.now();
    cluster = await startPrivatePostgres({ directory, port: await freePort(), roles: [ROLE] });
    startMs = performance.now() - started;
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${ROLE} LOGIN`);
      await admin.query(`CREATE DATABASE ${DATABASE} OWNER ${ROLE}`);
    } finally {
      await admin.end();
    }
    settings = cluster.serviceSettings(DATABASE, ROLE);
    otherCa = createTestPki(join(directory, 'other-ca'), { caName: 'Another CA', clients: [ROLE] });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('connects with the CA and a client certificate (verify-full), creates its schema and works', async () => {
    process.stdout.write(`private PostgreSQL started in ${Math.round(startMs)} ms\n`);
    expect(await open({})).toMatch(/^tls TLSv1\.[23]$/);
    const config = postgresConfigOf({ ...settings, SEALBOX_DATABASE_URL: settings['SEALBOX_DATABASE_URL'] ?? '' });
    const dataSource = await openServiceDatabase({ service: 'iam', config, entities: [], migrations: [] });
    try {
      await dataSource.query('CREATE TABLE IF NOT EXISTS tls_probe (value text)');
      await dataSource.query("INSERT INTO tls_probe VALUES ('over tls')");
      const rows: { schema: string; value: string }[] = await dataSource.query('SELECT current_schema() AS schema, value FROM tls_probe');
      expect(rows).toEqual([{ schema: 'sealbox_iam', value: 'over tls' }]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('encrypts without checking the server in require mode (no CA), still with the client certificate', async () => {
    expect(await open({ SEALBOX_DATABASE_TLS_MODE: 'require', SEALBOX_DATABASE_TLS_CA_FILE: undefined })).toMatch(/^tls /);
  });

  it('refuses a server whose certificate another CA signed, saying which setting to check', async () => {
    await expect(open({ SEALBOX_DATABASE_TLS_CA_FILE: otherCa.caFile })).rejects.toThrow(
      /^PostgreSQL TLS: the server certificate is not signed by a trusted CA \(SELF_SIGNED_CERT_IN_CHAIN: .*\); check SEALBOX_DATABASE_TLS_CA_FILE/,
    );
  });

  it('refuses verify-full against the public CAs (no CA file) for a server with a private CA', async () => {
    await expect(open({ SEALBOX_DATABASE_TLS_CA_FILE: undefined })).rejects.toThrow(/server certificate is not signed by a trusted CA/);
  });

  it('is refused by the server without TLS (pg_hba.conf: hostssl only)', async () => {
    await expect(
      open({ SEALBOX_DATABASE_TLS_MODE: undefined, SEALBOX_DATABASE_TLS_CA_FILE: undefined, SEALBOX_DATABASE_TLS_CERT_FILE: undefined, SEALBOX_DATABASE_TLS_KEY_FILE: undefined }),
    ).rejects.toThrow(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "sealbox_iam", database "sealbox_tls", no encryption/);
  });

  it('is refused by the server over TLS without a client certificate', async () => {
    await expect(open({ SEALBOX_DATABASE_TLS_CERT_FILE: undefined, SEALBOX_DATABASE_TLS_KEY_FILE: undefined })).rejects.toThrow(
      /connection requires a valid client certificate|certificate authentication failed/,
    );
  });

  it('is refused by the server with a client certificate another CA signed', async () => {
    const stranger = otherCa.client(ROLE);
    await expect(open({ SEALBOX_DATABASE_TLS_CERT_FILE: stranger.certFile, SEALBOX_DATABASE_TLS_KEY_FILE: stranger.keyFile })).rejects.toThrow(/unknown ca|certificate/i);
  });

  it('is refused by the server with a valid certificate of another role (CN is the role)', async () => {
    const superuser = cluster.pki.client('postgres');
    await expect(open({ SEALBOX_DATABASE_TLS_CERT_FILE: superuser.certFile, SEALBOX_DATABASE_TLS_KEY_FILE: superuser.keyFile })).rejects.toThrow(
      /certificate authentication failed for user "sealbox_iam"/,
    );
  });

  // Last: it swaps the cluster's pg_hba.conf for the compose stack's.
  it("with docker/postgres/pg_hba.conf (the compose stack's): TLS, the role's password and a client certificate of the CA, all three", async () => {
    const password = randomBytes(12).toString('hex');
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE sealbox_kms LOGIN PASSWORD '${password}'`);
      await admin.query(`GRANT CREATE ON DATABASE ${DATABASE} TO sealbox_kms`);
      const composeHba = readFileSync(fileURLToPath(new URL('../../../../docker/postgres/pg_hba.conf', import.meta.url)), 'utf8');
      writeFileSync(join(cluster.dataDir, 'pg_hba.conf'), composeHba);
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
    // The compose stack's apps show their NATS client certificate (CN = app, not the role): verify-ca.
    const appCertificate = cluster.pki.client(ROLE);
    const asKms = {
      SEALBOX_DATABASE_URL: `postgres://sealbox_kms:${password}@127.0.0.1:${cluster.port}/${DATABASE}`,
      SEALBOX_DATABASE_TLS_CERT_FILE: appCertificate.certFile,
      SEALBOX_DATABASE_TLS_KEY_FILE: appCertificate.keyFile,
    };
    await expect.poll(() => open(asKms, 'kms').catch((error: unknown) => String(error)), { timeout: 5000 }).toMatch(/^tls /);
    await expect(open({ ...asKms, SEALBOX_DATABASE_TLS_CERT_FILE: undefined, SEALBOX_DATABASE_TLS_KEY_FILE: undefined }, 'kms')).rejects.toThrow(
      /connection requires a valid client certificate/,
    );
    await expect(
      open({ ...asKms, SEALBOX_DATABASE_TLS_CA_FILE: undefined, SEALBOX_DATABASE_TLS_CERT_FILE: undefined, SEALBOX_DATABASE_TLS_KEY_FILE: undefined }, 'kms'),
    ).rejects.toThrow(/no encryption/);
    await expect(open({ ...asKms, SEALBOX_DATABASE_URL: `postgres://sealbox_kms:wrong@127.0.0.1:${cluster.port}/${DATABASE}` }, 'kms')).rejects.toThrow(
      /password authentication failed for user "sealbox_kms"/,
    );
  });
});
