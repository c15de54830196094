import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HsmKeyExistsError, HsmUnavailableError } from '../hsm.js';
import { describeHsmConformance } from '../testing/hsm-conformance.js';
import { unwrapWithKey, wrapWithKey, type KeyProtector } from '@sealbox/platform';
import { SoftHsm, type SoftHsmOptions } from './soft-hsm.js';

// The soft backend's storage IS a directory: a temp one per suite (the brief allows it in the unit tier).
describeHsmConformance('soft', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'sealbox-soft-hsm-'));
  return {
    open: () => new SoftHsm({ directory: join(directory, 'hsm') }),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
});

// With the key store's protector (standalone): the same contract, the master key never in clear.
describeHsmConformance('soft, sealed master key', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'sealbox-soft-hsm-sealed-'));
  const protector = testProtector();
  return {
    open: () => new SoftHsm({ directory: join(directory, 'hsm'), protector }),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
});

function testProtector(rootKey = randomBytes(32)): KeyProtector {
  return { wrap: (plaintext, purpose) => wrapWithKey(rootKey, plaintext, purpose), unwrap: (wrapped, purpose) => unwrapWithKey(rootKey, wrapped, purpose) };
}

describe('SoftHsm with the key store (sealed master key)', () => {
  let root: string;
  let directory: string;
  const opened: SoftHsm[] = [];
  const open = (protector: KeyProtector | undefined, files?: SoftHsmOptions['files']): SoftHsm => {
    const hsm = new SoftHsm({ directory, ...(protector ? { protector } : {}), ...(files ? { files } : {}) });
    opened.push(hsm);
    return hsm;
  };
  const closeAll = async () => {
    for (const hsm of opened.splice(0)) await hsm.close();
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sealbox-soft-hsm-sealed-'));
    directory = join(root, 'hsm');
  });

  afterEach(async () => {
    await closeAll();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps the master key only wrapped inside keys.json (version 2): no master.key file', async () => {
    const protector = testProtector();
    const hsm = open(protector);
    await hsm.generateKey('root');
    const sealed = await hsm.encrypt({ label: 'root' }, Buffer.from('data'));
    expect((await readdir(directory)).sort()).toEqual(['keys.json']);
    const file = JSON.parse(await readFile(join(directory, 'keys.json'), 'utf8')) as { version: number; masterKey: string };
    expect(file.version).toBe(2);
    expect(typeof file.masterKey).toBe('string');
    await closeAll();
    // Another root key (a copy of the directory without the unseal secret) opens nothing.
    await expect(open(testProtector()).hasKey('root')).rejects.toThrow();
    await closeAll();
    // Without a protector, a sealed keys.json is refused, not silently replaced.
    await expect(open(undefined).hasKey('root')).rejects.toThrow(/sealed/);
    await closeAll();
    expect((await open(protector).decrypt({ label: 'root' }, sealed)).toString()).toBe('data');
  });

  it('migrates a clear master.key of an older version: keys.json takes it wrapped, then master.key goes', async () => {
    const legacy = open(undefined);
    await legacy.generateKey('old');
    const sealed = await legacy.encrypt({ label: 'old' }, Buffer.from('old data'));
    await closeAll();
    expect((await readdir(directory)).sort()).toEqual(['keys.json', 'master.key']);

    const protector = testProtector();
    expect((await open(protector).decrypt({ label: 'old' }, sealed)).toString()).toBe('old data');
    expect((await readdir(directory)).sort()).toEqual(['keys.json']);
    await closeAll();
    expect((await open(protector).decrypt({ label: 'old' }, sealed)).toString()).toBe('old data');
  });

  it('a migration that stopped between writing keys.json and removing master.key is finished by the next open (the same key), refused for another key', async () => {
    const legacy = open(undefined);
    await legacy.generateKey('old');
    const sealed = await legacy.encrypt({ label: 'old' }, Buffer.from('old data'));
    await closeAll();
    const clear = await readFile(join(directory, 'master.key'));
    const protector = testProtector();
    await open(protector).hasKey('old');
    await closeAll();
    // The crash: keys.json (version 2) is there, and so is the clear master.key.
    await writeFile(join(directory, 'master.key'), clear, { mode: 0o600 });
    expect((await open(protector).decrypt({ label: 'old' }, sealed)).toString()).toBe('old data');
    expect((await readdir(directory)).sort()).toEqual(['keys.json']);
    await closeAll();
    // Another key in master.key is not silently dropped.
    await writeFile(join(directory, 'master.key'), randomBytes(32), { mode: 0o600 });
    await expect(open(protector).hasKey('old')).rejects.toThrow(/not the master key/);
  });

  it('rotates the master key: every key re-sealed in one atomic write, data still decrypts; a crash during rotation leaves the old set usable', async () => {
    const protector = testProtector();
    const hsm = open(protector);
    await hsm.generateKey('a');
    await hsm.importKey('b', randomBytes(32));
    const wrapped = await hsm.generateWrappedKey('a');
    const sealedA = await hsm.encrypt({ label: 'a' }, Buffer.from('under a'));
    const sealedW = await hsm.encrypt({ wrappedBy: 'a', blob: wrapped }, Buffer.from('under a wrapped key'));
    const before = JSON.parse(await readFile(join(directory, 'keys.json'), 'utf8')) as { masterKey: string; keys: { sealed: string }[] };

    expect(await hsm.rotateMasterKey()).toBe(2);
    const after = JSON.parse(await readFile(join(directory, 'keys.json'), 'utf8')) as { masterKey: string; keys: { sealed: string }[] };
    expect(after.masterKey).not.toBe(before.masterKey);
    expect(after.keys.map((key) => key.sealed)).not.toEqual(before.keys.map((key) => key.sealed));
    expect((await hsm.decrypt({ label: 'a' }, sealedA)).toString()).toBe('under a');
    await closeAll();

    // Reopened from disk: the rotated file opens and the data still decrypts.
    expect((await open(protector).decrypt({ wrappedBy: 'a', blob: wrapped }, sealedW)).toString()).toBe('under a wrapped key');
    await closeAll();

    // A crash before the rename: the rotation fails, the file on disk is the previous one, whole.
    const crashing = open(protector, { writeAtomic: async () => Promise.reject(new Error('simulated crash before rename')) });
    await expect(crashing.rotateMasterKey()).rejects.toThrow('simulated crash');
    expect((await crashing.decrypt({ label: 'a' }, sealedA)).toString()).toBe('under a');
    await closeAll();
    expect(JSON.parse(await readFile(join(directory, 'keys.json'), 'utf8'))).toMatchObject({ masterKey: after.masterKey });
    expect((await open(protector).decrypt({ label: 'a' }, sealedA)).toString()).toBe('under a');
  });

  it('refuses to rotate without the key store', async () => {
    await expect(open(undefined).rotateMasterKey()).rejects.toThrow('needs the sealed key store');
  });
});

describe('SoftHsm storage', () => {
  let root: string;
  let directory: string;
  const opened: SoftHsm[] = [];
  const open = (dir = directory): SoftHsm => {
    const hsm = new SoftHsm({ directory: dir });
    opened.push(hsm);
    return hsm;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sealbox-soft-hsm-'));
    directory = join(root, 'hsm');
  });

  afterEach(async () => {
    for (const hsm of opened.splice(0)) await hsm.close();
    await rm(root, { recursive: true, force: true });
  });

  it('creates a 0700 directory, a 32-byte 0600 master key and a 0600 key file without key material in clear', async () => {
    const hsm = open();
    const material = randomBytes(32);
    await hsm.importKey('root', Buffer.from(material));
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    const master = await stat(join(directory, 'master.key'));
    expect(master.mode & 0o777).toBe(0o600);
    expect(master.size).toBe(32);
    const keysFile = await stat(join(directory, 'keys.json'));
    expect(keysFile.mode & 0o777).toBe(0o600);
    const stored = await readFile(join(directory, 'keys.json'));
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      expect(stored.includes(material.toString(encoding))).toBe(false);
    }
    expect(stored.includes(material)).toBe(false);
    expect(JSON.parse(stored.toString('utf8'))).toMatchObject({ format: 'sealbox-soft-hsm', version: 1, keys: [{ label: 'root' }] });
    // No temp file is left behind.
    expect((await readdir(directory)).sort()).toEqual(['keys.json', 'master.key']);
  });

  it('keeps the master key it finds and uses it again', async () => {
    const hsm = open();
    await hsm.generateKey('k');
    const before = await readFile(join(directory, 'master.key'));
    await hsm.close();
    const again = open();
    expect(await again.hasKey('k')).toBe(true);
    expect((await readFile(join(directory, 'master.key'))).equals(before)).toBe(true);
  });

  it('refuses a master key readable by group or others', async () => {
    await mkdir(directory, { mode: 0o700 });
    await writeFile(join(directory, 'master.key'), randomBytes(32), { mode: 0o600 });
    await chmod(join(directory, 'master.key'), 0o640);
    const hsm = open();
    await expect(hsm.hasKey('k')).rejects.toBeInstanceOf(HsmUnavailableError);
    await expect(hsm.open()).rejects.toThrow(/mode 640/);
    // Fixed on disk: the next call opens (a failed open is not remembered).
    await chmod(join(directory, 'master.key'), 0o600);
    expect(await hsm.hasKey('k')).toBe(false);
  });

  it.each([0, 16, 31, 33, 64])('refuses a master key of %i bytes', async (size) => {
    await mkdir(directory, { mode: 0o700 });
    await writeFile(join(directory, 'master.key'), randomBytes(size), { mode: 0o600 });
    await expect(open().open()).rejects.toThrow(/exactly 32 bytes/);
  });

  it('refuses a master key behind a symbolic link and a directory others can open', async () => {
    await mkdir(directory, { mode: 0o700 });
    await writeFile(join(root, 'elsewhere.key'), randomBytes(32), { mode: 0o600 });
    await symlink(join(root, 'elsewhere.key'), join(directory, 'master.key'));
    await expect(open().open()).rejects.toThrow(/symbolic link/);

    const loose = join(root, 'loose');
    await mkdir(loose, { mode: 0o700 });
    await chmod(loose, 0o755);
    await expect(open(loose).open()).rejects.toThrow(/chmod 700/);
  });

  it('refuses a key file that was edited, or sealed under another master key', async () => {
    const hsm = open();
    await hsm.generateKey('a');
    await hsm.generateKey('b');
    await hsm.close();
    const path = join(directory, 'keys.json');
    const original = JSON.parse(await readFile(path, 'utf8')) as { keys: Array<{ label: string; sealed: string }> };

    /** Open the directory afresh (no instance of it left open) and close again. */
    const reopen = async (): Promise<void> => {
      const hsm = new SoftHsm({ directory });
      try {
        await hsm.open();
      } finally {
        await hsm.close();
      }
    };

    // The entries are bound to their labels: swapping them is noticed.
    const [a, b] = original.keys;
    const swapped = { ...original, keys: [{ label: 'a', sealed: b!.sealed }, { label: 'b', sealed: a!.sealed }] };
    await writeFile(path, JSON.stringify(swapped), { mode: 0o600 });
    await expect(reopen()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/does not open under the master key/) });

    await writeFile(path, JSON.stringify(original), { mode: 0o600 });
    await expect(reopen()).resolves.toBeUndefined();

    await writeFile(join(directory, 'master.key'), randomBytes(32), { mode: 0o600 });
    await expect(reopen()).rejects.toBeInstanceOf(HsmUnavailableError);

    await writeFile(path, '{"not":"a key file"}', { mode: 0o600 });
    await expect(reopen()).rejects.toThrow(/not a soft HSM key file/);
  });

  it('removes temp files a crash left behind', async () => {
    const hsm = open();
    await hsm.generateKey('k');
    await hsm.close();
    await writeFile(join(directory, '.keys.json.0a1b.tmp'), 'partial', { mode: 0o600 });
    const again = open();
    expect(await again.hasKey('k')).toBe(true);
    expect((await readdir(directory)).sort()).toEqual(['keys.json', 'master.key']);
  });

  it('persists every one of many concurrent creations, and refuses the duplicates', async () => {
    const hsm = open();
    const labels = Array.from({ length: 40 }, (_, index) => `key-${index % 20}`);
    const results = await Promise.allSettled(labels.map((label) => hsm.generateKey(label)));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(20);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(HsmKeyExistsError);
    }
    await hsm.close();
    const again = open();
    for (let index = 0; index < 20; index += 1) expect(await again.hasKey(`key-${index}`)).toBe(true);
  });

  it('agrees on one master key when two instances create it at once', async () => {
    const [first, second] = [open(), open()];
    await Promise.all([first.open(), second.open()]);
    await first.importKey('shared', randomBytes(32));
    const sealed = await first.encrypt({ label: 'shared' }, Buffer.from('x'));
    await first.close();
    const third = open();
    expect((await third.decrypt({ label: 'shared' }, sealed)).toString()).toBe('x');
  });
});
