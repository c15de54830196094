import { ConfigError } from '../config/loader.js';

/**
 * Exit codes of a process that could not start (sysexits.h), one per cause, so scripts and
 * supervisors can tell them apart. 1 stays for anything unexpected.
 */
export const StartupExitCode = {
  /** EX_CONFIG: a setting is missing or invalid. */
  CONFIG: 78,
  /** EX_CANTCREAT: the data directory cannot be created, read or written. */
  DATA_DIR: 73,
  /** EX_UNAVAILABLE: the HTTP port cannot be listened on (in use, not allowed, no such address). */
  CANNOT_LISTEN: 69,
} as const;

/** A start-up failure the user can fix: one line saying what and how, and its exit code. */
export class StartupError extends Error {
  override readonly name = 'StartupError';

  constructor(
    readonly exitCode: number,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}. Fix: ${fix}`);
  }
}

const CODES_OF_ACCESS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EISDIR', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM']);

/** The error and its causes, outermost first. */
function chain(error: unknown): { code?: unknown; path?: unknown; message?: unknown }[] {
  const found: { code?: unknown; path?: unknown; message?: unknown }[] = [];
  for (let current: unknown = error; typeof current === 'object' && current !== null && found.length < 8; current = (current as { cause?: unknown }).cause) {
    found.push(current as { code?: unknown; path?: unknown; message?: unknown });
  }
  return found;
}

/** A configuration error as one line naming every variable. */
export function configStartupError(error: ConfigError): StartupError {
  return new StartupError(
    StartupExitCode.CONFIG,
    `invalid configuration: ${error.problems.join('; ')}`,
    'set or correct these SEALBOX_* variables (or SEALBOX_CONFIG_FILE); docs/configuration.md lists every setting',
  );
}

/** A failure to listen on host:port, as the user can fix it; undefined for any other error. */
export function listenStartupError(error: unknown, http: { readonly host: string; readonly port: number }): StartupError | undefined {
  const code = chain(error).find((link) => typeof link.code === 'string')?.code;
  const where = `${http.host}:${http.port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(
        StartupExitCode.CANNOT_LISTEN,
        `cannot listen on ${where}: the port is already in use (is Sealbox already running?)`,
        `stop the program using port ${http.port} (ss -ltnp 'sport = :${http.port}' shows it), or set SEALBOX_PORT to a free port`,
      );
    case 'EACCES':
      return new StartupError(StartupExitCode.CANNOT_LISTEN, `cannot listen on ${where}: not allowed`, 'set SEALBOX_PORT to a port above 1023');
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(StartupExitCode.CANNOT_LISTEN, `cannot listen on ${where}: no such address on this machine`, 'set SEALBOX_HOST to an address of this machine (127.0.0.1 or 0.0.0.0)');
    default:
      return undefined;
  }
}

/** A failure to use the data directory (permissions, read-only, full), as the user can fix it; undefined for any other error. */
export function dataDirStartupError(error: unknown, dataDir: string): StartupError | undefined {
  const link = chain(error).find((candidate) => typeof candidate.code === 'string' && CODES_OF_ACCESS.has(candidate.code));
  if (!link) return undefined;
  const path = typeof link.path === 'string' ? link.path : dataDir;
  const reason = link.code === 'ENOSPC' ? 'the disk is full' : link.code === 'EROFS' ? 'it is on a read-only file system' : `${String(link.code)}: ${String(link.message ?? '').split('\n')[0]}`;
  return new StartupError(
    StartupExitCode.DATA_DIR,
    `cannot use the data directory ${dataDir} (${path}): ${reason}`,
    `make it readable and writable by this user (chown -R "$(id -u)" ${dataDir}), or set SEALBOX_DATA_DIR to a directory that is`,
  );
}

/**
 * A start-up failure the user can fix (a StartupError, a ConfigError) is printed as one line on
 * stderr and the process exits with its code; anything else is thrown on.
 */
export function exitOnStartupError(error: unknown, app = 'sealbox'): never {
  const known = error instanceof ConfigError ? configStartupError(error) : error instanceof StartupError ? error : undefined;
  if (!known) throw error;
  process.stderr.write(`${app}: ${known.message}\n`);
  process.exit(known.exitCode);
}
