/**
 * `npm run bench`: run every case in its own process, one after the other, print the table and write
 * bench/results/<timestamp>.json and bench/results/latest.json.
 */
import { execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runCases, type BenchCase, type CaseResult, type Measurement } from './bench.js';
import { createBench } from './cases/index.js';
import { BenchConfigError, loadBenchSettings, type BenchSettings } from './config.js';
import { startPrivateNats, type PrivateNats } from './nats-server.js';
import { parseCaseMessage } from './protocol.js';
import { formatMs, formatRate, formatTable, withRatios } from './report.js';

const CASE_SCRIPT = fileURLToPath(new URL('./case-process.js', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

/** Run one case in a child process; the child's stdout/stderr go to ours. */
async function runInChild(benchCase: BenchCase, settings: BenchSettings, env: NodeJS.ProcessEnv): Promise<Measurement> {
  const child = fork(CASE_SCRIPT, [benchCase.name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  const limitMs = (2 * settings.warmupS + settings.durationS + (benchCase.setupS ?? 60)) * 1000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, limitMs);
  let received: unknown;
  child.on('message', (message: unknown) => {
    received ??= message;
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (timedOut) throw new Error(`no result within ${limitMs / 1000} s; killed`);
  const message = parseCaseMessage(received);
  if (!message) throw new Error(`case process exited (${signal ?? `code ${code}`}) without a result`);
  if (message.kind === 'error') throw new Error(message.message);
  return message.measurement;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function progress(index: number, total: number, result: CaseResult): void {
  const m = result.measurement;
  const summary = m
    ? `${formatRate(m.throughput)} ${m.unit}, p50 ${formatMs(m.p50Ms)} ms, p99 ${formatMs(m.p99Ms)} ms, ${m.errors} errors`
    : `FAILED: ${result.error ?? 'unknown'}`;
  process.stderr.write(`[${index}/${total}] ${result.name}: ${summary}\n`);
}

async function main(): Promise<void> {
  let settings: BenchSettings;
  try {
    settings = loadBenchSettings();
  } catch (error) {
    if (error instanceof BenchConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const cases = createBench(settings).select(settings.only);
  const startedAt = new Date();
  const loadBefore = loadavg();

  // NATS rows get a private nats-server unless BENCH_NATS_URL names one; case processes learn its URL.
  let privateNats: PrivateNats | undefined;
  let natsProblem = 'no NATS server';
  const needsNats = cases.some((benchCase) => benchCase.uses?.includes('nats'));
  if (needsNats && settings.natsServers.length === 0) {
    try {
      privateNats = await startPrivateNats(settings.natsServerBin);
    } catch (error) {
      natsProblem = error instanceof Error ? error.message : String(error);
    }
  }
  const natsServers = privateNats ? [privateNats.url] : settings.natsServers;
  const natsMode = privateNats ? 'private' : settings.natsServers.length ? 'shared' : 'unavailable';
  const env: NodeJS.ProcessEnv = { ...process.env, ...(natsServers.length ? { BENCH_NATS_URL: natsServers.join(',') } : {}) };
  const stopNats = () => privateNats?.stop();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void Promise.resolve(stopNats()).finally(() => process.exit(130)));
  }

  process.stderr.write(
    `bench: ${cases.length} cases, ${settings.warmupS} s warm-up + ${settings.durationS} s each, ` +
      `${settings.connections} HTTP connections, ${settings.concurrency} RPC in flight, ` +
      `NATS ${needsNats ? `${natsServers.join(',') || 'none'} (${natsMode})` : 'unused'}, ` +
      `tracing ${settings.tracing ? 'on (exporter none)' : 'off'}\n`,
  );
  let done = 0;
  let results: CaseResult[];
  try {
    const execute = async (benchCase: BenchCase): Promise<Measurement> => {
      if (benchCase.uses?.includes('nats') && natsServers.length === 0) throw new Error(natsProblem);
      return runInChild(benchCase, settings, env);
    };
    results = await runCases(cases, execute, (result) => progress(++done, cases.length, result));
  } finally {
    await stopNats();
  }
  const rows = withRatios(results);
  const finishedAt = new Date();

  const loadAfter = loadavg();
  const busiest = Math.max(loadBefore[0] ?? 0, loadAfter[0] ?? 0);
  process.stdout.write(
    `\n${formatTable(rows)}\n\nload average ${loadBefore[0]?.toFixed(1)} before, ${loadAfter[0]?.toFixed(1)} after, on ${cpus().length} CPUs` +
      `${busiest > cpus().length ? ': other work competed for the CPUs, so expect noise even in the ratios' : ''}\n`,
  );

  const commit = gitCommit();
  const document = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    settings: { ...settings, natsServers, natsMode },
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadavgBefore: loadBefore,
      loadavgAfter: loadAfter,
      ...(commit ? { commit } : {}),
    },
    // NaN (a row without samples) is written as null.
    rows,
  };
  const text = `${JSON.stringify(document, null, 2)}\n`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${startedAt.toISOString().replace(/:/g, '-')}.json`;
  writeFileSync(file, text);
  writeFileSync(`${RESULTS_DIR}latest.json`, text);
  process.stderr.write(`\nwrote ${file} and latest.json\n`);
  if (results.some((result) => result.error !== undefined)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
