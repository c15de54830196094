import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CaptureServer, type CannedReply, type CapturedRequest } from '../../../../libs/sm-client/src/testing/capture-server.js';
import { run } from '../cli.js';
import { writeSession } from '../config.js';
import { ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';

const ADMIN_KEY = 'new-admin-key-value';
const CREATED = { account_id: 'f'.repeat(32), name: 'tenant-a', admin_iam_id: 'IBMid-tenant-admin', apikey_id: 'ApiKey-1', apikey: ADMIN_KEY };

let server: CaptureServer;
let home: string;

beforeAll(async () => {
  server = await CaptureServer.start();
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  home = mkdtempSync(join(tmpdir(), 'sealbox-cli-accounts-'));
  writeSession(join(home, 'config', 'sealbox'), { endpoint: server.url, access_token: 'token', refresh_token: 'refresh', expiration: 4_000_000_000 });
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function cli(argv: readonly string[], reply: (request: CapturedRequest) => CannedReply): Promise<{ code: number; stdout: string; stderr: string }> {
  server.respond(reply);
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { XDG_CONFIG_HOME: join(home, 'config') },
    homedir: home,
    fetch: globalThis.fetch,
    nowMs: () => 1_800_000_000_000,
    sleep: async () => undefined,
    pollIntervalMs: 1_000,
  } as unknown as CliIo;
  return { code: await run(argv, io), stdout, stderr };
}

describe('sealbox iam account-create / accounts', () => {
  it('creates an account with POST /v1/accounts and shows the administrator key once', async () => {
    const result = await cli(['iam', 'account-create', 'tenant-a'], () => ({ status: 201, body: CREATED }));
    expect(result.code).toBe(ExitCode.OK);
    const sent = server.single();
    expect([sent.method, sent.rawPath, JSON.parse(sent.body)]).toEqual(['POST', '/v1/accounts', { name: 'tenant-a' }]);
    expect(sent.headers.authorization).toBe('Bearer token');
    expect(result.stdout).toContain(CREATED.account_id);
    expect(result.stdout).toContain(ADMIN_KEY);
  });

  it('with --apikey-file writes the key to a new 0600 file and prints only the file', async () => {
    const file = join(home, 'tenant-a.key');
    const result = await cli(['iam', 'account-create', 'tenant-a', '--apikey-file', file, '--output', 'json'], () => ({ status: 201, body: CREATED }));
    expect(result.code).toBe(ExitCode.OK);
    expect(readFileSync(file, 'utf8')).toBe(`${ADMIN_KEY}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(result.stdout).not.toContain(ADMIN_KEY);
    expect(JSON.parse(result.stdout)).toMatchObject({ account_id: CREATED.account_id, apikey_file: file });
  });

  it('a caller who is not a platform operator exits 1 with the 403 code', async () => {
    const result = await cli(['iam', 'account-create', 'tenant-b'], () => ({
      status: 403,
      body: { errors: [{ code: 'FORBIDDEN', message: 'Only a platform operator may do this' }], status_code: 403, trace: 't' },
    }));
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('FORBIDDEN');
  });

  it('without a name is a usage error (2) and sends nothing', async () => {
    const result = await cli(['iam', 'account-create'], () => ({ status: 500, body: {} }));
    expect(result.code).toBe(ExitCode.USAGE);
    expect(server.requests).toHaveLength(0);
  });

  it('lists every page of GET /v1/accounts', async () => {
    const account = (id: string) => ({ account_id: id, name: `name-${id}`, created_at: '2026-01-01T00:00:00.000Z' });
    const result = await cli(['iam', 'accounts', '--output', 'json'], (request) =>
      request.query['pagetoken'] === 'p2'
        ? { status: 200, body: { limit: 100, first: '/v1/accounts?pagesize=100', accounts: [account('b')] } }
        : { status: 200, body: { limit: 100, first: '/v1/accounts?pagesize=100', next: '/v1/accounts?pagesize=100&pagetoken=p2', accounts: [account('a')] } },
    );
    expect(result.code).toBe(ExitCode.OK);
    expect((JSON.parse(result.stdout) as { account_id: string }[]).map((entry) => entry.account_id)).toEqual(['a', 'b']);
    expect(server.requests.map((request) => request.rawQuery)).toEqual(['pagesize=100', 'pagesize=100&pagetoken=p2']);
  });
});
