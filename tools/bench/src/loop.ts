import { performance } from 'node:perf_hooks';
import { LatencySamples, summarize } from './stats.js';

export interface LoopOptions {
  readonly durationMs: number;
  /** Workers, each with one operation in flight: 1 = sequential. */
  readonly concurrency: number;
}

export interface LoopResult {
  readonly concurrency: number;
  readonly operations: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly throughput: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly firstError?: string;
}

/**
 * Call `operation` back to back from `concurrency` workers until `durationMs` has passed, timing each
 * successful call. Operations started before the deadline finish and count.
 */
export async function measureLoop(operation: () => Promise<void>, options: LoopOptions): Promise<LoopResult> {
  const samples = new LatencySamples();
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const begun = performance.now();
      try {
        await operation();
        samples.push(performance.now() - begun);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  const elapsedMs = performance.now() - start;
  return {
    concurrency: options.concurrency,
    ...summarize(samples, elapsedMs),
    errors,
    elapsedMs,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

/** Warm up (unmeasured), then measure: what every RPC row does. */
export async function warmThenMeasure(
  operation: () => Promise<void>,
  options: { readonly warmupS: number; readonly durationS: number; readonly concurrency: number },
): Promise<LoopResult> {
  if (options.warmupS > 0) {
    await measureLoop(operation, { durationMs: options.warmupS * 1000, concurrency: options.concurrency });
  }
  return measureLoop(operation, { durationMs: options.durationS * 1000, concurrency: options.concurrency });
}
