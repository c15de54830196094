import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { CliError, ExitCode } from './errors.js';

/**
 * The session `login` stores: the gateway it talked to and the IAM tokens. The API key itself is
 * never stored. The file is `$XDG_CONFIG_HOME/sealbox/config.json` (else `~/.config/sealbox/…`),
 * mode 0600 in a 0700 folder, replaced atomically (written aside, then renamed).
 */
export const StoredSession = z.object({
  endpoint: z.url(),
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  /** Access token expiry, epoch seconds (IAM's `expiration`). */
  expiration: z.number().int(),
  iam_id: z.string().optional(),
  account_id: z.string().optional(),
});
export type StoredSession = z.infer<typeof StoredSession>;

export function configDir(env: Readonly<Record<string, string | undefined>>, home: string): string {
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.config'), 'sealbox');
}

export const configFile = (dir: string): string => join(dir, 'config.json');
export const targetFile = (dir: string): string => join(dir, 'target.json');

/** An instance `sealbox target --instance` chose, as found then. */
export const TargetInstance = z.object({ guid: z.string(), name: z.string(), service: z.string() });
export type TargetInstance = z.infer<typeof TargetInstance>;

/** The default instances of `sm` (a Secrets Manager instance) and `kp` (a Key Protect or HPCS instance). */
export const StoredTarget = z.object({ sm: TargetInstance.optional(), kp: TargetInstance.optional() });
export type StoredTarget = z.infer<typeof StoredTarget>;
export type TargetGroup = keyof StoredTarget;

/** The default instances; none when never set. A file that cannot be read as one is an error. */
export function readTarget(dir: string): StoredTarget {
  return readPrivateJson(targetFile(dir), StoredTarget, ExitCode.USAGE, 'a sealbox target. Run: sealbox target --instance NAME') ?? {};
}

export function writeTarget(dir: string, target: StoredTarget): void {
  writePrivateJson(dir, targetFile(dir), target);
}

/** The stored session, or undefined when there is none. A file that cannot be read as a session is an error. */
export function readSession(dir: string): StoredSession | undefined {
  return readPrivateJson(configFile(dir), StoredSession, ExitCode.NOT_LOGGED_IN, 'a sealbox session. Run: sealbox login --apikey KEY');
}

/** A JSON file of the CLI in `schema`'s shape; undefined when absent; else exit `exitCode` saying it is not `what`. */
function readPrivateJson<T extends z.ZodType>(file: string, schema: T, exitCode: ExitCode, what: string): z.output<T> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(exitCode, `Cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const read = schema.safeParse(parsed);
  if (!read.success) throw new CliError(exitCode, `${file} is not ${what}`);
  return read.data;
}

export function writeSession(dir: string, session: StoredSession): void {
  writePrivateJson(dir, configFile(dir), session);
}

/** A JSON file only the user reads (0600 in a 0700 folder), replaced atomically. */
function writePrivateJson(dir: string, file: string, value: unknown): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const temp = join(dir, `.write.${randomBytes(6).toString('hex')}`);
  try {
    writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(temp, 0o600);
    renameSync(temp, file);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Forget the session; true when there was one. */
export function removeSession(dir: string): boolean {
  try {
    rmSync(configFile(dir));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
