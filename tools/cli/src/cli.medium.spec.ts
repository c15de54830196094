import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KmsWire, LifecycleWire, SecretsWire } from '@sealbox/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type Standalone } from '../../../apps/standalone/src/standalone.js';
import { run } from './cli.js';
import { ExitCode } from './errors.js';
import type { CliIo } from './io.js';

/**
 * The CLI against a real standalone process (`npm start`'s app, over real HTTP): login with the key
 * the first start writes, instances, secrets, keys, IAM and the event stream, as a user would type
 * them. The CLI runs in process with its real fetch; only the terminal is fake (no TTY).
 */

const root = mkdtempSync(join(tmpdir(), 'sealbox-cli-medium-'));
const dataDir = join(root, 'data');
const home = join(root, 'home');
let standalone: Standalone;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `sealbox …` with `stdin` for `@-`; a fresh Ctrl-C signal per run. */
async function sealbox(argv: readonly string[], options: { stdin?: string; signal?: AbortSignal; onStderr?: (text: string) => void } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: {
      write: (text: string) => {
        stderr += text;
        options.onStderr?.(text);
      },
    },
    env: { XDG_CONFIG_HOME: join(home, 'config') },
    homedir: home,
    fetch: globalThis.fetch,
    nowMs: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 100))),
    pollIntervalMs: 100,
    ...(options.stdin !== undefined ? { readStdin: async () => options.stdin ?? '' } : {}),
    events: { tail: () => expect.fail('the NATS source is not used against standalone') },
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

async function ok(argv: readonly string[], options: Parameters<typeof sealbox>[1] = {}): Promise<string> {
  const result = await sealbox(argv, options);
  expect(result.code, `sealbox ${argv.join(' ')}\n${result.stderr}`).toBe(ExitCode.OK);
  return result.stdout;
}
const json = async <T>(argv: readonly string[], options: Parameters<typeof sealbox>[1] = {}): Promise<T> => JSON.parse(await ok([...argv, '--output', 'json'], options)) as T;

beforeAll(async () => {
  standalone = await startStandalone({ env: { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent' }, announce: () => undefined });
}, 60_000);

afterAll(async () => {
  await standalone?.app.close();
  rmSync(root, { recursive: true, force: true });
});

describe('sealbox against a standalone process', () => {
  let smGuid = '';
  let secretId = '';

  it('logs in with the admin key file, creates a Secrets Manager instance (waiting for it) and makes it the target', async () => {
    await ok(['login', '--apikey', `@${join(dataDir, 'admin-apikey')}`, '--endpoint', standalone.url]);
    const instance = await json<LifecycleWire.ResourceInstance>(['resource', 'service-instance-create', 'cli-sm', 'secrets-manager', 'standard', 'us-south', '--timeout', '60']);
    expect(instance).toMatchObject({ name: 'cli-sm', state: 'active' });
    smGuid = instance.guid;
    expect(await ok(['target', '--instance', 'cli-sm'])).toMatch(/sm instance:\s+cli-sm/);
  }, 90_000);

  it('stores a secret from stdin and reads it back raw by name, then rotates it and reads the previous version', async () => {
    const created = await json<SecretsWire.SecretMetadata>(['sm', 'secret-create', '--name', 'db-password', '--payload', '@-', '--labels', 'cli,medium'], { stdin: 's3cret value\n' });
    secretId = created.id;
    expect(await ok(['sm', 'secret-by-name', 'db-password', '--field', 'payload'])).toBe('s3cret value');
    await ok(['sm', 'secret-version-create', secretId, '--payload', 'rotated value']);
    expect(await ok(['sm', 'secret', secretId, '--field', 'payload'])).toBe('rotated value');
    expect(await ok(['sm', 'secret-version', secretId, 'previous', '--field', 'payload'])).toBe('s3cret value');
    expect(await json<unknown[]>(['sm', 'secret-versions', secretId])).toHaveLength(2);
    expect(await ok(['sm', 'secrets', '-i', 'cli-sm'])).toMatch(/db-password\s+arbitrary\s+active/);
    await ok(['sm', 'secret-metadata-update', secretId, '--description', 'from the CLI']);
    expect(await ok(['sm', 'secret-metadata', secretId, '--field', 'description'])).toBe('from the CLI');
  });

  it('locks a version; the locked secret cannot be deleted; unlocking lets it go (after -f)', async () => {
    await ok(['sm', 'secret-locks-create', secretId, '--lock', 'app-1']);
    expect(await ok(['sm', 'secret-locks'])).toContain('app-1');
    const locked = await sealbox(['sm', 'secret-delete', secretId, '-f']);
    expect(locked.code).toBe(ExitCode.SERVER);
    expect(locked.stderr).toMatch(/\(HTTP 409\)/);
    await ok(['sm', 'secret-locks-delete', secretId]);
    const unconfirmed = await sealbox(['sm', 'secret-delete', secretId]);
    expect(unconfirmed.code).toBe(ExitCode.USAGE);
    await ok(['sm', 'secret-delete', secretId, '-f']);
  });

  it('events tail follows the account over HTTP in standalone (no NATS) while a secret is created', async () => {
    const stop = new AbortController();
    let following!: () => void;
    const ready = new Promise<void>((resolve) => (following = resolve));
    const tail = sealbox(['events', 'tail', '--type', 'secrets.secret.created', '--count', '1', '--output', 'json'], {
      signal: stop.signal,
      onStderr: (text) => (text.includes('Following') ? following() : undefined),
    });
    await ready;
    await ok(['sm', 'secret-create', '--name', 'watched', '--payload', 'never-in-an-event']);
    const result = await tail;
    stop.abort();
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    const event = JSON.parse(result.stdout) as { type: string; data: { instanceId: string } };
    expect(event).toMatchObject({ type: 'com.sealbox.secrets.secret.created', data: { instanceId: smGuid } });
    expect(result.stdout).not.toContain('never-in-an-event');
  }, 30_000);

  it('manages Key Protect keys of a kms instance by name', async () => {
    await ok(['resource', 'service-instance-create', 'cli-kms', 'kms', 'standard', 'us-south', '--timeout', '60']);
    const key = await json<KmsWire.Key>(['kp', 'key-create', 'cli-root', '-i', 'cli-kms']);
    expect(key).toMatchObject({ name: 'cli-root', extractable: false, state: 1 });
    expect(await ok(['kp', 'key-rotate', key.id, '-i', 'cli-kms'])).toContain('was rotated: Active');
    expect(await ok(['kp', 'key-disable', key.id, '-i', 'cli-kms'])).toContain('Suspended');
    expect(await ok(['kp', 'key-enable', key.id, '-i', 'cli-kms'])).toContain('Active');
    expect(await ok(['kp', 'keys', '-i', 'cli-kms'])).toMatch(/cli-root\s+root\s+Active/);
    expect(await ok(['kp', 'key-delete', key.id, '-i', 'cli-kms'])).toContain('Destroyed');
    expect(await ok(['kp', 'key-restore', key.id, '-i', 'cli-kms'])).toContain('was restored: Active');
    expect(await ok(['kp', 'key', key.id, '-i', 'cli-kms', '--field', 'state'])).toBe('1');
  }, 90_000);

  it('creates a service ID with an API key in a 0600 file, grants it a role, and deletes the key', async () => {
    await ok(['iam', 'service-id-create', 'cli-app']);
    const file = join(root, 'app-key.json');
    const created = await ok(['iam', 'service-api-key-create', 'cli-app-key', 'cli-app', '--file', file]);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { apikey: string; id: string };
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(created).not.toContain(saved.apikey);
    await ok(['iam', 'access-policy-create', 'cli-app', '--roles', 'SecretsReader', '--service-name', 'secrets-manager', '--service-instance', 'cli-sm']);
    await ok(['iam', 'authorization-policy-create', 'secrets-manager', 'kms', 'Reader', '--target-service-instance-id', 'cli-kms']);
    expect(await ok(['iam', 'access-policies', '--type', 'authorization'])).toMatch(/authorization\s+accountId=\S+ serviceName=secrets-manager\s+Reader/);
    expect(await ok(['iam', 'api-keys'])).toContain('cli-app-key');
    await ok(['iam', 'api-key-delete', saved.id, '-f']);
    expect(await ok(['iam', 'api-keys'])).not.toContain('cli-app-key');
  });

  it('deletes the instance without asking (it goes to reclamation) and restores it', async () => {
    const deleted = await json<{ instance: LifecycleWire.ResourceInstance; reclamation: LifecycleWire.Reclamation }>(['resource', 'service-instance-delete', 'cli-sm']);
    expect(deleted.instance.state).toBe('pending_reclamation');
    await ok(['resource', 'reclamation-restore', deleted.reclamation.id, '--timeout', '60']);
    expect(await ok(['resource', 'service-instance', smGuid, '--field', 'state'])).toBe('active');
  }, 90_000);
});
