import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KmsWire, LifecycleWire } from '@sealbox/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo } from './harness/context.js';
import { createAccountOverNats } from './harness/iam.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The built `sealbox` binary (`node tools/cli/dist/main.js`, what `npx sealbox` runs) against the
 * distributed stack, as a user would drive it: login → a Key Protect instance and root key → an IAM
 * authorization → a Secrets Manager instance encrypted with that key → write a secret → delete →
 * reclamations → restore → the secret is readable → delete → reclamation-delete → removed, with exit
 * codes and outputs checked at every step, while `events tail` follows the lifecycle events twice: over
 * the gateway's HTTP event stream (JetStream behind it) and straight from NATS.
 */
describe('sealbox CLI (built binary, distributed stack)', () => {
  const stack = stackInfo();
  const bin = join(stack.root, 'tools', 'cli', 'dist', 'main.js');
  const name = `cli-sm-${randomBytes(4).toString('hex')}`;
  let home: string;
  let apikey: string;
  let keyFile: string;
  let tail: ChildProcess | undefined;
  let tailOut = '';
  let tailErr = '';
  let httpTail: ChildProcess | undefined;
  let httpTailOut = '';
  let httpTailErr = '';
  /** Every byte the CLI printed, to check no token or key ever shows. */
  const printed: string[] = [];
  /** The API key and the tokens login stored: never printed. */
  let neverPrinted: string[] = [];

  const env = () => {
    const base: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('SEALBOX_')) base[key] = value;
    return { ...base, XDG_CONFIG_HOME: join(home, 'config'), HOME: home };
  };

  /** Runs `sealbox …` to its end (stdin closed: not a terminal). */
  function sealbox(...args: string[]): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: stack.root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        printed.push(stdout, stderr);
        resolve({ code, stdout, stderr });
      });
    });
  }

  const json = <T = unknown>(run: Run): T => {
    expect(run.code, `exit code; stderr: ${run.stderr}`).toBe(0);
    return JSON.parse(run.stdout) as T;
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'sealbox-cli-e2e-'));
    apikey = (await createAccountOverNats(stack, 'cli-e2e')).apikey;
    keyFile = join(home, 'apikey');
    writeFileSync(keyFile, `${apikey}\n`, { mode: 0o600 });
  });

  afterAll(() => {
    tail?.kill('SIGKILL');
    httpTail?.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('commands before login exit 3; a wrong API key exits 1 with the IAM error code', async () => {
    const before = await sealbox('resource', 'service-instances');
    expect(before.code).toBe(3);
    expect(before.stderr).toContain('sealbox login');

    const wrong = await sealbox('login', '--apikey', 'not-a-real-key-0123456789', '--endpoint', stack.gatewayUrl);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/FAILED\n[A-Z0-9_]+: .+\(HTTP 4\d\d\)/);
  });

  it('logs in with the key from a file and stores the tokens in a 0600 file, printing none of them', async () => {
    const login = json<{ endpoint: string; account_id: string }>(await sealbox('login', '--apikey', `@${keyFile}`, '--endpoint', stack.gatewayUrl, '--output', 'json'));
    expect(login.endpoint).toBe(stack.gatewayUrl);
    const file = join(home, 'config', 'sealbox', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'config', 'sealbox')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { access_token: string; refresh_token: string };
    expect(readFileSync(file, 'utf8')).not.toContain(apikey);
    expect(login.account_id).toBeTruthy();

    // Follow the lifecycle events from here on (the ordered consumer delivers only new ones).
    // As docker/nats.conf's read-only `events` user, over TLS with its client certificate.
    tail = spawn(process.execPath, [bin, 'events', 'tail', '--type', 'lifecycle.>', '--nats', stack.natsUrl, '--output', 'json'], {
      cwd: stack.root,
      env: { ...env(), ...stack.natsEventsEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    tail.stdout?.on('data', (chunk: Buffer) => (tailOut += chunk.toString('utf8')));
    tail.stderr?.on('data', (chunk: Buffer) => (tailErr += chunk.toString('utf8')));
    httpTail = spawn(process.execPath, [bin, 'events', 'tail', '--type', 'lifecycle.instance.', '--output', 'json'], { cwd: stack.root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    httpTail.stdout?.on('data', (chunk: Buffer) => (httpTailOut += chunk.toString('utf8')));
    httpTail.stderr?.on('data', (chunk: Buffer) => (httpTailErr += chunk.toString('utf8')));
    await expect.poll(() => tailErr, { timeout: 15_000, interval: 100 }).toContain('Following events.lifecycle.>');
    await expect.poll(() => httpTailErr, { timeout: 15_000, interval: 100 }).toContain(`Following lifecycle.instance. at ${stack.gatewayUrl}`);

    neverPrinted = [apikey, stored.access_token, stored.refresh_token];
  });

  let guid = '';
  let firstReclamation = '';
  let kmsGuid = '';
  let rootKey: Pick<KmsWire.Key, 'id' | 'crn'> = { id: '', crn: '' };

  it('creates a Key Protect instance and a root key with the CLI, and rotates the key', async () => {
    const kms = json<LifecycleWire.ResourceInstance>(await sealbox('resource', 'service-instance-create', `${name}-kms`, 'kms', 'standard', 'us-south', '--output', 'json', '--timeout', '120'));
    expect(kms).toMatchObject({ resource_id: 'kms', resource_plan_id: 'kms-standard', state: 'active' });
    kmsGuid = kms.guid;

    rootKey = json<KmsWire.Key>(await sealbox('kp', 'key-create', 'cli-root', '-i', kmsGuid, '--output', 'json'));
    expect(rootKey).toMatchObject({ name: 'cli-root', extractable: false, state: 1 });
    const keys = await sealbox('kp', 'keys', '-i', `${name}-kms`);
    expect(keys.code, keys.stderr).toBe(0);
    expect(keys.stdout).toMatch(new RegExp(`${rootKey.id}\\s+cli-root\\s+root\\s+Active`));
    const rotated = await sealbox('kp', 'key-rotate', rootKey.id, '-i', kmsGuid);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`Key ${rootKey.id} was rotated: Active`);
    const unknown = await sealbox('kp', 'keys', '-i', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/\(HTTP 40[34]\)/);
  }, 180_000);

  it('service-instance-create with that key is refused (1, 403) until Secrets Manager is authorized to the kms instance', async () => {
    const parameters = JSON.stringify({ kms_key: rootKey.crn });
    const refused = await sealbox('resource', 'service-instance-create', name, 'secrets-manager', 'standard', 'us-south', '-p', parameters, '--output', 'json');
    expect(refused.code).toBe(1);
    expect((JSON.parse(refused.stderr) as { error: { status: number } }).error.status).toBe(403);

    const policy = json<{ type: string; resources: { attributes: { name: string; value: string }[] }[] }>(
      await sealbox('iam', 'authorization-policy-create', 'secrets-manager', 'kms', 'Reader', '--target-service-instance-id', `${name}-kms`, '--output', 'json'),
    );
    expect(policy.type).toBe('authorization');
    expect(policy.resources[0]?.attributes).toContainEqual({ name: 'serviceInstance', value: kmsGuid });
  }, 60_000);

  it('service-instance-create provisions a Secrets Manager instance with the key and waits until it is active', async () => {
    const created = json<LifecycleWire.ResourceInstance>(
      await sealbox('resource', 'service-instance-create', name, 'secrets-manager', 'standard', 'us-south', '-p', JSON.stringify({ kms_key: rootKey.crn }), '--output', 'json', '--timeout', '120'),
    );
    expect(LifecycleWire.ResourceInstance.parse(created)).toMatchObject({ name, resource_id: 'secrets-manager', resource_plan_id: 'secrets-manager-standard', region_id: 'us-south', state: 'active' });
    guid = created.guid;

    const shown = await sealbox('resource', 'service-instance', name);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`GUID:\\s+${guid}`));
    expect(shown.stdout).toMatch(/State:\s+active/);

    const listed = json<LifecycleWire.ResourceInstance[]>(await sealbox('resource', 'service-instances', '--service-name', 'secrets-manager', '--output', 'json'));
    expect(listed.map((instance) => instance.guid)).toContain(guid);

    const secret = await sealbox('sm', 'secret-create', '-i', name, '--name', 'db-password', '--payload', 'restore-me-please');
    expect(secret.code, secret.stderr).toBe(0);
    expect(secret.stdout).not.toContain('restore-me-please');
  }, 180_000);

  it('service-instance-delete asks nothing (the plan keeps the instance for restore) and schedules a reclamation; the instance API answers 4xx', async () => {
    const deleted = json<{ instance: LifecycleWire.ResourceInstance; reclamation?: LifecycleWire.Reclamation }>(
      await sealbox('resource', 'service-instance-delete', name, '--output', 'json'),
    );
    expect(deleted.instance.state).toBe('pending_reclamation');
    expect(deleted.reclamation?.state).toBe('SCHEDULED');

    const reclamations = json<LifecycleWire.Reclamation[]>(await sealbox('resource', 'reclamations', '--resource-instance-id', guid, '--output', 'json'));
    expect(reclamations.map((r) => [r.resource_instance_id, r.state])).toEqual([[guid, 'SCHEDULED']]);
    firstReclamation = reclamations[0]?.id ?? '';
    expect(firstReclamation).toBe(deleted.reclamation?.id);

    const human = await sealbox('resource', 'reclamations', '--resource-instance-id', guid);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`${firstReclamation}\\s+${guid}\\s+SCHEDULED`));

    const disabled = await sealbox('sm', 'secrets', '-i', guid);
    expect(disabled.code).toBe(1);
    expect(disabled.stderr).toMatch(/INSTANCE_NOT_ACTIVE: .*\(HTTP 4\d\d\)/);
  }, 120_000);

  it('reclamation-restore brings the instance back with its secret; restoring again exits 1 (409)', async () => {
    const restored = json<{ reclamation: LifecycleWire.Reclamation; instance: LifecycleWire.ResourceInstance }>(
      await sealbox('resource', 'reclamation-restore', firstReclamation, '--output', 'json', '--timeout', '120'),
    );
    expect(restored.instance).toMatchObject({ guid, state: 'active' });

    const again = await sealbox('resource', 'reclamation-restore', firstReclamation);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/\(HTTP 409\)/);

    const listed = json<{ id: string; name: string }[]>(await sealbox('sm', 'secrets', '-i', guid, '--output', 'json'));
    const secretId = listed.find((secret) => secret.name === 'db-password')?.id ?? '';
    const got = await sealbox('sm', 'secret', secretId, '-i', guid);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/Payload:\s+restore-me-please/);
    const raw = await sealbox('sm', 'secret-by-name', 'db-password', '-i', name, '--field', 'payload');
    expect(raw.stdout).toBe('restore-me-please');
  }, 180_000);

  it('delete again → reclamation-delete removes the instance for good; reclaiming again exits 1', async () => {
    const deleted = json<{ instance: LifecycleWire.ResourceInstance; reclamation?: LifecycleWire.Reclamation }>(
      await sealbox('resource', 'service-instance-delete', guid, '--output', 'json'),
    );
    expect(deleted.instance.state).toBe('pending_reclamation');
    const scheduled = json<LifecycleWire.Reclamation[]>(await sealbox('resource', 'reclamations', '--resource-instance-id', guid, '--output', 'json')).filter(
      (reclamation) => reclamation.state === 'SCHEDULED',
    );
    expect(scheduled).toHaveLength(1);
    const second = scheduled[0]?.id ?? '';
    expect(second).toBe(deleted.reclamation?.id);

    const unconfirmed = await sealbox('resource', 'reclamation-delete', second);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('-f');
    const reclaimed = await sealbox('resource', 'reclamation-delete', second, '--timeout', '120', '-f');
    expect(reclaimed.code, reclaimed.stderr).toBe(0);
    expect(reclaimed.stdout).toContain('reclaimed: the instance is removed');

    expect(json<LifecycleWire.ResourceInstance>(await sealbox('resource', 'service-instance', guid, '--output', 'json')).state).toBe('removed');
    const again = await sealbox('resource', 'reclamation-delete', second, '-f', '--output', 'json');
    expect(again.code).toBe(1);
    expect((JSON.parse(again.stderr) as { error: { status: number } }).error.status).toBeOneOf([409, 410]);
  }, 180_000);

  it('events tail printed the lifecycle events of the instance as CloudEvents JSON lines, over NATS and over HTTP', async () => {
    const wanted = ['lifecycle.instance.created', 'lifecycle.instance.deleted', 'lifecycle.instance.restored', 'lifecycle.instance.reclaimed'];
    const ofInstance = (out: string) =>
      out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { type: string; data: { instanceId?: string; crn?: string } })
        .filter((event) => event.data.instanceId === guid || event.data.crn?.includes(guid))
        .map((event) => event.type.replace(/^com\.sealbox\./, ''));
    await expect.poll(() => wanted.filter((type) => !ofInstance(tailOut).includes(type)), { timeout: 20_000, interval: 200 }).toEqual([]);
    await expect.poll(() => wanted.filter((type) => !ofInstance(httpTailOut).includes(type)), { timeout: 20_000, interval: 200 }).toEqual([]);
    for (const running of [tail, httpTail]) {
      running?.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => (!running || running.exitCode !== null ? resolve(running?.exitCode ?? null) : running.once('close', resolve)));
      expect(code).toBe(0);
    }
    printed.push(tailOut, tailErr, httpTailOut, httpTailErr);
  }, 60_000);

  it('logout forgets the session; no output of any command held the API key or a token', async () => {
    const out = await sealbox('logout');
    expect(out.code).toBe(0);
    expect((await sealbox('resource', 'service-instances')).code).toBe(3);
    expect(neverPrinted).toHaveLength(3);
    for (const value of neverPrinted) for (const text of printed) expect(text).not.toContain(value);
  });
});
