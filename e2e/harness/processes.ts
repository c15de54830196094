import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessEnv, StackApp, StackInfo } from './stack.js';

/** One process started for a run, as recorded in the pid file. */
export interface TrackedProcess {
  readonly pid: number;
  readonly name: string;
  /** A string of its command line, checked before any signal so a reused pid is never hit. */
  readonly marker: string;
}

export function runMarker(runId: string): string {
  return `--sealbox-e2e-run=${runId}`;
}

export function appMain(root: string, app: StackApp): string {
  return join(root, 'apps', app, 'dist', 'main.js');
}

/**
 * What the stack runs for an app: its main, except lifecycle, which runs with the test clock
 * (libs/lifecycle/src/test-clock: the system time plus the ms in SEALBOX_LIFECYCLE_TEST_CLOCK_FILE),
 * a test-only entry point that production lifecycle does not have.
 */
export function appEntry(root: string, app: StackApp): string {
  return app === 'lifecycle' ? join(root, 'e2e', 'harness', 'lifecycle-with-test-clock.mjs') : appMain(root, app);
}

/** Fail fast, with the command to run, when an app was not built. */
export function assertAppsBuilt(root: string, apps: readonly StackApp[]): void {
  const missing = apps.filter((app) => !existsSync(appMain(root, app)));
  if (missing.length) {
    throw new Error(
      `e2e: ${missing.map((app) => `apps/${app}/dist/main.js`).join(', ')} missing. ` +
        'Build first: `npx tsc -b tsconfig.build.json` (or run `npm run test:e2e`, which builds).',
    );
  }
}

export function trackProcess(pidFile: string, entry: TrackedProcess): void {
  appendFileSync(pidFile, `${entry.pid} ${entry.name} ${entry.marker}\n`, { mode: 0o600 });
}

export function trackedProcesses(pidFile: string): TrackedProcess[] {
  if (!existsSync(pidFile)) return [];
  return readFileSync(pidFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid = '', name = '', marker = ''] = line.split(' ');
      return { pid: Number(pid), name, marker };
    })
    .filter((entry) => Number.isInteger(entry.pid) && entry.pid > 0 && entry.marker !== '');
}

/**
 * Start a process with stdout and stderr appended to a file (not a pipe, so it outlives the test
 * worker that started it without breaking), and record its pid.
 */
export function spawnTracked(options: {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: ProcessEnv;
  readonly logFile: string;
  readonly pidFile: string;
  readonly marker: string;
}): ChildProcess {
  const log = openSync(options.logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: { ...options.env },
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`e2e: could not start ${options.name}`);
  trackProcess(options.pidFile, { pid: child.pid, name: options.name, marker: options.marker });
  child.unref();
  return child;
}

/** Start one app of the stack (`node apps/<app>/dist/main.js`) with the given environment. */
export function spawnApp(stack: Pick<StackInfo, 'root' | 'runId' | 'logDir' | 'pidFile'>, app: StackApp, env: ProcessEnv): ChildProcess {
  return spawnTracked({
    name: app,
    command: process.execPath,
    args: ['--enable-source-maps', appEntry(stack.root, app), runMarker(stack.runId)],
    cwd: stack.root,
    env,
    logFile: join(stack.logDir, `${app}.log`),
    pidFile: stack.pidFile,
    marker: runMarker(stack.runId),
  });
}

/** Alive and still the process we started (not a zombie, not a reused pid). */
export function isRunning(entry: TrackedProcess): boolean {
  try {
    const stat = readFileSync(`/proc/${entry.pid}/stat`, 'utf8');
    // The state follows the parenthesised command name: "pid (comm) S ...".
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const cmdline = readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(entry.marker);
  } catch {
    return false;
  }
}

export function runningProcesses(pidFile: string, name?: string): TrackedProcess[] {
  return trackedProcesses(pidFile).filter((entry) => (name === undefined || entry.name === name) && isRunning(entry));
}

function signal(entry: TrackedProcess, sig: NodeJS.Signals): void {
  if (!isRunning(entry)) return;
  try {
    process.kill(entry.pid, sig);
  } catch {
    // Exited between the check and the signal.
  }
}

/** Wait until none of the processes runs; resolves false if some still do after `graceMs`. */
async function waitGone(entries: readonly TrackedProcess[], graceMs: number): Promise<boolean> {
  const deadline = performance.now() + graceMs;
  while (entries.some(isRunning)) {
    if (performance.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

/**
 * Stop processes: `signal` first (SIGTERM lets them shut down cleanly), then SIGKILL whatever is
 * still running after `graceMs`. Resolves once every one of them is gone.
 */
export async function stopProcesses(
  entries: readonly TrackedProcess[],
  options: { readonly signal?: NodeJS.Signals; readonly graceMs?: number } = {},
): Promise<void> {
  const first = options.signal ?? 'SIGTERM';
  for (const entry of entries) signal(entry, first);
  if (first !== 'SIGKILL' && (await waitGone(entries, options.graceMs ?? 5000))) return;
  for (const entry of entries) signal(entry, 'SIGKILL');
  if (!(await waitGone(entries, 10_000))) {
    const left = entries.filter(isRunning).map((entry) => `${entry.name} (pid ${entry.pid})`);
    throw new Error(`e2e: could not stop ${left.join(', ')}`);
  }
}

/** Stop every running process of one app of the stack (all its starts, restarts included). */
export async function stopApp(
  stack: Pick<StackInfo, 'pidFile'>,
  app: StackApp,
  options: { readonly signal?: NodeJS.Signals; readonly graceMs?: number } = {},
): Promise<void> {
  const running = runningProcesses(stack.pidFile, app);
  if (!running.length) throw new Error(`e2e: ${app} is not running`);
  await stopProcesses(running, options);
}
