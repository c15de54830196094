import { inject } from 'vitest';
import { waitForReady } from './http.js';
import { logTails } from './logs.js';
import { runningProcesses, spawnApp, stopApp } from './processes.js';
import { StackApps, type StackApp, type StackInfo } from './stack.js';

export { StackApps, type StackApp, type StackInfo };

/** The run's stack, as the global setup started it. Call inside a test file. */
export function stackInfo(): StackInfo {
  return inject('sealbox');
}

/**
 * Start apps with the environment they first had and wait until the stack is ready again; fails at
 * once, with their log tails, if one of them exits.
 */
async function startApps(stack: StackInfo, apps: readonly StackApp[]): Promise<void> {
  const exits: string[] = [];
  for (const app of apps) {
    spawnApp(stack, app, stack.appEnv[app]).once('exit', (code, signal) =>
      exits.push(`${app} stopped (${signal ?? `exit code ${code}`})`),
    );
  }
  try {
    await waitForReady(stack.gatewayUrl, { timeoutMs: 60_000, failFast: () => exits.join(', ') || undefined });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logTails(stack.logDir, apps)}`);
  }
}

/** Start a stopped app again, as it was started first, and wait until the stack is ready. */
export function restartApp(stack: StackInfo, app: StackApp): Promise<void> {
  return startApps(stack, [app]);
}

/** Stop an app (SIGTERM, or SIGKILL for a crash) and wait until its process is gone. */
export function stopStackApp(stack: StackInfo, app: StackApp, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  return stopApp(stack, app, { signal });
}

/** Start whatever app of the stack is not running (e.g. after a failed test) and wait until ready. */
export async function ensureStackRunning(stack: StackInfo): Promise<void> {
  const stopped = StackApps.filter((app) => runningProcesses(stack.pidFile, app).length === 0);
  if (stopped.length) await startApps(stack, stopped);
}
