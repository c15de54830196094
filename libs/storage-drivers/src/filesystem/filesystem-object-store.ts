import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FilesystemObjectStoreConfig } from '../config.js';
import {
  assertBucketName,
  assertObjectKey,
  assertObjectSize,
  bucketNotFound,
  checkedListOptions,
  objectNotFound,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
} from '../object-store.js';
import { DIRECTORY_MODE, errnoOf, fsyncDirectory, makeDirectory, writeFileAtomic } from './files.js';
import { DIRECTORY_SUFFIX, keyToPath, pathToKey } from './key-paths.js';

/** How often `put` starts over when a concurrent `delete` pruned the directory it was writing into. */
const PUT_ATTEMPTS = 4;
/** Bucket folders being removed are renamed to `<root>/.removing-<bucket>.<uuid>` first. */
const REMOVING = '.removing-';

/** Something planted in a bucket folder: never followed, reported as an internal error. */
const notARegularFile = (path: string) => new Error(`refusing ${path}: not a regular file`);

const isMissing = (error: unknown): boolean => {
  const code = errnoOf(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/**
 * The filesystem driver: a folder per bucket under `root` (mode 0700), a file per object (mode
 * 0600) whose name encodes the key (`key-paths.ts`: no key can reach outside its bucket folder),
 * written atomically (temp file + fsync + rename + directory fsync). Listing reads the bucket folder
 * and sorts, which suits the standalone deployment it is made for.
 */
export class FilesystemObjectStore implements ObjectStore {
  readonly driver = 'filesystem';
  private readonly root: string;

  constructor(config: Pick<FilesystemObjectStoreConfig, 'root'>) {
    this.root = resolve(config.root);
  }

  private bucketDirectory(bucket: string): string {
    assertBucketName(bucket);
    return join(this.root, bucket);
  }

  async createBucket(bucket: string): Promise<void> {
    const directory = this.bucketDirectory(bucket);
    await mkdir(this.root, { recursive: true, mode: DIRECTORY_MODE });
    if (!(await makeDirectory(this.root, bucket)) && !(await stat(directory)).isDirectory()) {
      throw new Error(`${directory} exists and is not a directory`);
    }
  }

  async removeBucket(bucket: string): Promise<void> {
    const directory = this.bucketDirectory(bucket);
    const trash = join(this.root, `${REMOVING}${bucket}.${randomUUID()}`);
    try {
      // The bucket disappears at once (a rename); its content is deleted afterwards.
      await rename(directory, trash);
      await fsyncDirectory(this.root);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    // This removal's folder and whatever an interrupted removal of the same bucket left behind.
    const leftovers = await readdir(this.root).catch((error: unknown) => {
      if (isMissing(error)) return [];
      throw error;
    });
    for (const entry of leftovers) {
      if (entry.startsWith(`${REMOVING}${bucket}.`)) await rm(join(this.root, entry), { recursive: true, force: true });
    }
  }

  async bucketExists(bucket: string): Promise<boolean> {
    const directory = this.bucketDirectory(bucket);
    try {
      return (await stat(directory)).isDirectory();
    } catch (error) {
      // Only ENOENT: a root that is not a folder (ENOTDIR) is broken, not empty.
      if (errnoOf(error) === 'ENOENT') return false;
      throw error;
    }
  }

  async put(bucket: string, key: string, bytes: Uint8Array): Promise<void> {
    const directory = this.bucketDirectory(bucket);
    assertObjectKey(key);
    assertObjectSize(bytes);
    const components = keyToPath(key);
    const name = components.pop() as string;
    for (let attempt = 1; ; attempt++) {
      try {
        // Never creates the bucket folder itself: a put into a removed bucket must not revive it.
        let parent = directory;
        for (const component of components) {
          await makeDirectory(parent, component);
          parent = join(parent, component);
        }
        await writeFileAtomic(parent, name, bytes);
        return;
      } catch (error) {
        if (!isMissing(error)) throw error;
        if (!(await this.bucketExists(bucket))) throw bucketNotFound(bucket);
        if (attempt >= PUT_ATTEMPTS) throw error;
      }
    }
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    const directory = this.bucketDirectory(bucket);
    assertObjectKey(key);
    const path = join(directory, ...keyToPath(key));
    let handle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isMissing(error)) throw await this.notFound(bucket, key);
      if (errnoOf(error) === 'ELOOP') throw notARegularFile(path);
      throw error;
    }
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    const directory = this.bucketDirectory(bucket);
    assertObjectKey(key);
    const path = join(directory, ...keyToPath(key));
    let info;
    try {
      info = await lstat(path);
    } catch (error) {
      if (isMissing(error)) throw await this.notFound(bucket, key);
      throw error;
    }
    if (!info.isFile()) throw notARegularFile(path);
    return { size: info.size };
  }

  async delete(bucket: string, key: string): Promise<void> {
    const directory = this.bucketDirectory(bucket);
    assertObjectKey(key);
    const components = keyToPath(key);
    try {
      await unlink(join(directory, ...components));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    // Prune the folders of a long key that are now empty, deepest first; stop at the first in use.
    let depth = components.length - 1;
    for (; depth > 0; depth--) {
      try {
        await rmdir(join(directory, ...components.slice(0, depth)));
      } catch (error) {
        const code = errnoOf(error);
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || isMissing(error)) break;
        throw error;
      }
    }
    try {
      await fsyncDirectory(join(directory, ...components.slice(0, depth)));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async list(bucket: string, options: ListOptions): Promise<ListPage> {
    const directory = this.bucketDirectory(bucket);
    const { prefix, startAfter, limit } = checkedListOptions(options);
    let found: string[];
    try {
      found = await this.keysUnder(directory, [], true);
    } catch (error) {
      if (isMissing(error)) throw bucketNotFound(bucket);
      throw error;
    }
    const after = Buffer.from(startAfter, 'utf8');
    const matching = found
      .filter((key) => key.startsWith(prefix))
      .map((key) => ({ key, bytes: Buffer.from(key, 'utf8') }))
      .filter((entry) => Buffer.compare(entry.bytes, after) > 0)
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    const keys = matching.slice(0, limit).map((entry) => entry.key);
    return matching.length > limit ? { keys, nextStartAfter: keys[keys.length - 1] as string } : { keys };
  }

  /** Every key in a bucket folder; folders that vanish meanwhile (pruned by a delete) hold none. */
  private async keysUnder(directory: string, components: readonly string[], top: boolean): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(join(directory, ...components), { withFileTypes: true });
    } catch (error) {
      if (!top && isMissing(error)) return [];
      throw error;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      const path = [...components, entry.name];
      if (entry.isDirectory() && entry.name.endsWith(DIRECTORY_SUFFIX)) {
        keys.push(...(await this.keysUnder(directory, path, false)));
      } else if (entry.isFile()) {
        const key = pathToKey(path);
        if (key !== undefined) keys.push(key);
      }
    }
    return keys;
  }

  private async notFound(bucket: string, key: string) {
    return (await this.bucketExists(bucket)) ? objectNotFound(bucket, key) : bucketNotFound(bucket);
  }
}
