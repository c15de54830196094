import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type Standalone } from '../../../../apps/standalone/src/standalone.js';
import { run } from '../cli.js';
import { ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';

/** `sealbox operator …` against a real standalone in operator mode (it starts sealed). */

let home: string;
let standalone: Standalone;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sealbox-cli-operator-'));
  standalone = await startStandalone({
    env: { SEALBOX_DATA_DIR: join(home, 'data'), SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent', SEALBOX_SEAL_MODE: 'operator' },
    announce: () => undefined,
    scryptLogN: 14,
  });
}, 60_000);
afterAll(async () => {
  await standalone?.close();
  rmSync(home, { recursive: true, force: true });
});

async function cli(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { XDG_CONFIG_HOME: join(home, 'config'), SEALBOX_ENDPOINT: standalone.url },
    homedir: home,
    fetch: globalThis.fetch,
    nowMs: () => Date.now(),
    sleep: async () => undefined,
    pollIntervalMs: 1_000,
  } as unknown as CliIo;
  return { code: await run(argv, io), stdout, stderr };
}

async function readyz(status: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await fetch(`${standalone.url}/readyz`).catch(() => undefined);
    if (answer?.status === status) return;
    await sleep(50);
  }
  throw new Error(`/readyz never answered ${status}`);
}

describe('sealbox operator', () => {
  it('init prints the shares once; unseal takes them one at a time; seal-status follows; seal and rekey need a platform operator', async () => {
    const before = await cli(['operator', 'seal-status', '--output', 'json']);
    expect(before.code).toBe(ExitCode.OK);
    expect(JSON.parse(before.stdout)).toMatchObject({ initialized: false, sealed: true });

    const init = await cli(['operator', 'init', '--shares', '3', '--threshold', '2']);
    expect(init.code).toBe(ExitCode.OK);
    const shares = [...init.stdout.matchAll(/Unseal key \d: (\S+)/g)].map((match) => match[1] ?? '');
    expect(shares).toHaveLength(3);
    expect(init.stdout).toContain('shown ONCE');

    const wrong = await cli(['operator', 'unseal', '--key', 'not-a-share']);
    expect(wrong.code).toBe(ExitCode.SERVER);
    expect(wrong.stderr).toContain('UNSEAL_FAILED');

    const first = await cli(['operator', 'unseal', '--key', shares[2] ?? '', '--output', 'json']);
    expect(JSON.parse(first.stdout)).toMatchObject({ sealed: true, progress: 1, t: 2, n: 3 });
    const second = await cli(['operator', 'unseal', '--key', shares[0] ?? '']);
    expect(second.code).toBe(ExitCode.OK);
    expect(second.stdout).toMatch(/Sealed:\s+false/);
    await readyz(200);

    // seal needs a login; as the first administrator (a platform operator) it seals.
    expect((await cli(['operator', 'seal'])).code).toBe(ExitCode.NOT_LOGGED_IN);
    const apikey = readFileSync(join(home, 'data', 'admin-apikey'), 'utf8').trim();
    expect((await cli(['login', '--apikey', apikey, '--endpoint', standalone.url])).code).toBe(ExitCode.OK);
    const rekey = await cli(['operator', 'rekey', '--passphrase', 'a long enough passphrase', '--output', 'json']);
    expect(rekey.code).toBe(ExitCode.OK);
    expect(JSON.parse(rekey.stdout)).toEqual({ type: 'passphrase', keys: [] });
    const sealed = await cli(['operator', 'seal']);
    expect(sealed.code).toBe(ExitCode.OK);
    await readyz(503);
    const status = await cli(['operator', 'seal-status', '--output', 'json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ initialized: true, sealed: true, type: 'passphrase', t: 1 });
    // --auto is for a store sealed by a PKCS#11 token: a passphrase store refuses it.
    const auto = await cli(['operator', 'unseal', '--auto']);
    expect(auto.code).toBe(ExitCode.SERVER);
    expect(auto.stderr).toContain('UNSEAL_FAILED');
    expect((await cli(['operator', 'unseal', '--key', 'a long enough passphrase'])).code).toBe(ExitCode.OK);
    await readyz(200);
    // This server has no PKCS#11 token configured for the seal: a rekey to it is refused, and nothing changes.
    expect((await cli(['operator', 'rekey', '--pkcs11', '--shares', '3'])).code).toBe(ExitCode.USAGE);
    const toToken = await cli(['operator', 'rekey', '--pkcs11']);
    expect(toToken.code).toBe(ExitCode.SERVER);
    expect(toToken.stderr).toContain('SEAL_TOKEN_NOT_CONFIGURED');
    expect(JSON.parse((await cli(['operator', 'seal-status', '--output', 'json'])).stdout)).toMatchObject({ sealed: false, type: 'passphrase' });
  }, 60_000);
});
