import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../errors/index.js';
import { ManualClock } from '../time/index.js';
import { durableFiles, type DurableFiles } from './durable-files.js';
import { SEAL_FILE, SealKeeper } from './keeper.js';
import { unsealSources } from './sources/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-keeper-'));
  dirs.push(dir);
  return dir;
}

const sources = unsealSources({ scryptLogN: 14 });
const PASSPHRASE = 'correct horse battery staple';

function open(directory: string, options: { clock?: ManualClock; files?: DurableFiles } = {}) {
  return SealKeeper.open({ directory, sources, clock: options.clock ?? new ManualClock(new Date('2026-01-01T00:00:00Z')), ...(options.files ? { files: options.files } : {}) });
}

/** The DomainError code a promise rejects with (fails the test when it resolves). */
async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('expected a DomainError');
}

/** Files whose atomic write fails (a crash before the rename): nothing is replaced. */
const failingWrites: DurableFiles = {
  ...durableFiles,
  async writeAtomic() {
    throw new Error('simulated crash before rename');
  },
};

describe('SealKeeper', () => {
  it('starts uninitialised and sealed; init leaves it sealed; the passphrase unseals; seal zeroes', async () => {
    const dir = tempDir();
    const keeper = await open(dir);
    expect(keeper.status()).toEqual({ initialized: false, sealed: true, t: 0, n: 0, progress: 0 });
    expect(await codeOf(keeper.unseal(PASSPHRASE))).toBe('SEAL_NOT_INITIALIZED');
    expect(await codeOf(() => keeper.protector().wrap(Buffer.alloc(32), 'x'))).toBe('SEALED');

    expect(await keeper.initialize('passphrase', { passphrase: PASSPHRASE })).toEqual({ handout: [] });
    expect(keeper.status()).toEqual({ type: 'passphrase', initialized: true, sealed: true, t: 1, n: 1, progress: 0 });
    expect(await codeOf(keeper.initialize('passphrase', { passphrase: PASSPHRASE }))).toBe('CONFLICT');
    expect(await codeOf(keeper.unseal('not the passphrase'))).toBe('UNSEAL_FAILED');
    expect((await keeper.unseal(PASSPHRASE)).sealed).toBe(false);

    const protector = keeper.protector();
    const wrapped = protector.wrap(Buffer.from('master key material 32 bytes....'), 'soft-hsm/master-key');
    expect(protector.unwrap(wrapped, 'soft-hsm/master-key').toString()).toBe('master key material 32 bytes....');
    expect(() => protector.unwrap(wrapped, 'iam/master-key')).toThrow('does not open');
    keeper.seal();
    expect(keeper.sealed).toBe(true);
    expect(await codeOf(() => protector.unwrap(wrapped, 'soft-hsm/master-key'))).toBe('SEALED');

    // Another process on the same directory: the same root key comes back.
    const again = await open(dir);
    await again.unseal(PASSPHRASE);
    expect(again.protector().unwrap(wrapped, 'soft-hsm/master-key').toString()).toBe('master key material 32 bytes....');
  });

  it('seal.json holds no secret, and its parameters are bound to the wrapped root key', async () => {
    const dir = tempDir();
    const keeper = await open(dir);
    await keeper.initialize('passphrase', { passphrase: PASSPHRASE });
    const text = readFileSync(join(dir, SEAL_FILE), 'utf8');
    expect(text).not.toContain(PASSPHRASE);
    const file = JSON.parse(text) as { params: { logN: number } };
    // Editing the stored cost: the root key no longer opens even with the right passphrase.
    file.params.logN = 15;
    await durableFiles.writeAtomic(join(dir, SEAL_FILE), Buffer.from(JSON.stringify(file)));
    const edited = await open(dir);
    expect(await codeOf(edited.unseal(PASSPHRASE))).toBe('UNSEAL_FAILED');
  });

  it('rate limits failed unseals: 5 per minute, then RATE_LIMITED until the window moves on', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const keeper = await open(tempDir(), { clock });
    await keeper.initialize('passphrase', { passphrase: PASSPHRASE });
    for (let attempt = 0; attempt < 5; attempt++) expect(await codeOf(keeper.unseal(`wrong passphrase ${attempt}`))).toBe('UNSEAL_FAILED');
    expect(await codeOf(keeper.unseal(PASSPHRASE))).toBe('RATE_LIMITED');
    clock.advance(60_001);
    expect((await keeper.unseal(PASSPHRASE)).sealed).toBe(false);
  });

  it('Shamir k of n: progress one share at a time, a wrong set resets it', async () => {
    const keeper = await open(tempDir());
    const { handout } = await keeper.initialize('shamir', { secret_shares: 5, secret_threshold: 3 });
    expect(handout).toHaveLength(5);
    const other = await (await open(tempDir())).initialize('shamir', { secret_shares: 5, secret_threshold: 3 });
    expect((await keeper.unseal(handout[1] ?? '')).progress).toBe(1);
    expect((await keeper.unseal(handout[3] ?? '')).progress).toBe(2);
    // A share of another store completes the count but not the secret.
    expect(await codeOf(keeper.unseal(other.handout[0] ?? ''))).toBe('UNSEAL_FAILED');
    expect(keeper.status().progress).toBe(0);
    for (const share of [handout[4], handout[0]]) await keeper.unseal(share ?? '');
    expect((await keeper.unseal(handout[2] ?? '')).sealed).toBe(false);
  });

  it('rekey changes the secret, not the root key: what was wrapped still opens, the old secret does not', async () => {
    const dir = tempDir();
    const keeper = await open(dir);
    const { handout } = await keeper.initialize('shamir', { secret_shares: 3, secret_threshold: 2 });
    expect(await codeOf(keeper.rekey('passphrase', { passphrase: PASSPHRASE }))).toBe('SEALED');
    await keeper.unseal(handout[0] ?? '');
    await keeper.unseal(handout[1] ?? '');
    const wrapped = keeper.protector().wrap(Buffer.alloc(32, 9), 'iam/master-key');
    expect(await keeper.rekey('passphrase', { passphrase: PASSPHRASE })).toEqual({ handout: [] });

    const reopened = await open(dir);
    expect(reopened.status()).toMatchObject({ type: 'passphrase', t: 1 });
    // An old share is now taken for a (wrong) passphrase.
    expect(await codeOf(reopened.unseal(handout[0] ?? ''))).toBe('UNSEAL_FAILED');
    await reopened.unseal(PASSPHRASE);
    expect(reopened.protector().unwrap(wrapped, 'iam/master-key').equals(Buffer.alloc(32, 9))).toBe(true);
  });

  it('a crash during init or rekey (the write fails before its rename) leaves a usable store', async () => {
    const dir = tempDir();
    const crashingInit = await open(dir, { files: failingWrites });
    await expect(crashingInit.initialize('passphrase', { passphrase: PASSPHRASE })).rejects.toThrow('simulated crash');
    // Nothing was initialised: init again works.
    const keeper = await open(dir);
    expect(keeper.initialized).toBe(false);
    await keeper.initialize('passphrase', { passphrase: PASSPHRASE });

    const crashingRekey = await open(dir, { files: failingWrites });
    await crashingRekey.unseal(PASSPHRASE);
    await expect(crashingRekey.rekey('passphrase', { passphrase: 'another long passphrase' })).rejects.toThrow('simulated crash');
    const after = await open(dir);
    expect((await after.unseal(PASSPHRASE)).sealed).toBe(false);
  });

  it('refuses a seal.json that is not one', async () => {
    const dir = tempDir();
    await durableFiles.writeAtomic(join(dir, SEAL_FILE), Buffer.from('{"format":"other"}'));
    await expect(open(dir)).rejects.toThrow('is not a Sealbox seal file');
  });
});
