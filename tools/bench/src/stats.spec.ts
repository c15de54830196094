import { describe, expect, it } from 'vitest';
import { LatencySamples, percentile, summarize } from './stats.js';

const ascending = (count: number) => Float64Array.from({ length: count }, (_, index) => index + 1);

describe('percentile (nearest rank)', () => {
  it('picks the smallest sample with at least p percent at or below it', () => {
    const hundred = ascending(100);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('rounds the rank up on small sets', () => {
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([7], 99)).toBe(7);
  });

  it('is NaN without samples and rejects percentiles outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('LatencySamples and summarize', () => {
  it('keeps every sample past its initial capacity and sorts numerically', () => {
    const samples = new LatencySamples();
    for (let value = 5000; value >= 1; value--) samples.push(value / 10);
    expect(samples.count).toBe(5000);
    const sorted = samples.sorted();
    expect(sorted[0]).toBe(0.1);
    expect(sorted[4999]).toBe(500);
    // Numeric, not lexicographic: 10 after 9.
    expect(Array.from(sorted.slice(88, 92))).toEqual([8.9, 9, 9.1, 9.2]);
  });

  it('reports successful operations per second over the elapsed time with p50/p99', () => {
    const samples = new LatencySamples();
    for (const value of ascending(200)) samples.push(value);
    expect(summarize(samples, 4000)).toEqual({ operations: 200, throughput: 50, meanMs: 100.5, p50Ms: 100, p99Ms: 198 });
  });

  it('reports zero throughput and NaN latencies for an empty or zero-length run', () => {
    const summary = summarize(new LatencySamples(), 0);
    expect(summary.throughput).toBe(0);
    expect(summary.p50Ms).toBeNaN();
    expect(summary.meanMs).toBeNaN();
  });
});
