import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SEALBOX_VERSION } from '@sealbox/platform';
import type { BenchCase, Measurement } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { LatencySamples, summarize } from '../stats.js';
import { cpuProfileArgs } from '../stack/profiling.js';
import { HEALTH_PATH, isTargetReady, type TargetKind } from '../targets/protocol.js';

const TARGET_SCRIPT = fileURLToPath(new URL('../targets/http-target.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

export interface RunningTarget {
  /** `http://127.0.0.1:<port>`, no path. */
  readonly origin: string;
  stop(): Promise<void>;
}

/**
 * Start an HTTP server in a child process, so it does not share an event loop with autocannon.
 * `env`: the child's whole environment (default: this process's).
 */
export async function startTarget(kind: TargetKind, tracing: boolean, env?: NodeJS.ProcessEnv): Promise<RunningTarget> {
  const profile = cpuProfileArgs(kind);
  const child = fork(TARGET_SCRIPT, [kind, SEALBOX_VERSION, tracing ? 'on' : 'off'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(profile.length ? { execArgv: [...process.execArgv, ...profile] } : {}),
    ...(env ? { env } : {}),
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    // Profiled: the target exits by itself when the channel closes, which writes its profile (a signal would not).
    if (profile.length && child.connected) child.disconnect();
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const port = await waitForPort(child);
    return { origin: `http://127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`HTTP target not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const onMessage = (message: unknown) => {
      if (isTargetReady(message)) finish(undefined, message.port);
    };
    const onExit = (code: number | null) => finish(new Error(`HTTP target exited (code ${code}) before listening`));
    function finish(error?: Error, port?: number): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error || port === undefined) reject(error ?? new Error('no port'));
      else resolve(port);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** ` (12x 401, 3x 429)`, or nothing without failed responses. */
function statusTally(statuses: ReadonlyMap<number, number>): string {
  return statuses.size === 0 ? '' : ` (${[...statuses].map(([status, count]) => `${count}x ${status}`).join(', ')})`;
}

/**
 * One autocannon run; latency samples come from its per-response timings (float ms, not its 1 ms
 * histogram). Every non-2xx response counts as an error.
 */
export function cannon(
  url: string,
  connections: number,
  durationS: number,
  headers: Record<string, string> = {},
  /** More autocannon options (method, body, `requests` with a `setupRequest`), for rows that are not a plain GET. */
  extra: Partial<autocannon.Options> = {},
): Promise<Measurement> {
  const samples = new LatencySamples();
  let failedResponses = 0;
  const failedStatuses = new Map<number, number>();
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: durationS, headers, ...extra }, (error: unknown, result) => {
      if (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const summary = summarize(samples, result.duration * 1000);
      // autocannon's `errors` already counts its `timeouts`.
      const errors = failedResponses + result.errors;
      resolve({
        unit: 'req/s',
        concurrency: connections,
        ...summary,
        errors,
        elapsedMs: result.duration * 1000,
        ...(errors > 0
          ? { firstError: `${failedResponses} non-2xx${statusTally(failedStatuses)}, ${result.errors} connection errors (${result.timeouts} timeouts)` }
          : {}),
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) samples.push(responseTime);
      else {
        failedResponses++;
        failedStatuses.set(statusCode, (failedStatuses.get(statusCode) ?? 0) + 1);
      }
    });
  });
}

/** Check the route answers 200 with JSON before loading it, so a wrong route fails loudly. */
export async function preflight(url: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${body.slice(0, 200)}`);
  JSON.parse(body);
}

/** Preflight, warm up (unmeasured), then measure one URL with the run's connections. */
export async function warmThenCannon(url: string, settings: BenchSettings, headers: Record<string, string> = {}): Promise<Measurement> {
  await preflight(url, headers);
  if (settings.warmupS > 0) await cannon(url, settings.connections, settings.warmupS, headers);
  return cannon(url, settings.connections, settings.durationS, headers);
}

async function measureHttp(kind: TargetKind, settings: BenchSettings): Promise<Measurement> {
  const target = await startTarget(kind, settings.tracing);
  try {
    return await warmThenCannon(`${target.origin}${HEALTH_PATH}`, settings);
  } finally {
    await target.stop();
  }
}

export function httpCases(settings: BenchSettings): BenchCase[] {
  return [
    {
      name: 'http.fastify',
      description: `bare fastify() GET ${HEALTH_PATH} (same JSON body) in a child process; autocannon, ${settings.connections} connections`,
      run: (current) => measureHttp('fastify', current),
    },
    {
      name: 'http.gateway.healthz',
      description: `gateway Nest/Fastify app (createHttpApp + GatewayModule + OpenAPI${settings.tracing ? ', tracing exporter none' : ''}) GET ${HEALTH_PATH} in a child process; autocannon, ${settings.connections} connections`,
      baseline: 'http.fastify',
      run: (current) => measureHttp('gateway', current),
    },
  ];
}
