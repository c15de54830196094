import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase, Measurement } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { HEALTH_PATH } from '../targets/protocol.js';
import { startTarget, warmThenCannon } from './http.js';

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
  ];
}
