import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stackInfo } from './harness/context.js';

const root = join(import.meta.dirname, '..');
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

function start(command: string, args: string[], env: Record<string, string>) {
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  return { child, output };
}

const app = (name: string) => join(root, 'apps', name, 'dist', 'main.js');

describe('start-up', () => {
  it.each([
    ['iam', {}, 'SEALBOX_DATABASE_URL: is required'],
    [
      'iam',
      { SEALBOX_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x', SEALBOX_ENV: 'production', SEALBOX_IAM_MASTER_KEY_FILE: '/tmp/clear.key' },
      'SEALBOX_IAM_SEAL_DIRECTORY: is required with SEALBOX_ENV=production',
    ],
    ['kms', { SEALBOX_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x' }, 'SEALBOX_PKCS11_PIN: is required'],
    ['gateway', { SEALBOX_PORT: 'not-a-port' }, 'SEALBOX_PORT:'],
    ['standalone', { SEALBOX_TLS_CERT_FILE: '/tmp/cert.pem' }, 'SEALBOX_TLS_KEY_FILE: is required'],
    ['storage', { SEALBOX_S3_ENDPOINT: 'not a url', SEALBOX_S3_ACCESS_KEY: 'a', SEALBOX_S3_SECRET_KEY: 'b' }, 'SEALBOX_S3_ENDPOINT:'],
    // The database's TLS files are read at start, before NATS is waited for.
    ['secrets', { SEALBOX_DATABASE_URL: 'postgres://x@127.0.0.1:5432/x', SEALBOX_DATABASE_TLS_CERT_FILE: '/tmp/c.pem' }, 'SEALBOX_DATABASE_TLS_KEY_FILE: is required with SEALBOX_DATABASE_TLS_CERT_FILE'],
    ['lifecycle', { SEALBOX_DATABASE_URL: 'postgres://x@127.0.0.1:5432/x', SEALBOX_DATABASE_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'SEALBOX_DATABASE_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)'],
    ['gateway', { SEALBOX_DATABASE_URL: 'postgres://x@127.0.0.1:5432/x', SEALBOX_DATABASE_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'SEALBOX_DATABASE_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)'],
  ])('refuses to start %s with invalid configuration, naming the variable', async (name, env, expected) => {
    const { child, output } = start(process.execPath, [app(name)], env);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(78);
    expect(output.stderr).toContain(expected);
    // One line: what is wrong and how to fix it.
    expect(output.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(output.stderr).toMatch(/^sealbox( \w+)?: invalid configuration: .*Fix: /);
  });

  it('standalone on a port in use exits 69 with one line naming the fix, and nothing else on stderr or stdout', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-startup-'));
    try {
      const { child, output } = start(process.execPath, [app('standalone')], { SEALBOX_PORT: String(port), SEALBOX_DATA_DIR: dataDir, SEALBOX_LOG_LEVEL: 'warn' });
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(69);
      expect(output.stderr).toBe(`sealbox: cannot listen on 127.0.0.1:${port}: the port is already in use (is Sealbox already running?). Fix: stop the program using port ${port} (ss -ltnp 'sport = :${port}' shows it), or set SEALBOX_PORT to a free port\n`);
      expect(output.stdout).toBe('');
    } finally {
      taken.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('standalone with a data directory it cannot use exits 73 with one line naming the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-startup-'));
    const notADirectory = join(dir, 'file');
    writeFileSync(notADirectory, 'x');
    try {
      const { child, output } = start(process.execPath, [app('standalone')], { SEALBOX_PORT: String(await freePort()), SEALBOX_DATA_DIR: join(notADirectory, 'data') });
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(73);
      expect(output.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(output.stderr).toMatch(/^sealbox: cannot use the data directory .*Fix: .*SEALBOX_DATA_DIR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('iam whose seal the configured secret does not open exits 78 with one line naming the cause; the seal directory holds no clear key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-startup-'));
    const passphraseFile = join(dir, 'passphrase');
    try {
      const env = {
        SEALBOX_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
        SEALBOX_ENV: 'production',
        SEALBOX_IAM_SEAL_DIRECTORY: join(dir, 'iam-seal'),
        SEALBOX_UNSEAL_PASSPHRASE_FILE: passphraseFile,
      };
      // A seal initialised with one passphrase (by the first start), then a start with another.
      writeFileSync(passphraseFile, 'the first iam seal passphrase\n', { mode: 0o600 });
      const first = start(process.execPath, [app('iam')], { ...env, SEALBOX_NATS_URL: 'nats://127.0.0.1:1' });
      for (let waited = 0; waited < 300 && !readdirSync(join(dir)).includes('iam-seal'); waited++) await new Promise((resolve) => setTimeout(resolve, 100));
      for (let waited = 0; waited < 300 && !readdirSync(join(dir, 'iam-seal')).includes('seal.json'); waited++) await new Promise((resolve) => setTimeout(resolve, 100));
      first.child.kill('SIGTERM');
      await once(first.child, 'exit');
      writeFileSync(passphraseFile, 'another passphrase entirely\n', { mode: 0o600 });
      const { child, output } = start(process.execPath, [app('iam')], env);
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(78);
      expect(output.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(output.stderr).toMatch(/^sealbox iam: cannot unseal the iam master key: UNSEAL_FAILED: .*does not open.*Fix: .*SEALBOX_IAM_SEAL_DIRECTORY/);
      expect(output.stderr).not.toContain('another passphrase');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('standalone prints the first-start banner last, after the start-up lines; off a terminal it names the key file, never the key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-startup-'));
    const { child, output } = start(process.execPath, [app('standalone')], { SEALBOX_PORT: String(await freePort()), SEALBOX_DATA_DIR: dataDir, SEALBOX_LOG_LEVEL: 'debug' });
    try {
      await expect.poll(() => output.stdout, { timeout: 40_000, interval: 200 }).toContain('store it safely, then delete the file');
      // Whatever else it prints comes before; give late lines a moment to show up.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const lines = output.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toBe('Read it from that file once, store it safely, then delete the file.');
      expect(output.stdout.indexOf('Sealbox is running at')).toBeLessThan(output.stdout.indexOf('admin API key:'));
      // Not a terminal: the key went to the file only, never to the output.
      const keyFile = join(dataDir, 'admin-apikey');
      expect(output.stdout).toContain(`admin API key: written to ${keyFile} (mode 0600)`);
      expect(output.stdout).not.toContain(readFileSync(keyFile, 'utf8').trim());
      // Not on a terminal: JSON log lines; Nest's route mapping at debug.
      expect(lines[0]).toMatch(/^\{"level":/);
      expect(output.stdout).toMatch(/"level":20,[^\n]*"context":"RouterExplorer"/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('serves /healthz while NATS is unreachable, retries with backoff, and /readyz follows the connection', async () => {
    const natsPort = await freePort();
    const httpPort = await freePort();
    const spool = mkdtempSync(join(tmpdir(), 'sealbox-startup-'));
    const { output } = start(process.execPath, [app('gateway')], {
      SEALBOX_PORT: String(httpPort),
      // The gateway's own database (Idempotency-Keys): the run's; its audit spool: a folder of this test.
      ...Object.fromEntries(Object.entries(stackInfo().appEnv.gateway).filter(([name]) => name.startsWith('SEALBOX_DATABASE_'))),
      SEALBOX_AUDIT_SPOOL_DIR: spool,
      SEALBOX_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      SEALBOX_LOG_LEVEL: 'info',
      SEALBOX_RPC_TIMEOUT_MS: '1000',
    });
    const base = `http://127.0.0.1:${httpPort}`;
    await expect.poll(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status, { timeout: 20_000 }).toBe(200);

    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('SERVICE_UNAVAILABLE');
    // The public learns only "not ready"; the reason goes to the operator's log.
    expect(body.errors[0]?.message).toBe('Not ready');
    await expect.poll(() => output.stdout, { timeout: 5_000 }).toMatch(/readiness: Not ready: nats (not connected|disconnected|reconnecting)/);
    await expect.poll(() => output.stdout.split('NATS is unreachable; retrying').length - 1, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const delays = [...output.stdout.matchAll(/"retryInMs":(\d+)/g)].map((match) => Number(match[1]));
    expect(delays[1]).toBeGreaterThan(delays[0] ?? Infinity);

    // NATS comes up (with no service behind it): the gateway connects, and readiness now names the services.
    start('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)], {});
    await expect
      .poll(
        async () => {
          const response = await fetch(`${base}/readyz`);
          expect(response.status).toBe(503);
          return output.stdout;
        },
        { timeout: 20_000, interval: 250 },
      )
      .toContain('iam (no answer)');
    // Log lines are written asynchronously: the line may come just after readiness.
    await expect.poll(() => output.stdout, { timeout: 5_000 }).toContain('gateway connected to NATS');
  });
});
