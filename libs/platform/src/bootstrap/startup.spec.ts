import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/loader.js';
import { configStartupError, dataDirStartupError, listenStartupError, StartupExitCode } from './startup.js';

const errno = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${code}: failed`), { code, ...extra });
const http = { host: '127.0.0.1', port: 8080 };

describe('start-up errors: one line naming the fix, one exit code per cause', () => {
  it('a bad configuration names every variable on one line (78)', () => {
    const error = configStartupError(new ConfigError(['SEALBOX_PORT: expected number', 'SEALBOX_DATA_DIR: is required but not set']));
    expect(error.exitCode).toBe(StartupExitCode.CONFIG);
    expect(error.message).toBe(
      'invalid configuration: SEALBOX_PORT: expected number; SEALBOX_DATA_DIR: is required but not set. Fix: set or correct these SEALBOX_* variables (or SEALBOX_CONFIG_FILE); docs/configuration.md lists every setting',
    );
    expect(error.message).not.toContain('\n');
  });

  it('a port in use, not allowed, or an address not here (69), also when the cause is wrapped', () => {
    const inUse = listenStartupError(errno('EADDRINUSE'), http);
    expect(inUse?.exitCode).toBe(StartupExitCode.CANNOT_LISTEN);
    expect(inUse?.message).toMatch(/^cannot listen on 127\.0\.0\.1:8080: the port is already in use .*Fix: .*SEALBOX_PORT/);
    expect(listenStartupError(new Error('wrapped', { cause: errno('EACCES') }), { host: '0.0.0.0', port: 80 })?.message).toContain('above 1023');
    expect(listenStartupError(errno('EADDRNOTAVAIL'), http)?.message).toContain('SEALBOX_HOST');
    expect(listenStartupError(new Error('something else'), http)).toBeUndefined();
  });

  it('a data directory that cannot be used (73): permissions, read-only, full, a file in the way, SQLite unable to open', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EEXIST', 'ENOTDIR', 'SQLITE_CANTOPEN']) {
      const error = dataDirStartupError(errno(code, { path: '/data/db/iam.sqlite' }), '/data');
      expect(error?.exitCode, code).toBe(StartupExitCode.DATA_DIR);
      expect(error?.message, code).toMatch(/^cannot use the data directory \/data .*Fix: .*SEALBOX_DATA_DIR/);
    }
    expect(dataDirStartupError(errno('ENOSPC'), '/data')?.message).toContain('the disk is full');
    expect(dataDirStartupError(new Error('no code'), '/data')).toBeUndefined();
  });

  it('exit codes differ by cause', () => {
    expect(new Set(Object.values(StartupExitCode)).size).toBe(Object.keys(StartupExitCode).length);
  });
});
