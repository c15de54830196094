import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createTestPki, type TestPki } from './pki.js';

/**
 * A PostgreSQL cluster of a test run's own, reachable over TLS only: initdb into `directory`, a port
 * of its own on 127.0.0.1, `ssl = on` with a server certificate made for the run (createTestPki), and
 * a pg_hba.conf of one `hostssl … cert` line: a client must speak TLS and show a certificate signed by
 * the run's CA whose CN is the role it logs in as. No Unix socket, no plain TCP, no password.
 *
 * initdb and postgres refuse to run as root, so as root they run as the `postgres` OS user (the
 * Debian package's), which then owns `directory`; its parent folders must let that user pass.
 * The cluster is a throwaway: fsync off.
 */
export interface PrivatePostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The postmaster's pid; its command line holds `dataDir`. */
  readonly pid: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly pki: TestPki;
  /** A node-postgres URL as `role` (a superuser `postgres` by default), verify-full with the role's client certificate. */
  url(database: string, role?: string): string;
  /** The SEALBOX_DATABASE_* settings of a service logging in as `role` to `database`. */
  serviceSettings(database: string, role: string): Record<string, string>;
  /** Fast shutdown (SIGINT), waited for. */
  stop(): Promise<void>;
}

export interface PrivatePostgresOptions {
  readonly directory: string;
  readonly port: number;
  /** Roles that get a client certificate (CN = role); `postgres`, the superuser, always does. */
  readonly roles?: readonly string[];
  /** The server's log (default `<directory>/postgres.log`). */
  readonly logFile?: string;
}

/** The newest PostgreSQL server of the Debian packaging (`/usr/lib/postgresql/<version>/bin`). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((entry) => existsSync(join(base, entry, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server in ${base}/*/bin (apt-get install -y postgresql)`);
  return join(base, newest, 'bin');
}

/** uid and gid to run the server as: the `postgres` user when this process is root, else this process's. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const field = (flag: string) => {
    try {
      return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch {
      throw new Error('private PostgreSQL: as root it runs as the `postgres` user, and there is none (apt-get install -y postgresql makes it)');
    }
  };
  return { uid: field('-u'), gid: field('-g') };
}

function chownTree(path: string, user: { uid: number; gid: number }): void {
  chownSync(path, user.uid, user.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, user);
    else chownSync(child, user.uid, user.gid);
  }
}

/** The server user must pass through every folder above its own. */
function assertReachable(directory: string): void {
  for (let parent = dirname(resolve(directory)); ; parent = dirname(parent)) {
    if ((statSync(parent).mode & 0o001) === 0) throw new Error(`private PostgreSQL: the postgres user cannot pass through ${parent} (chmod o+x it, or start the cluster elsewhere)`);
    if (parent === dirname(parent)) return;
  }
}

function tlsUrl(port: number, database: string, role: string, pki: TestPki): string {
  const client = pki.client(role);
  const url = new URL(`postgres://127.0.0.1:${port}/`);
  url.username = role;
  url.pathname = `/${database}`;
  url.search = new URLSearchParams({ sslmode: 'verify-full', sslrootcert: pki.caFile, sslcert: client.certFile, sslkey: client.keyFile }).toString();
  return url.toString();
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startPrivatePostgres(options: PrivatePostgresOptions): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const user = serverUser();
  const roles = [...new Set(['postgres', ...(options.roles ?? [])])];
  mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  if (user) assertReachable(options.directory);
  const dataDir = join(options.directory, 'data');
  const logFile = options.logFile ?? join(options.directory, 'postgres.log');
  const pki = createTestPki(join(options.directory, 'tls'), { caName: 'Sealbox test PostgreSQL CA', clients: roles });
  mkdirSync(dataDir, { mode: 0o700 });
  if (user) chownTree(options.directory, user);
  // The binaries are named by their full path; initdb finds postgres next to itself.
  const env = { PATH: '/usr/sbin:/usr/bin:/bin', LC_ALL: 'C.UTF-8' };
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'reject', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    cwd: options.directory,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ?? {}),
  });
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    [
      '',
      "listen_addresses = '127.0.0.1'",
      `port = ${options.port}`,
      "unix_socket_directories = ''",
      'ssl = on',
      `ssl_cert_file = '${pki.server.certFile}'`,
      `ssl_key_file = '${pki.server.keyFile}'`,
      `ssl_ca_file = '${pki.caFile}'`,
      "ssl_min_protocol_version = 'TLSv1.2'",
      // Each connection's role, database and TLS version in the log: a test can see a pool that has
      // since closed its idle connections.
      'log_connections = on',
      'max_connections = 300',
      'shared_buffers = 64MB',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      '',
    ].join('\n'),
  );
  // TLS only, and the role named by the client certificate's CN: nothing else gets in.
  writeFileSync(join(dataDir, 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 cert\n');
  const log = openSync(logFile, 'a', 0o600);
  let child;
  try {
    child = spawn(join(bin, 'postgres'), ['-D', dataDir], { cwd: options.directory, env, stdio: ['ignore', log, log], ...(user ?? {}) });
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error('could not start postgres');
  child.unref();
  const pid = child.pid;
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) => child.once('exit', (code, signal) => ((exited = signal ?? `exit code ${code}`), resolve())));

  const cluster: PrivatePostgres = {
    host: '127.0.0.1',
    port: options.port,
    pid,
    dataDir,
    logFile,
    pki,
    url: (database, role = 'postgres') => tlsUrl(options.port, database, role, pki),
    serviceSettings: (database, role) => ({
      SEALBOX_DATABASE_URL: `postgres://${role}@127.0.0.1:${options.port}/${database}`,
      SEALBOX_DATABASE_TLS_CA_FILE: pki.caFile,
      SEALBOX_DATABASE_TLS_CERT_FILE: pki.client(role).certFile,
      SEALBOX_DATABASE_TLS_KEY_FILE: pki.client(role).keyFile,
    }),
    async stop() {
      if (exited) return;
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        return;
      }
      await Promise.race([gone, sleep(15_000)]);
      if (!exited) process.kill(pid, 'SIGKILL');
    },
  };

  const deadline = performance.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: cluster.url('postgres') });
    try {
      await client.connect();
      await client.end();
      return cluster;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (exited || performance.now() > deadline) {
        await cluster.stop();
        throw new Error(`private PostgreSQL did not start (${exited ?? (error instanceof Error ? error.message : String(error))}):\n${tail(logFile)}`);
      }
      await sleep(100);
    }
  }
}
