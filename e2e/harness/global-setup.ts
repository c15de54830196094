import { startPrivatePostgres, type PrivatePostgres } from '@sealbox/platform/testing';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { waitForReady } from './http.js';
import {
  assertNoServiceAnswers,
  createDatabase,
  dropDatabase,
  freePort,
  initSoftHsmToken,
  NATS_SERVER,
  POSTGRES_SERVER,
  randomHex,
  startNatsServer,
  startS3rver,
  type RunningNats,
  type RunningS3,
  waitForNatsServer,
} from './infra.js';
import { logTails } from './logs.js';
import { assertAppsBuilt, spawnApp, stopProcesses, trackedProcesses, trackProcess } from './processes.js';
import { StackApps, type ProcessEnv, type StackApp, type StackInfo } from './stack.js';

/**
 * One distributed stack per `vitest run --project e2e`: a PostgreSQL cluster, a NATS server, s3rver
 * and a SoftHSM2 token of the run's own, and the seven apps as separate processes. Everything is torn
 * down at the end; a run that died without its teardown is cleaned up by the next one.
 *
 * Settings (for CI or diagnosis only, the defaults fit this machine):
 * - PostgreSQL: by default a cluster of the run's own on a free port (initdb of the machine's
 *   /usr/lib/postgresql/<version>/bin, as the `postgres` user when run as root), as the distributed
 *   deployment runs it: TLS only, with client certificates made for the run (CN = role), and one role
 *   per service owning its schema, as docker/postgres/init-roles.sh makes them (see
 *   libs/platform/src/testing/private-postgres.ts). Tests connect as its superuser with
 *   `stack.databaseUrl` (TLS parameters in the URL).
 * - SEALBOX_E2E_POSTGRES_URL=<admin url>: use a database on that server instead (for diagnosis), no TLS,
 *   every app as that URL's user; `private` or unset: the run's own cluster.
 * - NATS: by default a server of the run's own on a free port, as the distributed deployment runs it:
 *   TLS with client certificates made for the run, and docker/nats.conf's per-app users and subject
 *   permissions (see nats-tls.ts); tests connect with `connectNats(stack.nats)`.
 * - SEALBOX_E2E_NATS_URL=<url>: use that plain NATS server (with JetStream) instead, no TLS and no users
 *   (for diagnosis). Before starting, the harness checks that no other process answers a service's
 *   health subject there (it would join this stack) and stops with a clear message if one does.
 * - SEALBOX_E2E_KEEP_DIR=1: keep the run's folder (logs, spans) after teardown and print its path
 *   (until the next run, which removes it with the rest of finished runs)
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORK_DIR_PREFIX = 'sealbox-e2e-';
const RUN_FILE = 'run.json';
const READY_TIMEOUT_MS = 60_000;
/** Short enough that a request to a stopped service fails fast, long enough for a loaded 2-core machine. */
const RPC_TIMEOUT_MS = 3_000;
const TOKEN_LABEL = 'sealbox';

interface RunRecord {
  /** The vitest process that owns the run, and its start time (so a reused pid is not taken for it). */
  readonly ownerPid: number;
  readonly ownerStart: string;
  /** The external server's admin URL, or '' for the run's own cluster (it goes with the run folder). */
  readonly adminUrl: string;
  readonly database: string;
}

/** The apps that keep a database, each logging in to the run's own cluster as its own role. */
const DATABASE_APPS = ['gateway', 'iam', 'kms', 'secrets', 'lifecycle'] as const satisfies readonly StackApp[];
const roleOf = (app: StackApp) => `sealbox_${app}`;

/**
 * The run's database on its own cluster: one role per app owning its schema (docker/postgres/init-roles.sh),
 * each app's SEALBOX_DATABASE_* settings, and the superuser URL the tests use.
 */
async function createPrivateDatabase(cluster: PrivatePostgres, database: string): Promise<{ url: string; appSettings: (app: StackApp) => Record<string, string> }> {
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const owner = new pg.Client({ connectionString: cluster.url(database) });
  await owner.connect();
  try {
    for (const app of DATABASE_APPS) {
      const role = roleOf(app);
      await owner.query(`CREATE ROLE "${role}" LOGIN`);
      await owner.query(`CREATE SCHEMA "${role}" AUTHORIZATION "${role}"`);
      // The services run `CREATE SCHEMA IF NOT EXISTS` at start, which PostgreSQL checks against this.
      await owner.query(`GRANT CREATE ON DATABASE "${database}" TO "${role}"`);
    }
  } finally {
    await owner.end();
  }
  return { url: cluster.url(database), appSettings: (app) => cluster.serviceSettings(database, roleOf(app)) };
}

/** Cleanup steps, run last-in first-out; every step runs even when one fails. */
class Teardown {
  private readonly steps: { readonly name: string; readonly run: () => Promise<void> | void }[] = [];

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  async run(): Promise<void> {
    const failures: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        failures.push(`${step.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length) throw new Error(`e2e teardown failed:\n  ${failures.join('\n  ')}`);
  }
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or undefined if it is gone. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Stop the processes, drop the database and remove the folder of runs whose vitest is gone (killed hard). */
async function reapAbandonedRuns(): Promise<void> {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(WORK_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    let record: RunRecord;
    try {
      record = JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8')) as RunRecord;
    } catch {
      continue;
    }
    if (startTimeOf(record.ownerPid) === record.ownerStart) continue;
    await stopProcesses(trackedProcesses(join(dir, 'pids')), { signal: 'SIGKILL' });
    if (record.adminUrl) await dropDatabase(record.adminUrl, record.database).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like Promise.all, but waits for every start to settle first, so none finishes after the teardown. */
async function allStarted<T extends readonly unknown[]>(starts: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function baseEnv(): Record<string, string> {
  // Nothing of the caller's environment but PATH: a stray SEALBOX_* variable must not change the stack.
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
}

/** Start the run's own PostgreSQL cluster in `<workDir>/postgres`, tracked in the pid file. */
async function startRunPostgres(workDir: string, logDir: string, pidFile: string): Promise<PrivatePostgres> {
  // The cluster runs as the `postgres` user (when this is root), which must pass through the run folder
  // (only pass: the folder's files keep their own modes).
  chmodSync(workDir, 0o711);
  const cluster = await startPrivatePostgres({
    directory: join(workDir, 'postgres'),
    port: await freePort(),
    roles: DATABASE_APPS.map(roleOf),
    logFile: join(logDir, `${POSTGRES_SERVER}.log`),
  });
  trackProcess(pidFile, { pid: cluster.pid, name: POSTGRES_SERVER, marker: cluster.dataDir });
  return cluster;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  assertAppsBuilt(ROOT, StackApps);
  await reapAbandonedRuns();

  const runId = randomHex(6);
  const workDir = mkdtempSync(join(tmpdir(), `${WORK_DIR_PREFIX}${runId}-`));
  const logDir = join(workDir, 'logs');
  const spanDir = join(workDir, 'spans');
  const pidFile = join(workDir, 'pids');
  for (const dir of [logDir, spanDir]) mkdirSync(dir, { mode: 0o700 });

  const postgresSetting = process.env.SEALBOX_E2E_POSTGRES_URL;
  const adminUrl = postgresSetting === undefined || postgresSetting === '' || postgresSetting === 'private' ? '' : postgresSetting;
  const database = `sealbox_e2e_${runId}`;
  const run: RunRecord = { ownerPid: process.pid, ownerStart: startTimeOf(process.pid) ?? '', adminUrl, database };
  writeFileSync(join(workDir, RUN_FILE), JSON.stringify(run), { mode: 0o600 });

  const teardown = new Teardown();
  teardown.add('remove the run folder', () => {
    if (process.env.SEALBOX_E2E_KEEP_DIR) process.stdout.write(`e2e: run folder kept at ${workDir}\n`);
    else rmSync(workDir, { recursive: true, force: true });
  });

  // Registered before anything starts (each step copes with what never started), so a setup that
  // fails halfway leaves nothing behind either. Last in, first out: the processes go first.
  let s3: RunningS3 | undefined;
  if (adminUrl) teardown.add('drop the database', () => dropDatabase(adminUrl, database));
  teardown.add('stop s3rver', () => s3?.close());
  teardown.add('stop the processes', async () => {
    // The apps first (SIGTERM: a clean shutdown), then the NATS server they were connected to.
    const processes = trackedProcesses(pidFile);
    await stopProcesses(processes.filter((entry) => entry.name !== NATS_SERVER && entry.name !== POSTGRES_SERVER), { signal: 'SIGTERM', graceMs: 5000 });
    await stopProcesses(processes.filter((entry) => entry.name === NATS_SERVER), { signal: 'SIGTERM', graceMs: 5000 });
    // SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
    await stopProcesses(processes.filter((entry) => entry.name === POSTGRES_SERVER), { signal: 'SIGINT', graceMs: 10_000 });
  });

  try {
    const natsSetting = process.env.SEALBOX_E2E_NATS_URL;
    const externalNats = natsSetting === undefined || natsSetting === '' || natsSetting === 'private' ? undefined : natsSetting;
    const [postgres, objectStore, nats, gatewayPort] = await allStarted([
      adminUrl
        ? createDatabase(adminUrl, database).then((url) => ({ url, appSettings: (): Record<string, string> => ({ SEALBOX_DATABASE_URL: url }) }))
        : startRunPostgres(workDir, logDir, pidFile).then((cluster) => createPrivateDatabase(cluster, database)),
      startS3rver(join(workDir, 's3')).then((started) => (s3 = started)),
      externalNats
        ? waitForNatsServer({ servers: [externalNats] }, 15_000)
            .then(() => assertNoServiceAnswers(externalNats))
            .then((): RunningNats => ({ url: externalNats, client: { servers: [externalNats] }, appEnv: () => ({}) }))
        : startNatsServer({
            directory: join(workDir, 'nats'),
            logDir,
            pidFile,
            root: ROOT,
            apps: [...StackApps, 'events'],
            // SEALBOX_E2E_NATS_NODES=3: a cluster (the cluster fault tier).
            nodes: Number(process.env.SEALBOX_E2E_NATS_NODES ?? '1'),
          }),
      freePort(),
    ] as const);
    const token = initSoftHsmToken(join(workDir, 'softhsm'), TOKEN_LABEL);
    const pinFile = join(workDir, 'seal-pin');
    writeFileSync(pinFile, token.pin, { mode: 0o600 });
    const databaseUrl = postgres.url;

    const common = (app: StackApp): Record<string, string> => ({
      ...baseEnv(),
      SEALBOX_NATS_URL: nats.url,
      ...nats.appEnv(app),
      SEALBOX_RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS),
      SEALBOX_LOG_LEVEL: 'info',
      SEALBOX_TRACING_EXPORTER: 'file',
      SEALBOX_TRACING_FILE: join(spanDir, `${app}.jsonl`),
    });
    const appEnv: Record<StackApp, ProcessEnv> = {
      gateway: {
        ...common('gateway'),
        ...postgres.appSettings('gateway'),
        SEALBOX_AUDIT_SPOOL_DIR: join(workDir, 'gateway-audit-spool'),
        SEALBOX_HOST: '127.0.0.1',
        SEALBOX_PORT: String(gatewayPort),
      },
      iam: {
        ...common('iam'),
        ...postgres.appSettings('iam'),
        // Sealed as in production: the master key only wrapped in the seal directory, auto-unsealed by the kms token.
        SEALBOX_ENV: 'production',
        SEALBOX_IAM_SEAL_DIRECTORY: join(workDir, 'iam-seal'),
        SEALBOX_SEAL_PKCS11_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so',
        SEALBOX_SEAL_PKCS11_TOKEN_LABEL: token.label,
        SEALBOX_SEAL_PKCS11_PIN_FILE: pinFile,
        SEALBOX_SEAL_PKCS11_KEY_LABEL: 'sealbox-iam-seal',
        SOFTHSM2_CONF: token.confFile,
        SEALBOX_IAM_ADMIN_KEY_FILE: join(workDir, 'admin-api-key'),
      },
      kms: {
        ...common('kms'),
        ...postgres.appSettings('kms'),
        SEALBOX_PKCS11_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so',
        SEALBOX_PKCS11_TOKEN_LABEL: token.label,
        SEALBOX_PKCS11_PIN: token.pin,
        SOFTHSM2_CONF: token.confFile,
      },
      crypto: common('crypto'),
      storage: {
        ...common('storage'),
        SEALBOX_S3_ENDPOINT: objectStore.endpoint,
        SEALBOX_S3_ACCESS_KEY: objectStore.accessKey,
        SEALBOX_S3_SECRET_KEY: objectStore.secretKey,
      },
      secrets: { ...common('secrets'), ...postgres.appSettings('secrets') },
      lifecycle: {
        ...common('lifecycle'),
        ...postgres.appSettings('lifecycle'),
        // TESTS ONLY, this stack only: lifecycle runs with the test clock (processes.ts appEntry): system time + the
        // ms in this file (harness/lifecycle.ts moves it), and a scheduler that sweeps every second so a moved clock is acted on at once.
        SEALBOX_LIFECYCLE_TEST_CLOCK_FILE: join(workDir, 'lifecycle-clock-offset-ms'),
        SEALBOX_LIFECYCLE_SCHEDULER_INTERVAL_MS: '1000',
      },
    };

    const stack: StackInfo = {
      root: ROOT,
      runId,
      gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
      workDir,
      spanDir,
      logDir,
      pidFile,
      rpcTimeoutMs: RPC_TIMEOUT_MS,
      natsUrl: nats.url,
      nats: nats.client,
      natsEventsEnv: nats.appEnv('events'),
      ...(nats.nodes ? { natsNodes: nats.nodes } : {}),
      databaseUrl,
      databaseTls: !adminUrl,
      s3Endpoint: objectStore.endpoint,
      adminKeyFile: appEnv.iam.SEALBOX_IAM_ADMIN_KEY_FILE ?? '',
      appEnv,
    };

    const exits = new Map<StackApp, string>();
    for (const app of StackApps) {
      spawnApp(stack, app, appEnv[app]).once('exit', (code, signal) => exits.set(app, signal ?? `exit code ${code}`));
    }
    try {
      await waitForReady(stack.gatewayUrl, {
        timeoutMs: READY_TIMEOUT_MS,
        failFast: () =>
          exits.size ? [...exits].map(([app, how]) => `${app} stopped (${how})`).join(', ') : undefined,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason}\n${logTails(logDir, [...StackApps, ...(externalNats ? [] : [NATS_SERVER]), ...(adminUrl ? [] : [POSTGRES_SERVER])])}`);
    }
    if (!existsSync(stack.adminKeyFile)) throw new Error(`e2e: iam did not write the admin API key to ${stack.adminKeyFile}`);

    project.provide('sealbox', stack);
  } catch (error) {
    await teardown.run().catch((cleanup: unknown) => process.stderr.write(`${String(cleanup)}\n`));
    throw error;
  }
  return () => teardown.run();
}
