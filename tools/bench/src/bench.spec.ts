import { describe, expect, it } from 'vitest';
import { Bench, runCases, type BenchCase, type Measurement } from './bench.js';

const measurement: Measurement = {
  unit: 'ops/s',
  concurrency: 1,
  operations: 10,
  errors: 0,
  elapsedMs: 1000,
  throughput: 10,
  meanMs: 1.2,
  p50Ms: 1,
  p99Ms: 2,
};

const benchCase = (name: string, baseline?: string): BenchCase => ({
  name,
  description: name,
  ...(baseline ? { baseline } : {}),
  run: async () => measurement,
});

describe('Bench registry', () => {
  const bench = () =>
    new Bench().add(benchCase('a')).add(benchCase('b', 'a')).add(benchCase('c', 'b')).add(benchCase('d'));

  it('keeps registration order and refuses duplicates and unknown or later baselines', () => {
    expect(bench().list().map((entry) => entry.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(() => bench().add(benchCase('a'))).toThrow(/already registered/);
    expect(() => new Bench().add(benchCase('x', 'y'))).toThrow(/baseline "y" must be registered before it/);
  });

  it('selects named cases with their baselines, transitively, in registration order', () => {
    expect(bench().select(['c']).map((entry) => entry.name)).toEqual(['a', 'b', 'c']);
    expect(bench().select(['d', 'a']).map((entry) => entry.name)).toEqual(['a', 'd']);
    expect(bench().select([]).map((entry) => entry.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(() => bench().select(['nope'])).toThrow(/unknown bench case "nope"/);
  });
});

describe('Bench dependencies', () => {
  const withDependency = (name: string, dependency: string, baseline?: string): BenchCase => ({ ...benchCase(name, baseline), dependency });

  it('refuses a dependency registered later and selects dependencies (with their baselines) like baselines', () => {
    expect(() => new Bench().add(withDependency('x', 'y'))).toThrow(/dependency "y" must be registered before it/);
    const bench = new Bench().add(benchCase('fastify')).add(benchCase('pg')).add(benchCase('pg.c1', 'pg')).add(withDependency('get', 'pg', 'fastify')).add(withDependency('get.c1', 'pg.c1', 'get'));
    expect(bench.select(['get']).map((entry) => entry.name)).toEqual(['fastify', 'pg', 'get']);
    expect(bench.select(['get.c1']).map((entry) => entry.name)).toEqual(['fastify', 'pg', 'pg.c1', 'get', 'get.c1']);
  });

  it('carries the dependency into the result row', async () => {
    const [result] = await runCases([withDependency('get', 'pg')], async () => measurement);
    expect(result).toEqual({ name: 'get', description: 'get', dependency: 'pg', measurement });
  });
});

describe('runCases', () => {
  it('turns a failing case into a row with its error and still runs the others', async () => {
    const seen: string[] = [];
    const results = await runCases(
      [benchCase('a'), benchCase('b', 'a')],
      async (entry) => {
        if (entry.name === 'a') throw new Error('NATS is down');
        return measurement;
      },
      (result) => seen.push(result.name),
    );
    expect(results).toEqual([
      { name: 'a', description: 'a', error: 'NATS is down' },
      { name: 'b', description: 'b', baseline: 'a', measurement },
    ]);
    expect(seen).toEqual(['a', 'b']);
  });
});
