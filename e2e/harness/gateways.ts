import { join } from 'node:path';
import { waitForReady } from './http.js';
import { freePort } from './infra.js';
import { logTail } from './logs.js';
import { runMarker, runningProcesses, spawnTracked, stopProcesses } from './processes.js';
import type { StackInfo } from './stack.js';

/** One more gateway replica of the stack, started by a test (the global setup starts one). */
export interface ExtraGateway {
  readonly name: string;
  readonly url: string;
  /** Stop it (SIGTERM) and wait until it is gone. */
  stop(): Promise<void>;
}

/**
 * Start another gateway (`node apps/gateway/dist/main.js`) with the first one's environment on a free
 * port, its own log (`<name>.log`) and span file, tracked in the pid file (so the run's teardown stops
 * it if the test does not), and wait until its `/readyz` is 200.
 */
export async function startExtraGateway(stack: StackInfo, name: string): Promise<ExtraGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let exited: string | undefined;
  spawnTracked({
    name,
    command: process.execPath,
    args: ['--enable-source-maps', join(stack.root, 'apps', 'gateway', 'dist', 'main.js'), runMarker(stack.runId)],
    cwd: stack.root,
    env: {
      ...stack.appEnv.gateway,
      SEALBOX_PORT: String(port),
      SEALBOX_TRACING_FILE: join(stack.spanDir, `${name}.jsonl`),
      // Each gateway process its own audit spool.
      SEALBOX_AUDIT_SPOOL_DIR: join(stack.workDir, `${name}-audit-spool`),
    },
    logFile: join(stack.logDir, `${name}.log`),
    pidFile: stack.pidFile,
    marker: runMarker(stack.runId),
  }).once('exit', (code, signal) => (exited = `${name} stopped (${signal ?? `exit code ${code}`})`));
  try {
    await waitForReady(url, { timeoutMs: 60_000, failFast: () => exited });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logTail(stack.logDir, name)}`);
  }
  return { name, url, stop: () => stopProcesses(runningProcesses(stack.pidFile, name)) };
}
