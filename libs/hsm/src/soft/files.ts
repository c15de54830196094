import { durableFiles, fsyncDirectory, removeStaleTempFiles, writeTempFile } from '@sealbox/platform';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AES_256_KEY_BYTES } from '../hsm.js';

/** File helpers of the soft HSM: a private directory, the clear master key file; atomic writes are the seal's (libs/platform). */

const GROUP_OR_OTHER = 0o077;

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, '0');
}

/** Create the directory (mode 0700) or check an existing one is a directory nobody else can open. */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const info = await stat(directory);
  if (!info.isDirectory()) throw new Error(`${directory} is not a directory`);
  if ((info.mode & GROUP_OR_OTHER) !== 0) {
    throw new Error(`refusing ${directory}: mode ${octal(info.mode)} lets other users in (chmod 700 it)`);
  }
}

/** Replace `<directory>/<name>` atomically: temp file (0600) + fsync + rename + fsync of the directory. */
export function writeFileAtomic(directory: string, name: string, data: Buffer): Promise<void> {
  return durableFiles.writeAtomic(join(directory, name), data);
}

/** Remove temp files a crash may have left behind (they never replaced anything). */
export function removeStaleTemps(directory: string, name: string): Promise<void> {
  return removeStaleTempFiles(join(directory, name));
}

/** Read a whole file, or undefined when it does not exist. Symbolic links are refused. */
export function readFileIfExists(path: string): Promise<Buffer | undefined> {
  return durableFiles.read(path);
}

/** The clear master key file of an older soft HSM (or of one without a protector). */
export const MASTER_KEY_FILE = 'master.key';

/** Read a clear master key file: exactly 32 bytes, mode 0600 or stricter; undefined when absent. */
export async function readMasterKey(path: string): Promise<Buffer | undefined> {
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
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`refusing ${path}: not a regular file`);
    if ((info.mode & GROUP_OR_OTHER) !== 0) {
      throw new Error(`refusing ${path}: mode ${octal(info.mode)} lets other users read it (chmod 600 it)`);
    }
    if (info.size !== AES_256_KEY_BYTES) {
      throw new Error(`refusing ${path}: a master key is exactly ${AES_256_KEY_BYTES} bytes, this file has ${info.size}`);
    }
    const key = Buffer.alloc(AES_256_KEY_BYTES);
    const { bytesRead } = await handle.read(key, 0, AES_256_KEY_BYTES, 0);
    if (bytesRead !== AES_256_KEY_BYTES) {
      key.fill(0);
      throw new Error(`refusing ${path}: short read`);
    }
    return key;
  } finally {
    await handle.close();
  }
}

/**
 * The master key in `<directory>/master.key`: read it (exactly 32 bytes, mode 0600 or stricter), or
 * create it (32 random bytes) when there is none. Creation is atomic (a complete temp file is
 * hard-linked into place), so two openers racing agree on one key.
 */
export async function loadOrCreateMasterKey(directory: string): Promise<Buffer> {
  const path = join(directory, 'master.key');
  const existing = await readMasterKey(path);
  if (existing) return existing;
  const fresh = randomBytes(AES_256_KEY_BYTES);
  let temp: string;
  try {
    temp = await writeTempFile(path, fresh);
  } finally {
    fresh.fill(0);
  }
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp);
  }
  await fsyncDirectory(directory);
  const key = await readMasterKey(path);
  if (!key) throw new Error(`${path} vanished while it was created`);
  return key;
}

/** Unlink `<directory>/<name>` and fsync the directory; nothing if it is already gone. */
export function removeFileDurably(directory: string, name: string): Promise<void> {
  return durableFiles.remove(join(directory, name));
}
