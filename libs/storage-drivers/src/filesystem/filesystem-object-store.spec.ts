import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bucketNameFor } from '../bucket-names.js';
import { createObjectStore } from '../create-object-store.js';
import { describeObjectStoreConformance, storeErrorOf } from '../testing/object-store-conformance.js';
import { FilesystemObjectStore } from './filesystem-object-store.js';
import { keyToPath } from './key-paths.js';

describeObjectStoreConformance('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sealbox-objects-'));
  return { store: createObjectStore({ driver: 'filesystem', root: join(root, 'objects') }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function fresh(): Promise<{ root: string; store: FilesystemObjectStore; bucket: string }> {
  const root = await mkdtemp(join(tmpdir(), 'sealbox-objects-'));
  roots.push(root);
  const store = new FilesystemObjectStore({ root: join(root, 'objects') });
  const bucket = bucketNameFor('6f0c1b9e-3d2a-4c5b-8e7f-0123456789ab');
  await store.createBucket(bucket);
  return { root: join(root, 'objects'), store, bucket };
}

/** Every path under a folder, relative, sorted. */
async function tree(directory: string): Promise<string[]> {
  return ((await readdir(directory, { recursive: true })) as string[]).sort();
}

describe('filesystem driver', () => {
  it('keeps folders private (0700) and files private (0600), nested folders included', async () => {
    const { root, store, bucket } = await fresh();
    const longKey = `deep/${'x'.repeat(300)}`;
    await store.put(bucket, 'a', Buffer.from('1'));
    await store.put(bucket, longKey, Buffer.from('2'));
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, bucket))).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, bucket, ...keyToPath('a')))).mode & 0o777).toBe(0o600);
    const components = keyToPath(longKey);
    expect(components.length).toBeGreaterThan(1);
    expect((await stat(join(root, bucket, components[0] as string))).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, bucket, ...components))).mode & 0o777).toBe(0o600);
  });

  it('stores keys that look like paths inside the bucket folder, as encoded names', async () => {
    const { root, store, bucket } = await fresh();
    await store.put(bucket, 'secrets/s1/versions/v1', Buffer.from('x'));
    await store.put(bucket, '~/.ssh/id_rsa', Buffer.from('y'));
    expect(await readdir(root)).toEqual([bucket]);
    expect(await tree(join(root, bucket))).toEqual(['_7e_2f_2essh_2fid_5frsa.o', 'secrets_2fs1_2fversions_2fv1.o']);
  });

  it('leaves no temp file behind and removes the folders of a long key with its last object', async () => {
    const { root, store, bucket } = await fresh();
    const first = `long/${'a'.repeat(400)}/1`;
    const second = `long/${'a'.repeat(400)}/2`;
    await store.put(bucket, first, Buffer.from('1'));
    await store.put(bucket, second, Buffer.from('2'));
    await store.put(bucket, second, Buffer.from('22'));
    expect((await tree(join(root, bucket))).filter((path) => path.endsWith('.tmp'))).toEqual([]);
    await store.delete(bucket, first);
    expect(await store.get(bucket, second)).toEqual(Buffer.from('22'));
    await store.delete(bucket, second);
    expect(await readdir(join(root, bucket))).toEqual([]);
  });

  it('lists in UTF-8 byte order where UTF-16 order differs, and across "/" and lower characters', async () => {
    const { store, bucket } = await fresh();
    const keys = ['k', 'k-1', 'k/x', 'k.b', 'k0', '\uFF61', '\u{1F511}', 'K'];
    for (const key of keys) await store.put(bucket, key, Buffer.alloc(0));
    const listed = (await store.list(bucket, { limit: 100 })).keys;
    expect(listed).toEqual(['K', 'k', 'k-1', 'k.b', 'k/x', 'k0', '\uFF61', '\u{1F511}']);
    expect((await store.list(bucket, { limit: 2, startAfter: 'k-1' })).keys).toEqual(['k.b', 'k/x']);
    expect((await store.list(bucket, { limit: 1, startAfter: '\uFF61' })).keys).toEqual(['\u{1F511}']);
  });

  it('ignores names it did not make: temp files, stray files, non-canonical names, symbolic links to folders', async () => {
    const { root, store, bucket } = await fresh();
    await store.put(bucket, 'real', Buffer.from('r'));
    const folder = join(root, bucket);
    await writeFile(join(folder, '.0b5c.tmp'), 'partial');
    await writeFile(join(folder, 'notes.txt'), 'stray');
    await writeFile(join(folder, '_72eal.o'), 'escaped letter');
    await writeFile(join(folder, 'A.o'), 'uppercase');
    await writeFile(join(folder, '_ff.o'), 'malformed utf-8');
    await mkdir(join(folder, 'orphan.d'), { mode: 0o700 });
    await writeFile(join(folder, 'orphan.d', 'x.o'), 'chunk too short to be a folder of the codec');
    await symlink(tmpdir(), join(folder, 'escape.d'));
    expect((await store.list(bucket, { limit: 100 })).keys).toEqual(['real']);
  });

  it('refuses to read an object file that is a symbolic link', async () => {
    const { root, store, bucket } = await fresh();
    await writeFile(join(root, 'outside'), 'not an object');
    await symlink(join(root, 'outside'), join(root, bucket, ...keyToPath('linked')));
    await expect(store.get(bucket, 'linked')).rejects.toThrow(/not a regular file/);
    await expect(store.head(bucket, 'linked')).rejects.toThrow(/not a regular file/);
    expect((await storeErrorOf(store.get(bucket, 'absent'))).code).toBe('NOT_FOUND');
  });

  it('overwrites atomically: concurrent puts of different lengths leave one whole value', async () => {
    const { store, bucket } = await fresh();
    const candidates = Array.from({ length: 16 }, (_, index) => Buffer.alloc(10_000 + index * 997, index + 1));
    await Promise.all(candidates.map((body) => store.put(bucket, 'contended', body)));
    const final = await store.get(bucket, 'contended');
    expect(candidates.some((body) => body.equals(final))).toBe(true);
  });

  it('keeps puts and deletes of long keys that share folders consistent when they race', async () => {
    const { store, bucket } = await fresh();
    const shared = `race/${'s'.repeat(500)}`;
    const keys = Array.from({ length: 12 }, (_, index) => `${shared}/${index}`);
    for (let round = 0; round < 5; round++) {
      await Promise.all(keys.map((key, index) => (index % 2 === round % 2 ? store.put(bucket, key, Buffer.from(key)) : store.delete(bucket, key))));
    }
    const listed = (await store.list(bucket, { limit: 100 })).keys;
    expect(listed).toEqual(keys.filter((_, index) => index % 2 === 0).sort());
    for (const key of listed) expect(await store.get(bucket, key)).toEqual(Buffer.from(key));
  });

  it('removes a bucket even when an interrupted removal left its folder behind', async () => {
    const { root, store, bucket } = await fresh();
    await mkdir(join(root, `.removing-${bucket}.00000000-0000-4000-8000-000000000000`, 'leftover.d'), { recursive: true });
    await store.put(bucket, 'x', Buffer.from('x'));
    await store.removeBucket(bucket);
    expect(await readdir(root)).toEqual([]);
  });
});
