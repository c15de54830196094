/**
 * The distributed stack for the secrets rows, as the e2e tier runs it: a nats-server with JetStream
 * of its own (free port, temp store), a fresh PostgreSQL database, s3rver in a child process, a
 * throwaway SoftHSM2 token, and the seven apps as `node apps/<app>/dist/main.js` (built by
 * `npm run bench`), gateway on a free port. Logs go to files in the stack's temp folder (shown when
 * the stack does not become ready), level warn; tracing exporter none (the services' default); the
 * gateway's rate limits off (a 429 would measure the limiter). Everything is removed on stop. The
 * apps (an IPC channel and the `exit-with-parent` preload) and s3rver also exit by themselves when
 * the case process dies, e.g. killed at its time limit (nats-server, a plain binary, does not).
 *
 * `provisionSecretsInstance` then makes a Secrets Manager instance the way lifecycle will: a kms
 * instance (`kms.instance.create`) with a root key (gateway), the IAM authorization from the
 * instance to it (gateway, `/v1/policies`), the bucket (`storage.bucket.create`) and the registry
 * entry (`secrets.instance.activate`), all for the admin identity iam creates on its first start.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { roleCrn, ServiceNames, Subjects, type RequestOf, type ResponseOf, type Subject } from '@sealbox/contracts';
import { requestOverNats } from '@sealbox/platform';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { isTargetReady } from '../targets/protocol.js';
import { createBenchToken, SOFTHSM2_LIBRARY } from '../cases/softhsm2.js';
import { cpuProfileArgs } from './profiling.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const S3RVER_CHILD = fileURLToPath(new URL('./s3rver-child.js', import.meta.url));
const EXIT_WITH_PARENT = new URL('./exit-with-parent.js', import.meta.url).href;
const APPS = ['gateway', ...ServiceNames] as const;
type App = (typeof APPS)[number];
const READY_TIMEOUT_MS = 120_000;
const RPC_TIMEOUT_MS = 10_000;
const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';
/** PostgreSQL admin URL (trust auth on this machine); `BENCH_POSTGRES_URL` overrides it. */
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface DistributedStack {
  readonly gatewayUrl: string;
  /** The admin's access token and account. */
  readonly token: string;
  readonly accountId: string;
  readonly nats: NatsConnection;
  /** The stack's own database (every service's tables). */
  readonly databaseUrl: string;
  stop(): Promise<void>;
}

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

export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** One request in the services' protocol, the response checked by the registry. */
export async function natsRequest<S extends Subject>(nc: NatsConnection, subject: S, data: RequestOf<S>): Promise<ResponseOf<S>> {
  const response = await requestOverNats(nc, subject, data, RPC_TIMEOUT_MS).catch((error: unknown) => {
    throw new Error(`${subject} failed: ${error instanceof Error ? error.message : String(error)}`);
  });
  const definition: (typeof Subjects)[S] = Subjects[subject];
  return definition.response.parse(response) as ResponseOf<S>;
}

/** A JSON request to the gateway that must answer `expected`. */
export async function gatewayJson(
  stack: Pick<DistributedStack, 'gatewayUrl' | 'token'>,
  method: string,
  path: string,
  expected: number,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const response = await fetch(`${stack.gatewayUrl}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      authorization: `Bearer ${stack.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(RPC_TIMEOUT_MS + 5_000),
  });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`${method} ${path} answered ${response.status} (expected ${expected}): ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function waitForNats(url: string): Promise<void> {
  const deadline = performance.now() + 15_000;
  for (;;) {
    try {
      const connection = await connect({ servers: [url], reconnect: false, timeout: 1_000 });
      await connection.close();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** s3rver (its credentials are S3RVER / S3RVER) in a child process on a free port, storing under `directory`. */
export async function startS3rver(directory: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = fork(S3RVER_CHILD, [directory], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('s3rver not ready within 15 s')), 15_000);
    child.on('message', (message: unknown) => {
      if (isTargetReady(message)) {
        clearTimeout(timer);
        resolve(message.port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (code ${code}) before listening`));
    });
  });
  return { child, endpoint: `http://127.0.0.1:${port}` };
}

async function adminToken(gatewayUrl: string, apikey: string): Promise<{ token: string; accountId: string }> {
  const response = await fetch(`${gatewayUrl}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: APIKEY_GRANT, apikey }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /identity/token answered ${response.status}: ${text.slice(0, 200)}`);
  const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
  if (typeof token !== 'string') throw new Error('POST /identity/token answered no access_token');
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { account?: { bss?: unknown } };
  const accountId = claims.account?.bss;
  if (typeof accountId !== 'string') throw new Error('the admin token names no account');
  return { token, accountId };
}

export interface BenchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh PostgreSQL database `sealbox_bench_<hex>` on `BENCH_POSTGRES_URL`'s server (trust auth here). */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const adminUrl = process.env.BENCH_POSTGRES_URL || DEFAULT_POSTGRES_URL;
  const database = `sealbox_bench_${randomBytes(6).toString('hex')}`;
  const adminQuery = async (sql: string) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(sql).finally(() => admin.end());
  };
  await adminQuery(`CREATE DATABASE "${database}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`) };
}


export async function startDistributedStack(): Promise<DistributedStack> {
  const workDir = mkdtempSync(join(tmpdir(), 'sealbox-bench-stack-'));
  const logDir = join(workDir, 'logs');
  mkdirSync(logDir);
  const children: { app: App | 'nats-server'; child: ChildProcess }[] = [];
  let s3: ChildProcess | undefined;
  let nc: NatsConnection | undefined;
  let database: BenchDatabase | undefined;
  const token = await createBenchToken();

  const stop = async (): Promise<void> => {
    await nc?.close().catch(() => undefined);
    for (const { child } of children.filter((entry) => entry.app !== 'nats-server').reverse()) await stopChild(child);
    for (const { child } of children.filter((entry) => entry.app === 'nats-server')) await stopChild(child);
    if (s3) await stopChild(s3);
    await database?.drop();
    await token.remove();
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    database = await createBenchDatabase();
    const databaseUrl = new URL(database.url);

    const natsPort = await freePort();
    const natsDir = join(workDir, 'nats');
    mkdirSync(natsDir);
    children.push({
      app: 'nats-server',
      child: spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', natsDir], { stdio: 'ignore' }),
    });
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    await waitForNats(natsUrl);

    const s3Dir = join(workDir, 's3');
    mkdirSync(s3Dir);
    const started = await startS3rver(s3Dir);
    s3 = started.child;

    const gatewayPort = await freePort();
    const adminKeyFile = join(workDir, 'admin-api-key');
    const common: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      SEALBOX_NATS_URL: natsUrl,
      SEALBOX_RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS),
      SEALBOX_LOG_LEVEL: 'warn',
      SEALBOX_TRACING_EXPORTER: 'none',
    };
    const env: Record<App, Record<string, string>> = {
      gateway: {
        ...common,
        SEALBOX_HOST: '127.0.0.1',
        SEALBOX_PORT: String(gatewayPort),
        SEALBOX_RATE_LIMIT_IP_RPS: '0',
        SEALBOX_RATE_LIMIT_IDENTITY_RPS: '0',
        // Its Idempotency-Keys and its audit spool, as deployed.
        SEALBOX_DATABASE_URL: databaseUrl.toString(),
        SEALBOX_AUDIT_SPOOL_DIR: join(workDir, 'gateway-audit-spool'),
      },
      iam: {
        ...common,
        SEALBOX_DATABASE_URL: databaseUrl.toString(),
        SEALBOX_IAM_MASTER_KEY_FILE: join(workDir, 'iam-master-key'),
        SEALBOX_IAM_ADMIN_KEY_FILE: adminKeyFile,
      },
      kms: {
        ...common,
        SEALBOX_DATABASE_URL: databaseUrl.toString(),
        SEALBOX_PKCS11_LIBRARY: SOFTHSM2_LIBRARY,
        SEALBOX_PKCS11_TOKEN_LABEL: token.label,
        SEALBOX_PKCS11_PIN: token.pin,
        SOFTHSM2_CONF: process.env.SOFTHSM2_CONF ?? '',
      },
      crypto: common,
      storage: { ...common, SEALBOX_S3_ENDPOINT: started.endpoint, SEALBOX_S3_ACCESS_KEY: 'S3RVER', SEALBOX_S3_SECRET_KEY: 'S3RVER' },
      secrets: { ...common, SEALBOX_DATABASE_URL: databaseUrl.toString() },
      lifecycle: { ...common, SEALBOX_DATABASE_URL: databaseUrl.toString() },
    };

    const exits: string[] = [];
    for (const app of APPS) {
      const main = join(ROOT, 'apps', app, 'dist', 'main.js');
      if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm run bench builds)`);
      const log = openSync(join(logDir, `${app}.log`), 'a');
      const child = fork(main, [], {
        cwd: ROOT,
        env: env[app],
        execArgv: ['--enable-source-maps', '--import', EXIT_WITH_PARENT, ...cpuProfileArgs(app)],
        stdio: ['ignore', log, log, 'ipc'],
      });
      closeSync(log);
      child.once('exit', (code, signal) => exits.push(`${app} stopped (${signal ?? `exit code ${code}`})`));
      children.push({ app, child });
    }

    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const deadline = performance.now() + READY_TIMEOUT_MS;
    for (let last = 'no answer';;) {
      try {
        const response = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
        if (response.status === 200) break;
        last = `${response.status} ${(await response.text()).slice(0, 200)}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (exits.length || performance.now() > deadline) {
        const logs = APPS.map((app) => `--- ${app}.log ---\n${tail(join(logDir, `${app}.log`))}`).join('\n');
        throw new Error(`the distributed stack is not ready (${exits.join(', ') || `last /readyz: ${last}`})\n${logs}`);
      }
      await sleep(250);
    }

    const { token: accessToken, accountId } = await adminToken(gatewayUrl, readFileSync(adminKeyFile, 'utf8').trim());
    nc = await connect({ servers: [natsUrl], name: 'sealbox-bench-stack' });
    return { gatewayUrl, token: accessToken, accountId, nats: nc, databaseUrl: databaseUrl.toString(), stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** A Secrets Manager instance of the admin's account, provisioned as lifecycle will; its GUID. */
export async function provisionSecretsInstance(stack: DistributedStack): Promise<string> {
  const kmsInstance = await natsRequest(stack.nats, 'kms.instance.create', {
    accountId: stack.accountId,
    instanceId: randomUUID(),
    serviceName: 'kms',
    region: 'us-south',
  });
  const created = (await gatewayJson(
    stack,
    'POST',
    '/kms/api/v2/keys',
    201,
    {
      metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
      resources: [{ type: 'application/vnd.ibm.kms.key+json', name: 'bench-root', extractable: false }],
    },
    { 'bluemix-instance': kmsInstance.instanceId },
  )) as { resources?: { id?: string }[] };
  const keyId = created.resources?.[0]?.id;
  if (!keyId) throw new Error('the root key was created without an id');

  const guid = randomUUID();
  const attributes = (serviceName: string, serviceInstance: string) => ({
    attributes: [
      { name: 'accountId', value: stack.accountId },
      { name: 'serviceName', value: serviceName },
      { name: 'serviceInstance', value: serviceInstance },
    ],
  });
  await gatewayJson(stack, 'POST', '/v1/policies', 201, {
    type: 'authorization',
    subjects: [attributes('secrets-manager', guid)],
    roles: [{ role_id: roleCrn('Reader') }],
    resources: [attributes('kms', kmsInstance.instanceId)],
  });
  await natsRequest(stack.nats, 'storage.bucket.create', { instanceGuid: guid });
  await natsRequest(stack.nats, 'secrets.instance.activate', {
    accountId: stack.accountId,
    instanceGuid: guid,
    crn: `crn:v1:sealbox:public:secrets-manager:us-south:a/${stack.accountId}:${guid}::`,
    region: 'us-south',
    kmsKey: { instanceId: kmsInstance.instanceId, keyId },
  });
  return guid;
}
