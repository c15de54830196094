import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GroupSync } from '@sealbox/platform';

/** File helpers of the filesystem driver: private modes, atomic replacement, durable directories. */

export const DIRECTORY_MODE = 0o700;
export const FILE_MODE = 0o600;

export function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

async function fsyncNow(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A GroupSync per directory with an fsync running or waiting; dropped once idle, so the map stays small. */
const directorySyncs = new Map<string, GroupSync>();

/**
 * Make a directory's entries (a new file name, a rename, a removal) survive a crash: resolves once an
 * fsync of the directory that began after the call has finished. Concurrent callers on one directory
 * (puts into one bucket) share one fsync instead of one each.
 */
export async function fsyncDirectory(directory: string): Promise<void> {
  let sync = directorySyncs.get(directory);
  if (!sync) {
    sync = new GroupSync(() => fsyncNow(directory));
    directorySyncs.set(directory, sync);
  }
  try {
    await sync.durable();
  } finally {
    if (sync.idle && directorySyncs.get(directory) === sync) directorySyncs.delete(directory);
  }
}

/**
 * Create `<parent>/<name>` (mode 0700) unless it exists; never creates `parent` itself (ENOENT
 * when it is missing). Returns whether it was created.
 */
export async function makeDirectory(parent: string, name: string): Promise<boolean> {
  try {
    await mkdir(join(parent, name), { mode: DIRECTORY_MODE });
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw error;
  }
  await fsyncDirectory(parent);
  return true;
}

/**
 * Replace `<directory>/<name>` atomically: a temp file (mode 0600, a dot name no key maps to) is
 * written and fsynced, renamed over the target, and the directory is fsynced. A reader sees the old
 * bytes or the new ones, never a mix; a crash leaves at most a stray temp file.
 */
export async function writeFileAtomic(directory: string, name: string, data: Uint8Array): Promise<void> {
  const temp = join(directory, `.${randomUUID()}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(directory, name));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDirectory(directory);
}
