/** Latency statistics. Pure: no clocks, no I/O. */

/** Growable buffer of latencies in milliseconds (millions of samples without boxing). */
export class LatencySamples {
  private values = new Float64Array(1024);
  private length = 0;

  push(ms: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = ms;
  }

  get count(): number {
    return this.length;
  }

  /** A sorted copy of the samples. */
  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}

/**
 * Nearest-rank percentile of an ascending array: the smallest sample such that at least `p` percent
 * of the samples are at or below it. NaN for no samples.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export interface LatencySummary {
  readonly operations: number;
  readonly throughput: number;
  /** Far above p50 when the process stalls (GC, a loaded machine): then throughput says more than p50. */
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Operations per second over `elapsedMs`, with p50 and p99 of the samples. */
export function summarize(samples: LatencySamples, elapsedMs: number): LatencySummary {
  const sorted = samples.sorted();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    operations: sorted.length,
    throughput: elapsedMs > 0 ? (sorted.length * 1000) / elapsedMs : 0,
    meanMs: sorted.length > 0 ? total / sorted.length : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}
