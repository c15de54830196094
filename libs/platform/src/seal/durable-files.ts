import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Crash-safe file steps of the key store: a file is replaced by writing a private temp file, fsync,
 * rename over the target, fsync of the directory; a file is removed by unlink then fsync of the
 * directory. A crash between two steps leaves either the old or the new file, never half of one.
 * An interface so tests can make one step fail (a crash simulated at that point).
 */
export interface DurableFiles {
  /** Read a whole file, or undefined when it does not exist. Symbolic links are refused. */
  read(path: string): Promise<Buffer | undefined>;
  /** Replace `path` atomically with `data` (mode 0600). */
  writeAtomic(path: string, data: Buffer): Promise<void>;
  /** Remove `path` durably; nothing if it is already gone. */
  remove(path: string): Promise<void>;
}

export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write `data` to a fresh private temp file next to `path` (0600, fsynced); returns its path. */
export async function writeTempFile(path: string, data: Buffer): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}

/** Remove temp files of `path` a crash may have left behind (they never replaced anything). */
export async function removeStaleTempFiles(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  let entries: string[];
  try {
    entries = await readdir(dirname(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.startsWith(prefix) && entry.endsWith('.tmp')) await rm(join(dirname(path), entry), { force: true });
  }
}

export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new Error(`refusing ${path}: it is a symbolic link`);
    throw error;
  }
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export const durableFiles: DurableFiles = {
  read: readFileIfExists,
  async writeAtomic(path, data) {
    const temp = await writeTempFile(path, data);
    try {
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await fsyncDirectory(dirname(path));
  },
  async remove(path) {
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await fsyncDirectory(dirname(path));
  },
};
