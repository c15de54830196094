import { healthSubject, ServiceNames } from '@sealbox/contracts';
import { requestOverNats } from '@sealbox/platform';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import S3rver from 's3rver';
import { createNatsPki, NATS_TEST_USER, readNatsTlsConfig, writeNatsTlsConfig, type NatsClientOptions, type NatsPki } from './nats-tls.js';
import { spawnTracked } from './processes.js';

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A secret for a throwaway token or database name: node:crypto randomness, hex. */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

// --- PostgreSQL --------------------------------------------------------------------------------

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const E2E_DATABASE = /^sealbox_e2e_[0-9a-f]+$/;

/** A fresh, empty database for one run. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!E2E_DATABASE.test(name)) throw new Error(`e2e: refusing to create database ${name}`);
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  return databaseUrl(adminUrl, name);
}

/** Drop a run's database, closing whatever connections are left. Only ever an e2e database. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!E2E_DATABASE.test(name)) throw new Error(`e2e: refusing to drop database ${name}`);
  await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

// --- S3 (s3rver, in the vitest main process) ---------------------------------------------------

export interface RunningS3 {
  readonly endpoint: string;
  /** s3rver checks the access key only (it never verifies signatures). */
  readonly accessKey: 'S3RVER';
  readonly secretKey: 'S3RVER';
  close(): Promise<void>;
}

export async function startS3rver(directory: string): Promise<RunningS3> {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    close: () => server.close(),
  };
}

// --- SoftHSM2 ----------------------------------------------------------------------------------

export interface SoftHsmToken {
  /** SOFTHSM2_CONF for the processes that use the token. */
  readonly confFile: string;
  readonly label: string;
  readonly pin: string;
}

/** A SoftHSM2 token of its own in `directory`, with random user and SO PINs. */
export function initSoftHsmToken(directory: string, label: string): SoftHsmToken {
  const tokenDir = join(directory, 'tokens');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const confFile = join(directory, 'softhsm2.conf');
  writeFileSync(confFile, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`, { mode: 0o600 });
  const pin = randomHex(16);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', randomHex(16)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SOFTHSM2_CONF: confFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { confFile, label, pin };
}

// --- NATS --------------------------------------------------------------------------------------

/** Name of the run's NATS server in the pid file and of its log file. */
export const NATS_SERVER = 'nats-server';
/** The run's PostgreSQL cluster: its name in the pid file and its log, `<logDir>/postgres.log`. */
export const POSTGRES_SERVER = 'postgres';

/** A connection to the run's NATS as `client` (the tests' own user, or an app's), failing fast. */
export function connectNats(client: NatsClientOptions, timeoutMs = 2000): Promise<NatsConnection> {
  return connect({
    servers: client.servers,
    ...(client.user ? { user: client.user } : {}),
    ...(client.pass ? { pass: client.pass } : {}),
    ...(client.tls ? { tls: { ...client.tls } } : {}),
    reconnect: false,
    timeout: timeoutMs,
  });
}

/** Wait until a NATS server accepts a connection. */
export async function waitForNatsServer(client: NatsClientOptions, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await connectNats(client, 1000);
      await connection.close();
      return;
    } catch (error) {
      if (performance.now() > deadline) {
        throw new Error(`e2e: NATS at ${client.servers.join(',')} is not reachable (${error instanceof Error ? error.message : String(error)})`);
      }
      await sleep(100);
    }
  }
}

/**
 * Refuse a shared NATS server on which some other process already serves a Sealbox service: it would
 * answer this stack's requests (queue groups share the load) and a killed service would not look dead.
 */
export async function assertNoServiceAnswers(url: string): Promise<void> {
  const connection = await connectNats({ servers: [url] });
  try {
    const answering: string[] = [];
    await Promise.all(
      ServiceNames.map(async (service) => {
        try {
          await requestOverNats(connection, healthSubject(service), {}, 500);
          answering.push(service);
        } catch {
          // No responder (or no answer in time): nobody serves it.
        }
      }),
    );
    if (answering.length) {
      throw new Error(
        `e2e: processes on ${url} already serve ${answering.join(', ')}; stop them (another Sealbox stack?) ` +
          'or run with SEALBOX_E2E_NATS_URL=private',
      );
    }
  } finally {
    await connection.close();
  }
}


/** One node of the run's NATS cluster. */
export interface NatsNode {
  /** `server_name` (the stream's `cluster.leader` names it). */
  readonly serverName: string;
  readonly url: string;
  /**
   * The node's configuration: start it again with `startNatsNode`. Also the pid file's marker of its
   * process (a tracked process is recognised by a marker among its arguments).
   */
  readonly configFile: string;
  /** Its monitoring endpoint (`/connz`, `/jsz`). */
  readonly monitorUrl: string;
}

/** The run's NATS server (or cluster): its URL(s), the tests' connection options, and each app's NATS variables. */
export interface RunningNats {
  /** One URL, or a comma-separated list of a cluster's (as SEALBOX_NATS_URL takes them). */
  readonly url: string;
  readonly client: NatsClientOptions;
  appEnv(app: string): Record<string, string>;
  /** The nodes of a cluster (absent: one server). */
  readonly nodes?: readonly NatsNode[];
}

/** (Re)start one node of the run's NATS from its configuration file. */
export function startNatsNode(node: Pick<NatsNode, 'configFile'>, options: { readonly logDir: string; readonly pidFile: string }): void {
  const folder = dirname(node.configFile);
  spawnTracked({
    name: NATS_SERVER,
    command: 'nats-server',
    args: ['-c', node.configFile],
    cwd: folder,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/bin' },
    // nats-server.log, or nats-server-node-<n>.log for a cluster's node.
    logFile: join(options.logDir, `${[NATS_SERVER, ...(/node-\d+$/.test(folder) ? [basename(folder)] : [])].join('-')}.log`),
    pidFile: options.pidFile,
    // The configuration file is the one argument that names this server.
    marker: node.configFile,
  });
}

/**
 * Start the run's own NATS server (JetStream, TLS with client certificates, docker/nats.conf's users)
 * on a free port, so no other process on the machine can answer this stack's subjects or receive its
 * events; see nats-tls.ts. With `nodes` > 1: a cluster of that many servers (routes on the
 * loopback, one JetStream store each), as docker/compose.yaml runs three.
 */
export async function startNatsServer(options: {
  readonly directory: string;
  readonly logDir: string;
  readonly pidFile: string;
  readonly root: string;
  readonly apps: readonly string[];
  readonly nodes?: number;
}): Promise<RunningNats> {
  mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  if ((options.nodes ?? 1) > 1) return startNatsCluster(options, options.nodes ?? 1);
  const configFile = join(options.directory, 'nats.json');
  // Started again (a test stopped it): the same port, certificates and passwords as before.
  const { port, passwords, pki } = existsSync(configFile)
    ? readNatsTlsConfig(configFile, join(options.directory, 'tls'))
    : await (async () => {
        const fresh = await freePort();
        const made = createNatsPki(join(options.directory, 'tls'), [...options.apps, NATS_TEST_USER]);
        const written = writeNatsTlsConfig({ file: configFile, port: fresh, storeDir: join(options.directory, 'jetstream'), pki: made, root: options.root });
        return { port: fresh, passwords: written.passwords, pki: made };
      })();
  startNatsNode({ configFile }, options);
  return runningNats([`tls://127.0.0.1:${port}`], passwords, pki);
}

async function startNatsCluster(options: Parameters<typeof startNatsServer>[0], count: number): Promise<RunningNats> {
  const pki = createNatsPki(join(options.directory, 'tls'), [...options.apps, NATS_TEST_USER]);
  const ports = await Promise.all(Array.from({ length: count }, async () => ({ client: await freePort(), route: await freePort(), http: await freePort() })));
  let passwords: ReadonlyMap<string, string> | undefined;
  const nodes: NatsNode[] = ports.map((port, index) => {
    const folder = join(options.directory, `node-${index + 1}`);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const configFile = join(folder, 'nats.json');
    const serverName = `n${index + 1}`;
    const written = writeNatsTlsConfig({
      file: configFile,
      port: port.client,
      storeDir: join(folder, 'jetstream'),
      pki,
      root: options.root,
      ...(passwords ? { passwords } : {}),
      cluster: { serverName, port: port.route, routes: ports.map((other) => other.route), httpPort: port.http },
    });
    passwords = written.passwords;
    return { serverName, url: `tls://127.0.0.1:${port.client}`, configFile, monitorUrl: `http://127.0.0.1:${port.http}` };
  });
  for (const node of nodes) startNatsNode(node, options);
  const running = await runningNats(
    nodes.map((node) => node.url),
    passwords ?? new Map(),
    pki,
  );
  // JetStream answers once the nodes have elected a meta leader.
  await waitForJetStream(running.client, 30_000);
  return { ...running, nodes };
}

async function runningNats(urls: readonly string[], passwords: ReadonlyMap<string, string>, pki: NatsPki): Promise<RunningNats> {
  const clientOf = (user: string): NatsClientOptions => ({ servers: [...urls], user, pass: passwords.get(user) ?? '', tls: pki.client(user) });
  const client = clientOf(NATS_TEST_USER);
  await waitForNatsServer(client, 15_000);
  return {
    url: urls.join(','),
    client,
    appEnv: (app) => {
      const own = clientOf(app);
      return {
        SEALBOX_NATS_USER: app,
        SEALBOX_NATS_PASSWORD: own.pass ?? '',
        SEALBOX_NATS_TLS_CA_FILE: own.tls?.caFile ?? '',
        SEALBOX_NATS_TLS_CERT_FILE: own.tls?.certFile ?? '',
        SEALBOX_NATS_TLS_KEY_FILE: own.tls?.keyFile ?? '',
      };
    },
  };
}

/** Poll until JetStream answers its account info (a cluster has its meta leader). */
async function waitForJetStream(client: NatsClientOptions, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const nc = await connectNats(client, 2000).catch(() => undefined);
    try {
      if (nc && (await jetstreamManager(nc, { timeout: 2000 }).then((manager) => manager.getAccountInfo()).catch(() => undefined))) return;
    } finally {
      await nc?.close().catch(() => undefined);
    }
    if (performance.now() > deadline) throw new Error(`e2e: the NATS cluster's JetStream did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
