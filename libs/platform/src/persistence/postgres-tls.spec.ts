import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/loader.js';
import { dataSourceOptions } from './database.js';
import { postgresConfigOf, postgresTlsError } from './postgres-tls.js';

const URL = 'postgres://sealbox_iam@db.internal:5432/sealbox';
const KEY = '-----BEGIN PRIVATE KEY-----\nTOP-SECRET-KEY-MATERIAL\n-----END PRIVATE KEY-----\n';

describe('postgresConfigOf: SEALBOX_DATABASE_TLS_* settings', () => {
  let dir: string;
  let files: { ca: string; cert: string; key: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-pgtls-unit-'));
    files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client-key.pem') };
    writeFileSync(files.ca, 'CA PEM');
    writeFileSync(files.cert, 'CERT PEM');
    writeFileSync(files.key, KEY, { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const problemsOf = (settings: Parameters<typeof postgresConfigOf>[0]): readonly string[] => {
    try {
      postgresConfigOf(settings);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it('is plain (no ssl option) without any TLS setting, as before', () => {
    const config = postgresConfigOf({ SEALBOX_DATABASE_URL: URL });
    expect(config).toEqual({ type: 'postgres', url: URL });
    expect(dataSourceOptions({ service: 'iam', config, entities: [], migrations: [] })).not.toHaveProperty('ssl');
  });

  it('defaults to verify-full with a CA file, and passes the files read at start to the driver', () => {
    const config = postgresConfigOf({ SEALBOX_DATABASE_URL: URL, SEALBOX_DATABASE_TLS_CA_FILE: files.ca, SEALBOX_DATABASE_TLS_CERT_FILE: files.cert, SEALBOX_DATABASE_TLS_KEY_FILE: files.key });
    expect(config.tls?.mode).toBe('verify-full');
    // Read once: a file changed (or removed) afterwards changes nothing.
    writeFileSync(files.ca, 'CHANGED');
    expect(dataSourceOptions({ service: 'iam', config, entities: [], migrations: [] })).toMatchObject({
      ssl: { rejectUnauthorized: true, ca: 'CA PEM', cert: 'CERT PEM', key: KEY },
    });
    writeFileSync(files.ca, 'CA PEM');
  });

  it('defaults to verify-full with a client certificate alone (public CAs), and require does not check the server', () => {
    const withCert = postgresConfigOf({ SEALBOX_DATABASE_URL: URL, SEALBOX_DATABASE_TLS_CERT_FILE: files.cert, SEALBOX_DATABASE_TLS_KEY_FILE: files.key });
    expect(withCert.tls?.connectionOptions()).toEqual({ rejectUnauthorized: true, cert: 'CERT PEM', key: KEY });
    const require = postgresConfigOf({ SEALBOX_DATABASE_URL: URL, SEALBOX_DATABASE_TLS_MODE: 'require' });
    expect(require.tls?.connectionOptions()).toEqual({ rejectUnauthorized: false });
    expect(postgresConfigOf({ SEALBOX_DATABASE_URL: URL, SEALBOX_DATABASE_TLS_MODE: 'disable' })).toEqual({ type: 'postgres', url: URL });
  });

  it('never shows the key in JSON or inspect output (logs get the paths)', () => {
    const config = postgresConfigOf({ SEALBOX_DATABASE_URL: URL, SEALBOX_DATABASE_TLS_CA_FILE: files.ca, SEALBOX_DATABASE_TLS_CERT_FILE: files.cert, SEALBOX_DATABASE_TLS_KEY_FILE: files.key });
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 10, showHidden: true })]) {
      expect(shown).not.toContain('TOP-SECRET');
      expect(shown).toContain(files.key);
    }
  });

  it.each([
    [{ SEALBOX_DATABASE_TLS_CERT_FILE: '/tls/c.pem' }, 'SEALBOX_DATABASE_TLS_KEY_FILE: is required with SEALBOX_DATABASE_TLS_CERT_FILE'],
    [{ SEALBOX_DATABASE_TLS_KEY_FILE: '/tls/k.pem' }, 'SEALBOX_DATABASE_TLS_CERT_FILE: is required with SEALBOX_DATABASE_TLS_KEY_FILE'],
    [{ SEALBOX_DATABASE_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'SEALBOX_DATABASE_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)'],
    [{ SEALBOX_DATABASE_TLS_MODE: 'disable' as const, SEALBOX_DATABASE_TLS_CA_FILE: '/tls/ca.pem' }, 'SEALBOX_DATABASE_TLS_MODE: is disable while SEALBOX_DATABASE_TLS_*_FILE settings are set'],
    [{ SEALBOX_DATABASE_TLS_MODE: 'require' as const, SEALBOX_DATABASE_TLS_CA_FILE: '/tls/ca.pem' }, 'SEALBOX_DATABASE_TLS_CA_FILE: is checked only with SEALBOX_DATABASE_TLS_MODE=verify-full'],
  ])('refuses %o naming the setting', (settings, problem) => {
    expect(problemsOf({ SEALBOX_DATABASE_URL: URL, ...settings }).join('; ')).toContain(problem);
  });

  it('refuses an unreadable key or certificate file, never echoing a file content', () => {
    expect(problemsOf({ SEALBOX_DATABASE_URL: URL, SEALBOX_DATABASE_TLS_CERT_FILE: files.cert, SEALBOX_DATABASE_TLS_KEY_FILE: dir })).toEqual([
      `SEALBOX_DATABASE_TLS_KEY_FILE: cannot read ${dir} (EISDIR)`,
    ]);
    expect(problemsOf({ SEALBOX_DATABASE_URL: URL, SEALBOX_DATABASE_TLS_CERT_FILE: join(dir, 'missing.pem'), SEALBOX_DATABASE_TLS_KEY_FILE: files.key })).toEqual([
      `SEALBOX_DATABASE_TLS_CERT_FILE: cannot read ${join(dir, 'missing.pem')} (ENOENT)`,
    ]);
  });

  it('refuses TLS parameters in the URL next to the settings (the driver would let the URL win), and leaves them alone otherwise', () => {
    expect(problemsOf({ SEALBOX_DATABASE_URL: `${URL}?sslmode=disable`, SEALBOX_DATABASE_TLS_CA_FILE: files.ca })).toEqual([
      'SEALBOX_DATABASE_URL: its sslmode parameter would override SEALBOX_DATABASE_TLS_*; remove it from the URL',
    ]);
    expect(postgresConfigOf({ SEALBOX_DATABASE_URL: `${URL}?sslmode=verify-full` })).toEqual({ type: 'postgres', url: `${URL}?sslmode=verify-full` });
  });
});

describe('postgresTlsError', () => {
  const tls = postgresConfigOf({ SEALBOX_DATABASE_URL: URL, SEALBOX_DATABASE_TLS_MODE: 'require' }).tls;

  it('says an untrusted or misnamed server certificate as the operator fixes it', () => {
    const untrusted = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(postgresTlsError(untrusted, tls)?.message).toMatch(/^PostgreSQL TLS: the server certificate is not signed by a trusted CA \(SELF_SIGNED_CERT_IN_CHAIN: .*check SEALBOX_DATABASE_TLS_CA_FILE/);
    const misnamed = Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(postgresTlsError(misnamed, tls)?.message).toContain('does not name the host of SEALBOX_DATABASE_URL');
    expect(postgresTlsError(new Error('The server does not support SSL connections'), tls)?.message).toContain('the server does not accept TLS connections');
  });

  it('leaves other errors, and connections without TLS, alone', () => {
    expect(postgresTlsError(new Error('password authentication failed'), tls)).toBeUndefined();
    expect(postgresTlsError(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), undefined)).toBeUndefined();
  });
});
