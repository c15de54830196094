import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AesGcmMasterKey, loadMasterKeyFile, MasterKeyFileError } from './master-key.js';

const aad = Buffer.from('context-a');
const plaintext = Buffer.from('a private key, in clear');

describe('AesGcmMasterKey', () => {
  it('opens what it sealed, with a fresh nonce every time', async () => {
    const key = new AesGcmMasterKey(randomBytes(32));
    const first = await key.seal(plaintext, aad);
    const second = await key.seal(plaintext, aad);
    expect(first.equals(second)).toBe(false);
    expect(first.subarray(1, 13).equals(second.subarray(1, 13))).toBe(false);
    expect(first.length).toBe(1 + 12 + plaintext.length + 16);
    expect(first.includes(plaintext)).toBe(false);
    expect((await key.open(first, aad)).equals(plaintext)).toBe(true);
    expect((await key.open(second, aad)).equals(plaintext)).toBe(true);
  });

  it('refuses another context, a changed byte, a truncated blob and another key', async () => {
    const key = new AesGcmMasterKey(randomBytes(32));
    const sealed = await key.seal(plaintext, aad);
    await expect(key.open(sealed, Buffer.from('context-b'))).rejects.toThrow(/failed authentication/);
    for (const index of [13, sealed.length - 1]) {
      const changed = Buffer.from(sealed);
      changed[index] = (changed[index] ?? 0) ^ 1;
      await expect(key.open(changed, aad)).rejects.toThrow(/failed authentication/);
    }
    await expect(key.open(sealed.subarray(0, 20), aad)).rejects.toThrow(/malformed/);
    const otherVersion = Buffer.from(sealed);
    otherVersion[0] = 2;
    await expect(key.open(otherVersion, aad)).rejects.toThrow(/unknown version/);
    await expect(new AesGcmMasterKey(randomBytes(32)).open(sealed, aad)).rejects.toThrow(/failed authentication/);
  });

  it('accepts only 32-byte keys and zeroes the bytes it was given', () => {
    for (const length of [0, 16, 31, 33, 64]) {
      expect(() => new AesGcmMasterKey(randomBytes(length))).toThrow(`exactly 32 bytes, not ${length}`);
    }
    const bytes = randomBytes(32);
    new AesGcmMasterKey(bytes);
    expect(bytes.equals(Buffer.alloc(32))).toBe(true);
  });
});

describe('loadMasterKeyFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-master-key-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a missing file (and its folder) with 32 random bytes and mode 0600, leaving no temporary file', async () => {
    const path = join(dir, 'nested', 'master.key');
    const key = loadMasterKeyFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path).size).toBe(32);
    expect(readFileSync(path).equals(Buffer.alloc(32))).toBe(false);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['master.key']);
    // Later starts (and other replicas) read the same key.
    const sealed = await key.seal(plaintext, aad);
    expect((await loadMasterKeyFile(path).open(sealed, aad)).equals(plaintext)).toBe(true);
  });

  it('uses a key file that already exists (another replica created it)', async () => {
    const path = join(dir, 'master.key');
    const bytes = randomBytes(32);
    writeFileSync(path, bytes, { mode: 0o600 });
    const theirs = new AesGcmMasterKey(Buffer.from(bytes));
    const sealed = await theirs.seal(plaintext, aad);
    expect((await loadMasterKeyFile(path).open(sealed, aad)).equals(plaintext)).toBe(true);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it.each([0, 16, 31, 33, 64])('refuses a file of %i bytes', (length) => {
    const path = join(dir, 'master.key');
    writeFileSync(path, randomBytes(length), { mode: 0o600 });
    expect(() => loadMasterKeyFile(path)).toThrow(MasterKeyFileError);
    expect(() => loadMasterKeyFile(path)).toThrow(`must hold exactly 32 bytes, it holds ${length}`);
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o606, 0o601])('refuses a file with mode 0%o (group or others have access)', (mode) => {
    const path = join(dir, 'master.key');
    writeFileSync(path, randomBytes(32));
    chmodSync(path, mode);
    expect(() => loadMasterKeyFile(path)).toThrow(MasterKeyFileError);
    expect(() => loadMasterKeyFile(path)).toThrow(`mode 0${mode.toString(8)}`);
  });

  it('accepts a read-only file (0400)', () => {
    const path = join(dir, 'master.key');
    writeFileSync(path, randomBytes(32));
    chmodSync(path, 0o400);
    expect(loadMasterKeyFile(path)).toBeInstanceOf(AesGcmMasterKey);
  });

  it('refuses a folder in place of the file', () => {
    const path = join(dir, 'master.key');
    mkdirSync(path, { mode: 0o700 });
    expect(() => loadMasterKeyFile(path)).toThrow('is not a regular file');
  });
});
