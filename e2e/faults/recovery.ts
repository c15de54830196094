import type { Sample, WriteLoad } from './load.js';

/** Recovery: the first 1 s window after a fault with at least this share of the throughput before it. */
export const RECOVERED_SHARE = 0.8;

/**
 * From `endedAt` (a fault's end, performance.now() ms) to the start of the first 1 s window whose
 * successful creates reach RECOVERED_SHARE of `before` (per second), looking `watchMs` ahead, in
 * 100 ms steps; null when none does.
 */
export function recoveryMs(load: WriteLoad, endedAt: number, before: number, watchMs: number): number | null {
  for (let from = endedAt; from <= endedAt + watchMs && from + 1000 <= performance.now(); from += 100) {
    if (load.successesBetween(from, from + 1000) >= RECOVERED_SHARE * before) return Math.round(from - endedAt);
  }
  return null;
}

/** How many answers were 500, whatever their code (statusCounts keys an answer with a code as `500 INTERNAL`). */
export function internalErrorsIn(counts: Readonly<Record<string, number>>): number {
  return Object.entries(counts)
    .filter(([key]) => key === '500' || key.startsWith('500 '))
    .reduce((sum, [, count]) => sum + count, 0);
}

/** Answers counted by "status code" (or status alone). */
export function statusCounts(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) {
    const key = sample.code ? `${sample.status} ${sample.code}` : String(sample.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
