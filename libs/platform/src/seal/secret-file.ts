import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * A secret kept in a file (an unseal passphrase, a PKCS#11 PIN): refused if group or others may
 * read it or it is a symbolic link; one trailing newline is dropped. The error names the file and
 * the setting, never the content.
 */
export async function readSecretFile(path: string, setting: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    throw new Error(`${setting}: cannot open ${path} (${String((error as NodeJS.ErrnoException).code)})`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`${setting}: ${path} is not a regular file`);
    if ((info.mode & 0o077) !== 0) throw new Error(`${setting}: ${path} may be read by group or others (chmod 600 it)`);
    const text = (await handle.readFile()).toString('utf8');
    const value = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
    if (!value) throw new Error(`${setting}: ${path} is empty`);
    return value;
  } finally {
    await handle.close();
  }
}

/** `readSecretFile` for a start-up path that cannot wait (a module's options): same checks. */
export function readSecretFileSync(path: string, setting: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    throw new Error(`${setting}: cannot open ${path} (${String((error as NodeJS.ErrnoException).code)})`);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new Error(`${setting}: ${path} is not a regular file`);
    if ((info.mode & 0o077) !== 0) throw new Error(`${setting}: ${path} may be read by group or others (chmod 600 it)`);
    const text = readFileSync(fd).toString('utf8');
    const value = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
    if (!value) throw new Error(`${setting}: ${path} is empty`);
    return value;
  } finally {
    closeSync(fd);
  }
}
