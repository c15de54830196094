import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SEAL_KEY_BYTES, unwrapWithKey, wrapWithKey, type KeyProtector } from './aead.js';
import { durableFiles, type DurableFiles } from './durable-files.js';
import { openSealedKeyFile } from './sealed-key-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-sealed-key-'));
  dirs.push(dir);
  return dir;
}

function protectorOf(rootKey: Buffer): KeyProtector {
  return { wrap: (plaintext, purpose) => wrapWithKey(rootKey, plaintext, purpose), unwrap: (wrapped, purpose) => unwrapWithKey(rootKey, wrapped, purpose) };
}

describe('openSealedKeyFile', () => {
  it('creates a random key kept only wrapped, and opens it again', async () => {
    const dir = tempDir();
    const protector = protectorOf(randomBytes(SEAL_KEY_BYTES));
    const path = join(dir, 'iam-master.key.sealed');
    const key = await openSealedKeyFile({ path, purpose: 'iam/master-key', protector });
    expect(key).toHaveLength(SEAL_KEY_BYTES);
    const stored = readFileSync(path);
    expect(stored.includes(key)).toBe(false);
    expect(stored.includes(Buffer.from(key.toString('base64')))).toBe(false);
    expect((await openSealedKeyFile({ path, purpose: 'iam/master-key', protector })).equals(key)).toBe(true);
    await expect(openSealedKeyFile({ path, purpose: 'iam/master-key', protector: protectorOf(randomBytes(32)) })).rejects.toThrow('does not open');
    await expect(openSealedKeyFile({ path, purpose: 'soft-hsm/master-key', protector })).rejects.toThrow('not a sealed key file');
  });

  it('migrates a clear key file: wrapped first, then the clear one removed; a crash in between is finished next time', async () => {
    const dir = tempDir();
    const protector = protectorOf(randomBytes(SEAL_KEY_BYTES));
    const clear = join(dir, 'iam-master.key');
    const path = join(dir, 'iam-master.key.sealed');
    const legacy = randomBytes(SEAL_KEY_BYTES);
    writeFileSync(clear, legacy, { mode: 0o600 });

    // Crash after the wrapped file is written, before the clear one is removed.
    const crashBeforeUnlink: DurableFiles = { ...durableFiles, remove: async () => Promise.reject(new Error('simulated crash before unlink')) };
    await expect(openSealedKeyFile({ path, purpose: 'iam/master-key', protector, legacyClearPath: clear, files: crashBeforeUnlink })).rejects.toThrow('simulated crash');
    expect(existsSync(clear)).toBe(true);
    expect(existsSync(path)).toBe(true);

    const key = await openSealedKeyFile({ path, purpose: 'iam/master-key', protector, legacyClearPath: clear });
    expect(key.equals(legacy)).toBe(true);
    expect(existsSync(clear)).toBe(false);
  });

  it('refuses a clear file that is another key than the wrapped one', async () => {
    const dir = tempDir();
    const protector = protectorOf(randomBytes(SEAL_KEY_BYTES));
    const path = join(dir, 'k.sealed');
    await openSealedKeyFile({ path, purpose: 'p', protector });
    writeFileSync(join(dir, 'k'), randomBytes(SEAL_KEY_BYTES), { mode: 0o600 });
    await expect(openSealedKeyFile({ path, purpose: 'p', protector, legacyClearPath: join(dir, 'k') })).rejects.toThrow('hold different keys');
  });
});
