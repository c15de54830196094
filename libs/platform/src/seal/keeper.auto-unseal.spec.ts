import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../errors/index.js';
import { ManualClock } from '../time/index.js';
import { autoUnsealAtStart } from './auto-unseal.js';
import { SEAL_FILE, SealKeeper } from './keeper.js';
import { unsealSources } from './sources/index.js';
import { FakeSealToken } from './testing/fake-seal-token.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-keeper-auto-'));
  dirs.push(dir);
  return dir;
}

const PASSPHRASE = 'correct horse battery staple';
const clock = () => new ManualClock(new Date('2026-01-01T00:00:00Z'));

function open(directory: string, token: FakeSealToken | undefined, keyLabel = 'sealbox-seal') {
  return SealKeeper.open({ directory, sources: unsealSources({ scryptLogN: 14, ...(token ? { pkcs11: { token, keyLabel } } : {}) }), clock: clock() });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('expected a DomainError');
}

const silent = { info: () => undefined, error: () => undefined };

describe('SealKeeper auto-unseal (pkcs11 source, fake token)', () => {
  it('init with the token leaves the store sealed; a new process unseals from the token with no input, to the same root key', async () => {
    const directory = tempDir();
    const token = new FakeSealToken();
    const first = await open(directory, token);
    expect((await first.initialize('pkcs11', {})).handout).toEqual([]);
    expect(first.sealed).toBe(true);
    expect(first.status()).toMatchObject({ type: 'pkcs11', initialized: true, sealed: true, t: 0, n: 1 });
    await first.autoUnseal();
    const wrapped = first.protector().wrap(Buffer.alloc(32, 1), 'test');

    const restarted = await open(directory, token);
    expect(restarted.autoUnseals).toBe(true);
    expect(await autoUnsealAtStart(restarted, silent)).toBe(true);
    expect(restarted.sealed).toBe(false);
    expect(restarted.protector().unwrap(wrapped, 'test').equals(Buffer.alloc(32, 1))).toBe(true);
    const stored = readFileSync(join(directory, SEAL_FILE), 'utf8');
    expect(JSON.parse(stored)).toMatchObject({ type: 'pkcs11', params: { mechanism: 'CKM_AES_GCM', tokenLabel: 'fake-token', keyLabel: 'sealbox-seal' } });
  });

  it('a wrong key label keeps it sealed with SEAL_TOKEN_KEY_NOT_FOUND, shown by the status until an unseal succeeds', async () => {
    const directory = tempDir();
    const token = new FakeSealToken();
    await (await open(directory, token)).initialize('pkcs11', {});
    const wrongLabel = await open(directory, token, 'not-the-seal-key');
    const lines: string[] = [];
    expect(await autoUnsealAtStart(wrongLabel, { info: () => undefined, error: (_fields: unknown, line?: string) => void lines.push(line ?? '') })).toBe(false);
    expect(wrongLabel.sealed).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('SEAL_TOKEN_KEY_NOT_FOUND');
    expect(wrongLabel.status().auto_unseal_error).toMatchObject({ code: 'SEAL_TOKEN_KEY_NOT_FOUND' });
    expect(await codeOf(wrongLabel.autoUnseal())).toBe('SEAL_TOKEN_KEY_NOT_FOUND');

    const right = await open(directory, token);
    token.unavailable = true;
    expect(await codeOf(right.autoUnseal())).toBe('SEAL_TOKEN_UNAVAILABLE');
    expect(right.status().auto_unseal_error?.code).toBe('SEAL_TOKEN_UNAVAILABLE');
    token.unavailable = false;
    await right.autoUnseal();
    expect(right.sealed).toBe(false);
    expect(right.status().auto_unseal_error).toBeUndefined();
  });

  it('another token (a copy of the data directory without the token) stays sealed with UNSEAL_FAILED or SEAL_TOKEN_KEY_NOT_FOUND', async () => {
    const directory = tempDir();
    await (await open(directory, new FakeSealToken())).initialize('pkcs11', {});
    expect(await codeOf((await open(directory, new FakeSealToken())).autoUnseal())).toBe('SEAL_TOKEN_KEY_NOT_FOUND');
    const impostor = new FakeSealToken();
    await impostor.ensureKey('sealbox-seal');
    expect(await codeOf((await open(directory, impostor)).autoUnseal())).toBe('UNSEAL_FAILED');
    expect(await codeOf((await open(directory, undefined)).autoUnseal())).toBe('SEAL_TOKEN_NOT_CONFIGURED');
  });

  it('refuses a key for a pkcs11 store and an empty unseal for a passphrase store, with UNSEAL_FAILED', async () => {
    const auto = await open(tempDir(), new FakeSealToken());
    await auto.initialize('pkcs11', {});
    expect(await codeOf(auto.unseal('some passphrase'))).toBe('UNSEAL_FAILED');
    const manual = await open(tempDir(), new FakeSealToken());
    await manual.initialize('passphrase', { passphrase: PASSPHRASE });
    expect(manual.autoUnseals).toBe(false);
    expect(await autoUnsealAtStart(manual, silent)).toBe(false);
    expect(await codeOf(manual.autoUnseal())).toBe('UNSEAL_FAILED');
  });

  it('rekeys passphrase → pkcs11 → shares without changing the root key; the old secrets stop opening it', async () => {
    const directory = tempDir();
    const token = new FakeSealToken();
    const keeper = await open(directory, token);
    await keeper.initialize('passphrase', { passphrase: PASSPHRASE });
    await keeper.unseal(PASSPHRASE);
    const wrapped = keeper.protector().wrap(Buffer.alloc(32, 2), 'test');
    await keeper.rekey('pkcs11', {});

    const onToken = await open(directory, token);
    expect(await codeOf(onToken.unseal(PASSPHRASE))).toBe('UNSEAL_FAILED');
    await onToken.autoUnseal();
    const { handout } = await onToken.rekey('shamir', { secret_shares: 3, secret_threshold: 2 });

    const onShares = await open(directory, token);
    expect(await codeOf(onShares.autoUnseal())).toBe('UNSEAL_FAILED');
    await onShares.unseal(handout[0] ?? '');
    await onShares.unseal(handout[2] ?? '');
    expect(onShares.protector().unwrap(wrapped, 'test').equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it('a rekey to pkcs11 with no token configured is SEAL_TOKEN_NOT_CONFIGURED and leaves seal.json as it was', async () => {
    const directory = tempDir();
    const keeper = await open(directory, undefined);
    await keeper.initialize('passphrase', { passphrase: PASSPHRASE });
    await keeper.unseal(PASSPHRASE);
    const before = readFileSync(join(directory, SEAL_FILE), 'utf8');
    expect(await codeOf(keeper.rekey('pkcs11', {}))).toBe('SEAL_TOKEN_NOT_CONFIGURED');
    expect(readFileSync(join(directory, SEAL_FILE), 'utf8')).toBe(before);
  });

  it('after a seal on demand the store stays sealed until an auto-unseal (restart or an empty unseal request)', async () => {
    const keeper = await open(tempDir(), new FakeSealToken());
    await keeper.initialize('pkcs11', {});
    await keeper.autoUnseal();
    keeper.seal();
    expect(keeper.sealed).toBe(true);
    expect(keeper.status().auto_unseal_error).toBeUndefined();
    await keeper.autoUnseal();
    expect(keeper.sealed).toBe(false);
  });
});
