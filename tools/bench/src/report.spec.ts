import { describe, expect, it } from 'vitest';
import type { CaseResult, Measurement } from './bench.js';
import { formatMs, formatRate, formatRatio, formatTable, withRatios } from './report.js';

const measured = (throughput: number, extra: Partial<Measurement> = {}): Measurement => ({
  unit: 'ops/s',
  concurrency: 1,
  operations: throughput * 5,
  errors: 0,
  elapsedMs: 5000,
  throughput,
  meanMs: 0.3,
  p50Ms: 0.25,
  p99Ms: 1.5,
  ...extra,
});

const row = (name: string, throughput: number | undefined, baseline?: string): CaseResult => ({
  name,
  description: `${name} described`,
  ...(baseline ? { baseline } : {}),
  ...(throughput === undefined ? { error: 'NATS is down' } : { measurement: measured(throughput) }),
});

describe('withRatios', () => {
  it('divides each row by its baseline row of the same run', () => {
    const rows = withRatios([row('raw', 4000), row('nest', 3000, 'raw'), row('inproc', 6000, 'nest')]);
    expect(rows.map((entry) => entry.ratio)).toEqual([undefined, 0.75, 2]);
  });

  it('has no ratio when the baseline failed, is missing or measured nothing', () => {
    const rows = withRatios([row('raw', undefined), row('nest', 3000, 'raw'), row('zero', 0), row('other', 5, 'zero'), row('lost', 5, 'absent')]);
    expect(rows.map((entry) => entry.ratio)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('dependency ratios', () => {
  it('divides a row by the dependency it cannot avoid as well, and names it in its note', () => {
    const rows = withRatios([row('fastify', 1000), row('pg', 400), { ...row('get', 100, 'fastify'), dependency: 'pg' }, { ...row('gone', 5), dependency: 'absent' }]);
    expect(rows.map((entry) => entry.dependencyRatio)).toEqual([undefined, undefined, 0.25, undefined]);
    expect(rows[2]?.ratio).toBe(0.1);
    const table = formatTable(rows);
    expect(table).toContain('- get: get described (0.25x pg, the dependency it cannot avoid)');
    expect(table).toContain('- gone: gone described (- absent, the dependency it cannot avoid)');
    expect(table).toContain('- pg: pg described\n');
  });
});

describe('number formatting', () => {
  it('formats rates, milliseconds and ratios, with a dash for nothing', () => {
    expect(formatRate(31452.6)).toBe('31,453');
    expect(formatMs(0.15234)).toBe('0.152');
    expect(formatRatio(0.7649)).toBe('0.76x');
    expect(formatRatio(13.236)).toBe('13.24x');
    for (const format of [formatRate, formatMs, formatRatio]) {
      expect(format(undefined)).toBe('-');
      expect(format(Number.NaN)).toBe('-');
    }
  });
});

describe('formatTable', () => {
  const table = formatTable(
    withRatios([
      row('nats.raw.seq', 4000),
      { ...row('nest.nats.seq', 3000, 'nats.raw.seq'), measurement: measured(3000, { errors: 2, firstError: 'timeout' }) },
      row('broken', undefined, 'nats.raw.seq'),
    ]),
  );
  const lines = table.split('\n');

  it('prints an aligned Markdown table with right-aligned numbers', () => {
    expect(lines[0]).toMatch(/^\| case +\| conc \| +throughput \| p50 ms \| p99 ms \| errors \| baseline +\| ratio \|$/);
    expect(lines[1]).toMatch(/^\|( -+:? \|)+$/);
    const widths = lines.slice(0, 5).map((line) => line.length);
    expect(new Set(widths).size).toBe(1);
    expect(lines[3]).toContain('3,000 ops/s');
    expect(lines[3]).toContain('0.75x');
    expect(lines[3]).toContain('0.250');
  });

  it('shows failed rows and errors in the notes', () => {
    expect(lines[4]).toContain('FAILED');
    expect(table).toContain('- broken: broken described [NATS is down]');
    expect(table).toContain('- nest.nats.seq: nest.nats.seq described [first error: timeout]');
  });
});
