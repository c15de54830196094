import { createSoftHsm2Store, type SoftHsm2Store } from '@sealbox/hsm/testing';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe('sealbox operator with a PKCS#11 token (auto-unseal, SoftHSM2)', () => {
  let softhsm: SoftHsm2Store;
  let tokenEnv: Record<string, string>;
  let dataDir: string;

  beforeAll(async () => {
    softhsm = await createSoftHsm2Store();
    const token = await softhsm.initToken();
    const pinFile = join(home, 'seal-pin');
    writeFileSync(pinFile, token.pin, { mode: 0o600 });
    tokenEnv = { SEALBOX_SEAL_PKCS11_TOKEN_LABEL: token.label, SEALBOX_SEAL_PKCS11_PIN_FILE: pinFile, SEALBOX_SEAL_PKCS11_KEY_LABEL: 'cli-seal' };
    dataDir = join(home, 'data-pkcs11');
  });
  afterAll(async () => {
    await softhsm?.remove();
  });

  const startWith = (env: Record<string, string>) =>
    startStandalone({
      env: { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent', SEALBOX_SEAL_MODE: 'operator', ...env },
      announce: () => undefined,
    });

  it('init --pkcs11, unseal --auto; a restart with a wrong key label shows the code in seal-status and unseal --auto', async () => {
    const first = await startWith(tokenEnv);
    try {
      const init = await cli(['operator', 'init', '--pkcs11', '--endpoint', first.url]);
      expect(init.code).toBe(ExitCode.OK);
      expect(init.stdout).toContain('unseals itself from the token');
      expect(init.stdout).toContain('sealbox operator unseal --auto');
      const unsealed = await cli(['operator', 'unseal', '--auto', '--endpoint', first.url, '--output', 'json']);
      expect(unsealed.code).toBe(ExitCode.OK);
      expect(JSON.parse(unsealed.stdout)).toMatchObject({ sealed: false, type: 'pkcs11' });
    } finally {
      await first.close();
    }

    const wrong = await startWith({ ...tokenEnv, SEALBOX_SEAL_PKCS11_KEY_LABEL: 'not-the-cli-seal' });
    try {
      const status = await cli(['operator', 'seal-status', '--endpoint', wrong.url]);
      expect(status.code).toBe(ExitCode.OK);
      expect(status.stdout).toMatch(/Auto-unseal error:?\s+SEAL_TOKEN_KEY_NOT_FOUND/);
      const retried = await cli(['operator', 'unseal', '--auto', '--endpoint', wrong.url]);
      expect(retried.code).toBe(ExitCode.SERVER);
      expect(retried.stderr).toContain('SEAL_TOKEN_KEY_NOT_FOUND');
    } finally {
      await wrong.close();
    }
  }, 60_000);
});
