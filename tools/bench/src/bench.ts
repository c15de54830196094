import type { BenchSettings } from './config.js';

/** What one case measured, in one process, over the configured duration (after its warm-up). */
export interface Measurement {
  /** `req/s` for HTTP requests, `ops/s` for RPC round trips. */
  readonly unit: 'req/s' | 'ops/s';
  /** Connections (HTTP) or requests in flight (RPC). */
  readonly concurrency: number;
  /** Successful operations in the measured window. */
  readonly operations: number;
  readonly errors: number;
  readonly elapsedMs: number;
  /** Successful operations per second: the value a row's `ratio` compares. */
  readonly throughput: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The first error seen, when `errors` > 0. */
  readonly firstError?: string;
}

export type Resource = 'nats';

export interface BenchCase {
  /** Row key, unique in the registry (e.g. `nats.raw.seq`). */
  readonly name: string;
  /** One line saying what is measured and how. */
  readonly description: string;
  /** The row this one is compared with: `ratio` = throughput / the baseline's throughput, same run. */
  readonly baseline?: string;
  /**
   * The row measuring the dependency this one cannot avoid (e.g. the database a read must ask): its
   * note also says throughput / that row's throughput, same run. Registered before it, like a baseline.
   */
  readonly dependency?: string;
  /** Seconds it may take beyond warm-up and measurement (setting up and tearing down) before it is killed; 60 when absent. */
  readonly setupS?: number;
  /** Shared infrastructure the run must provide (`nats`: a NATS server, private unless BENCH_NATS_URL is set). */
  readonly uses?: readonly Resource[];
  /** Set up, warm up, measure, tear down. Runs in a fresh process of its own. */
  run(settings: BenchSettings): Promise<Measurement>;
}

export interface CaseResult {
  readonly name: string;
  readonly description: string;
  readonly baseline?: string;
  readonly dependency?: string;
  readonly measurement?: Measurement;
  /** Why the case produced no measurement. */
  readonly error?: string;
}

/** The named cases of `npm run bench`, in the order their rows print. */
export class Bench {
  private readonly cases = new Map<string, BenchCase>();

  /** A baseline must be added before the rows that name it, which also rules out cycles. */
  add(benchCase: BenchCase): this {
    if (this.cases.has(benchCase.name)) throw new Error(`bench case "${benchCase.name}" is already registered`);
    for (const [what, name] of [['baseline', benchCase.baseline], ['dependency', benchCase.dependency]] as const) {
      if (name !== undefined && !this.cases.has(name)) throw new Error(`bench case "${benchCase.name}": ${what} "${name}" must be registered before it`);
    }
    this.cases.set(benchCase.name, benchCase);
    return this;
  }

  get(name: string): BenchCase {
    const found = this.cases.get(name);
    if (!found) throw new Error(`unknown bench case "${name}"; known: ${[...this.cases.keys()].join(', ')}`);
    return found;
  }

  list(): readonly BenchCase[] {
    return [...this.cases.values()];
  }

  /**
   * The cases to run: all of them, or the named ones plus (transitively) their baselines and
   * dependencies, so every printed ratio is measured in the same run. Registration order.
   */
  select(names?: readonly string[]): readonly BenchCase[] {
    if (!names || names.length === 0) return this.list();
    const wanted = new Set<string>();
    const pending = [...names];
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      const current = this.get(name);
      if (wanted.has(current.name)) continue;
      wanted.add(current.name);
      for (const next of [current.baseline, current.dependency]) if (next !== undefined) pending.push(next);
    }
    return this.list().filter((benchCase) => wanted.has(benchCase.name));
  }
}

/** Run cases one after the other; a failing case becomes a row with its error, the others still run. */
export async function runCases(
  cases: readonly BenchCase[],
  execute: (benchCase: BenchCase) => Promise<Measurement>,
  onResult?: (result: CaseResult) => void,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const benchCase of cases) {
    const base = {
      name: benchCase.name,
      description: benchCase.description,
      ...(benchCase.baseline !== undefined ? { baseline: benchCase.baseline } : {}),
      ...(benchCase.dependency !== undefined ? { dependency: benchCase.dependency } : {}),
    };
    let result: CaseResult;
    try {
      result = { ...base, measurement: await execute(benchCase) };
    } catch (error) {
      result = { ...base, error: error instanceof Error ? error.message : String(error) };
    }
    results.push(result);
    onResult?.(result);
  }
  return results;
}
