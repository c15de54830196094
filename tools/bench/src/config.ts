import { z } from 'zod';

/** The bench's settings: read once from `BENCH_*` variables, validated, then passed around. */
const BenchEnv = z.object({
  BENCH_DURATION_S: z.coerce.number().positive().default(10).describe('Measured seconds per row'),
  BENCH_WARMUP_S: z.coerce.number().min(0).default(1).describe('Warm-up seconds per row, not measured'),
  BENCH_CONNECTIONS: z.coerce.number().int().positive().default(16).describe('HTTP connections (autocannon)'),
  BENCH_CONCURRENCY: z.coerce.number().int().positive().default(32).describe('RPC requests in flight in the concurrent rows'),
  BENCH_NATS_URL: z
    .string()
    .optional()
    .describe('NATS server(s) for the NATS rows, comma separated; unset = a private nats-server started for the run'),
  BENCH_NATS_SERVER_BIN: z.string().default('nats-server').describe('nats-server binary for the private server'),
  BENCH_TRACING: z.enum(['on', 'off']).default('on').describe('Start OpenTelemetry (exporter none) in Nest processes, as the services do'),
  BENCH_ONLY: z.string().optional().describe('Comma-separated case names to run (their baselines run too)'),
});

export interface BenchSettings {
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly concurrency: number;
  /** Empty until the run has a NATS server: the bench then starts a private one and passes its URL on. */
  readonly natsServers: readonly string[];
  readonly natsServerBin: string;
  readonly tracing: boolean;
  readonly only: readonly string[];
}

export class BenchConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid bench configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'BenchConfigError';
  }
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** Throws BenchConfigError naming every bad variable. Empty variables count as unset. */
export function loadBenchSettings(env: Record<string, string | undefined> = process.env): BenchSettings {
  const input: Record<string, string> = {};
  for (const name of Object.keys(BenchEnv.shape)) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const parsed = BenchEnv.safeParse(input);
  if (!parsed.success) {
    throw new BenchConfigError(parsed.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`));
  }
  const config = parsed.data;
  return {
    durationS: config.BENCH_DURATION_S,
    warmupS: config.BENCH_WARMUP_S,
    connections: config.BENCH_CONNECTIONS,
    concurrency: config.BENCH_CONCURRENCY,
    natsServers: list(config.BENCH_NATS_URL),
    natsServerBin: config.BENCH_NATS_SERVER_BIN,
    tracing: config.BENCH_TRACING === 'on',
    only: list(config.BENCH_ONLY),
  };
}

/** The NATS servers of a case process; main always sets them before starting a case that uses NATS. */
export function natsServersOf(settings: BenchSettings): string[] {
  if (settings.natsServers.length === 0) throw new Error('no NATS server: BENCH_NATS_URL is not set');
  return [...settings.natsServers];
}
