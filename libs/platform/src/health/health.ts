import type { HealthResponse, ServiceName } from '@sealbox/contracts';
import { hostname } from 'node:os';
import { SEALBOX_VERSION } from '../version.js';

export type HealthCheck = () => Promise<void>;

const CHECK_TIMEOUT_MS = 800;

async function runCheck(check: HealthCheck): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (error) {
    // Only the error class and a short reason: no connection strings or credentials.
    const reason = error instanceof Error ? error.message.split('\n')[0]?.slice(0, 200) : 'failed';
    return { ok: false, detail: reason ?? 'failed' };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** A service's answer on its health subject: version, replica, and each dependency check. */
export async function healthReport(service: ServiceName, checks: Record<string, HealthCheck>): Promise<HealthResponse> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => runCheck(checks[name] as HealthCheck)));
  const entries = Object.fromEntries(names.map((name, index) => [name, results[index] as { ok: boolean; detail?: string }]));
  return {
    service,
    version: SEALBOX_VERSION,
    replica: `${hostname()}:${process.pid}`,
    status: results.every((result) => result.ok) ? 'ok' : 'degraded',
    checks: entries,
  };
}
