import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStandalone } from './standalone.js';

const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-standalone-'));
const env = { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent' };

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('standalone (npm start)', () => {
  it('serves /healthz and /readyz with every module in one process, and says once where the admin key is', async () => {
    const announced: string[] = [];
    const first = await startStandalone({ env, announce: (text) => announced.push(text) });
    try {
      const health = await fetch(`${first.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${first.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });

      const keyFile = join(dataDir, 'admin-apikey');
      const apikey = readFileSync(keyFile, 'utf8').trim();
      // The administrator sees what stands behind "ready".
      const token = await fetch(`${first.url}/identity/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }),
      });
      const { access_token: accessToken } = (await token.json()) as { access_token: string };
      const detailed = await fetch(`${first.url}/readyz`, { headers: { authorization: `Bearer ${accessToken}` } });
      const body = (await detailed.json()) as { services: Record<string, { ok: boolean }> };
      expect(Object.keys(body.services).sort()).toEqual(['crypto', 'iam', 'kms', 'lifecycle', 'secrets', 'storage']);
      expect(Object.values(body.services).every((service) => service.ok)).toBe(true);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      // Dev mode says so first (the unseal key lies beside the data), then where the admin key is, once:
      // this output is not a terminal, so the key itself is only in its file.
      expect(announced).toHaveLength(2);
      expect(announced[0]).toContain('DEV MODE');
      expect(announced[0]).toContain('(created now)');
      expect(announced[1]).toContain(`admin API key: written to ${keyFile} (mode 0600)`);
      expect(announced[1]).not.toContain(apikey);
      for (const file of ['iam.sqlite']) {
        expect(readFileSync(join(dataDir, 'db', file)).includes(Buffer.from(apikey))).toBe(false);
      }
      // Nothing under the data dir is readable by anyone else: files 0600 (SQLite's -wal and -shm too), folders 0700.
      const entries = readdirSync(dataDir, { recursive: true, withFileTypes: true });
      expect(entries.some((entry) => entry.name.endsWith('.sqlite-wal'))).toBe(true);
      for (const entry of entries) {
        const mode = statSync(join(entry.parentPath, entry.name)).mode & 0o777;
        expect({ path: join(entry.parentPath, entry.name), mode: mode.toString(8) }).toEqual({
          path: join(entry.parentPath, entry.name),
          mode: entry.isDirectory() ? '700' : '600',
        });
      }
    } finally {
      await first.app.close();
    }

    const again: string[] = [];
    const second = await startStandalone({ env, announce: (text) => again.push(text) });
    try {
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
      // Only the dev mode line: the admin key is never shown again.
      expect(again).toHaveLength(1);
      expect(again[0]).toContain('DEV MODE');
      expect(again[0]).not.toContain('(created now)');
    } finally {
      await second.app.close();
    }
  });

  it('is closed by default: 401 without a token; with a token for the admin key the Resource Controller answers as implemented (404 for an unknown instance CRN)', async () => {
    const standalone = await startStandalone({ env, announce: () => undefined });
    try {
      const unknownCrn = 'crn:v1:sealbox:public:secrets-manager:us-south:a/sealbox-nobody:0b5f3c9e-4a0d-4e1b-9a57-6f3a2d1c8e70::';
      const url = `${standalone.url}/v2/resource_instances/${encodeURIComponent(unknownCrn)}`;
      const anonymous = await fetch(url);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('UNAUTHORIZED');
      expect((await fetch(`${standalone.url}/v2/resource_instances`)).status).toBe(401);

      const apikey = readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim();
      const tokenResponse = await fetch(`${standalone.url}/identity/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }),
      });
      expect(tokenResponse.status).toBe(200);
      const token = (await tokenResponse.json()) as { access_token: string; token_type: string };
      expect(token.token_type).toBe('Bearer');
      const authorization = { authorization: `Bearer ${token.access_token}` };

      const response = await fetch(url, { headers: authorization });
      expect(response.status).toBe(404);
      const body = (await response.json()) as { errors: { code: string; message: string }[]; status_code: number; trace: string };
      expect(body.errors[0]?.code).toBe('NOT_FOUND');
      expect(body.errors[0]?.message).toContain('0b5f3c9e-4a0d-4e1b-9a57-6f3a2d1c8e70');
      expect(body.status_code).toBe(404);
      expect(body.trace).toMatch(/^[0-9a-f]{32}$/);

      // The collection is implemented too: an empty page for a fresh data dir, next_url null.
      const list = await fetch(`${standalone.url}/v2/resource_instances`, { headers: authorization });
      expect(list.status).toBe(200);
      expect(await list.json()).toEqual({ rows_count: 0, next_url: null, resources: [] });
    } finally {
      await standalone.app.close();
    }
  });

  it("revokes in process: a deleted API key's token is refused at once, though the gateway had it verified and cached", async () => {
    const standalone = await startStandalone({ env, announce: () => undefined });
    try {
      const call = async (method: string, path: string, token: string, body?: unknown) => {
        const response = await fetch(`${standalone.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.text();
        return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
      };
      const tokenOf = async (apikey: string) => {
        const response = await fetch(`${standalone.url}/identity/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }),
        });
        return ((await response.json()) as { access_token: string }).access_token;
      };
      const admin = await tokenOf(readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim());
      const accountId = (JSON.parse(Buffer.from(admin.split('.')[1] ?? '', 'base64url').toString()) as { account: { bss: string } }).account.bss;
      const robot = await call('POST', '/v1/serviceids', admin, { account_id: accountId, name: 'revoked-in-process' });
      const key = await call('POST', '/v1/apikeys', admin, { name: 'robot-key', iam_id: robot.body['iam_id'] });
      const token = await tokenOf(String(key.body['apikey']));
      expect((await call('GET', '/v1/apikeys', token)).status).toBe(200);

      expect((await call('DELETE', `/v1/apikeys/${String(key.body['id'])}`, admin)).status).toBe(204);
      // The event goes out when the deleting transaction commits and reaches the gateway in process.
      await expect.poll(async () => (await call('GET', '/v1/apikeys', token)).status, { interval: 20, timeout: 1000 }).toBe(401);
      expect((await call('GET', '/v1/apikeys', admin)).status).toBe(200);
    } finally {
      await standalone.app.close();
    }
  });
});
