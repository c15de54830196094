import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase, Measurement } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { HEALTH_PATH } from '../targets/protocol.js';
import { cannon, startTarget, warmThenCannon } from './http.js';

/** A cheap protected route: answered by the iam module (static role catalog) through the in-process transport. */
export const AUTHORIZED_PATH = '/v2/roles';
/** The action the gateway authorizes for AUTHORIZED_PATH (`@RequiresAction` on the route). */
const AUTHORIZED_ACTION = 'iam-access-management.role.list';
const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

interface StandaloneTarget {
  readonly origin: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/**
 * The standalone app's environment: this process's, minus every SEALBOX_* variable of the shell (a
 * developer's TLS or data dir settings must not leak into the row), plus a fresh data dir, a free
 * port, no logs, tracing exporter none and both rate limits off (a 429 would measure the limiter).
 */
export function standaloneEnv(dataDir: string, inherited: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(inherited)) {
    if (!name.startsWith('SEALBOX_')) env[name] = value;
  }
  return {
    ...env,
    SEALBOX_DATA_DIR: dataDir,
    SEALBOX_HOST: '127.0.0.1',
    SEALBOX_PORT: '0',
    SEALBOX_LOG_LEVEL: 'silent',
    SEALBOX_TRACING_EXPORTER: 'none',
    SEALBOX_RATE_LIMIT_IP_RPS: '0',
    SEALBOX_RATE_LIMIT_IDENTITY_RPS: '0',
  };
}

/** `startStandalone` in a child process on a fresh temporary data dir, removed again on stop. */
async function startStandaloneTarget(): Promise<StandaloneTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-bench-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    // The standalone app always starts OpenTelemetry (exporter none), as `npm start` does.
    const target = await startTarget('standalone', true, standaloneEnv(dataDir));
    return {
      origin: target.origin,
      dataDir,
      stop: async () => {
        try {
          await target.stop();
        } finally {
          removeDataDir();
        }
      },
    };
  } catch (error) {
    removeDataDir();
    throw error;
  }
}

/** Exchange the bootstrap admin API key (written to <data dir>/admin-apikey on first start) for an access token. */
async function adminAccessToken(target: StandaloneTarget): Promise<string> {
  const apikey = readFileSync(join(target.dataDir, 'admin-apikey'), 'utf8').trim();
  const response = await fetch(`${target.origin}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: APIKEY_GRANT, apikey }),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`POST /identity/token answered ${response.status}: ${body.slice(0, 200)}`);
  const token: unknown = JSON.parse(body);
  const accessToken = typeof token === 'object' && token !== null ? (token as { access_token?: unknown }).access_token : undefined;
  if (typeof accessToken !== 'string' || accessToken === '') throw new Error('POST /identity/token answered no access_token');
  return accessToken;
}

/** A JSON request to the standalone app with the admin's token that must answer `expected`. */
async function standaloneJson(target: StandaloneTarget, token: string, method: string, path: string, expected: number, body?: unknown): Promise<unknown> {
  const response = await fetch(`${target.origin}${path}`, {
    method,
    headers: { accept: 'application/json', authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`${method} ${path} answered ${response.status} (expected ${expected}): ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/**
 * A Secrets Manager instance with provider-managed encryption (no `kms_key`), provisioned through the
 * Resource Controller as a user would (`POST /v2/resource_instances`, then polled until active); its GUID.
 */
async function provisionStandaloneInstance(target: StandaloneTarget, token: string): Promise<string> {
  const body = { name: 'bench', target: 'us-south', resource_group: 'default', resource_plan_id: 'secrets-manager-standard' };
  let instance = (await standaloneJson(target, token, 'POST', '/v2/resource_instances', 201, body)) as { guid?: string; state?: string };
  for (let polls = 0; instance.state === 'provisioning' && polls < 600; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    instance = (await standaloneJson(target, token, 'GET', `/v2/resource_instances/${instance.guid}`, 200)) as { guid?: string; state?: string };
  }
  if (instance.state !== 'active' || !instance.guid) throw new Error(`the Secrets Manager instance is ${instance.state}, not active`);
  return instance.guid;
}

const STANDALONE_PAYLOAD = 'x'.repeat(64);
const secretsPath = (guid: string) => `/secrets-manager/${guid}/api/v2/secrets`;

async function measureStandaloneSecrets(settings: BenchSettings, operation: 'get' | 'create', connections = settings.connections): Promise<Measurement> {
  const target = await startStandaloneTarget();
  try {
    const token = await adminAccessToken(target);
    const guid = await provisionStandaloneInstance(target, token);
    const headers = { authorization: `Bearer ${token}` };
    const run = { ...settings, connections };
    if (operation === 'get') {
      const created = (await standaloneJson(target, token, 'POST', secretsPath(guid), 201, { secret_type: 'arbitrary', name: 'bench-read', payload: STANDALONE_PAYLOAD })) as { id?: string };
      if (!created.id) throw new Error('the secret was created without an id');
      return await warmThenCannon(`${target.origin}${secretsPath(guid)}/${created.id}`, run, headers);
    }
    let counter = 0;
    // A new name per request (a name is unique in its group: a repeat would be a 409).
    const extra = (phase: string) => ({
      method: 'POST' as const,
      requests: [{ setupRequest: (request: object) => ({ ...request, body: JSON.stringify({ secret_type: 'arbitrary', name: `bench-${phase}-${counter++}`, payload: STANDALONE_PAYLOAD }) }) }],
    });
    const url = `${target.origin}${secretsPath(guid)}`;
    const json = { ...headers, 'content-type': 'application/json', accept: 'application/json' };
    if (settings.warmupS > 0) await cannon(url, connections, settings.warmupS, json, extra('warm'));
    return await cannon(url, connections, settings.durationS, json, extra('run'));
  } finally {
    await target.stop();
  }
}

async function measureStandalone(settings: BenchSettings, route: 'healthz' | 'authorized'): Promise<Measurement> {
  const target = await startStandaloneTarget();
  try {
    if (route === 'healthz') return await warmThenCannon(`${target.origin}${HEALTH_PATH}`, settings);
    const token = await adminAccessToken(target);
    return await warmThenCannon(`${target.origin}${AUTHORIZED_PATH}`, settings, { authorization: `Bearer ${token}` });
  } finally {
    await target.stop();
  }
}

/**
 * The standalone app (every module in one process, in-process transport): its public /healthz, and
 * an authenticated, authorized GET. The authorized row's baseline is the healthz row of the same app,
 * so its ratio is what authentication + authorization + one protected route cost on the same process;
 * the healthz row's ratio to http.fastify says what the app itself costs.
 */
export function standaloneCases(settings: BenchSettings): BenchCase[] {
  const how = `startStandalone (fresh data dir, rate limits off, tracing exporter none) in a child process; autocannon, ${settings.connections} connections`;
  return [
    {
      name: 'http.standalone.healthz',
      description: `standalone all-in-one app GET ${HEALTH_PATH}, no credentials; ${how}`,
      baseline: 'http.fastify',
      run: (current) => measureStandalone(current, 'healthz'),
    },
    {
      name: 'http.gateway.authorized',
      description:
        `standalone app GET ${AUTHORIZED_PATH} with the admin's Bearer token: ES256 JWT check against the cached JWKS, ` +
        `${AUTHORIZED_ACTION} decided by iam.authorize (cached 5 s), then iam.role.list in-process; ${how}`,
      baseline: 'http.standalone.healthz',
      run: (current) => measureStandalone(current, 'authorized'),
    },
    {
      name: 'http.standalone.secrets.get',
      description: `standalone app SM v2 GET /secrets/{id} of one arbitrary secret (64 B) with its payload, provider-managed instance, DEK cache hot; ${how}`,
      baseline: 'http.fastify',
      run: (current) => measureStandaloneSecrets(current, 'get'),
    },
    {
      name: 'http.standalone.secrets.get.c1',
      description: `the same GET, one request at a time (1 connection): its p50 is the latency of a read; ${how.replace(`${settings.connections} connections`, '1 connection')}`,
      baseline: 'http.standalone.secrets.get',
      run: (current) => measureStandaloneSecrets(current, 'get', 1),
    },
    {
      name: 'http.standalone.secrets.create',
      description: `standalone app SM v2 POST /secrets (arbitrary, 64 B, a new name per request: seal under a fresh DEK, object written, metadata committed); ${how}`,
      baseline: 'http.fastify',
      run: (current) => measureStandaloneSecrets(current, 'create'),
    },
  ];
}
