import { describe, expect, it } from 'vitest';
import { BenchConfigError, loadBenchSettings, natsServersOf } from './config.js';

describe('loadBenchSettings', () => {
  it('has the defaults the docs/benchmarks.md table is measured with (10 s a row, 16 connections) and starts a private NATS server', () => {
    expect(loadBenchSettings({})).toEqual({
      durationS: 10,
      warmupS: 1,
      connections: 16,
      concurrency: 32,
      natsServers: [],
      natsServerBin: 'nats-server',
      tracing: true,
      only: [],
    });
  });

  it('reads BENCH_* variables; empty counts as unset', () => {
    const settings = loadBenchSettings({
      BENCH_DURATION_S: '0.5',
      BENCH_WARMUP_S: '',
      BENCH_ONLY: 'nats.raw.seq, nest.nats.seq',
      BENCH_TRACING: 'off',
      BENCH_NATS_URL: 'nats://a:4222, nats://b:4222',
    });
    expect(settings).toMatchObject({
      durationS: 0.5,
      warmupS: 1,
      only: ['nats.raw.seq', 'nest.nats.seq'],
      tracing: false,
      natsServers: ['nats://a:4222', 'nats://b:4222'],
    });
    expect(natsServersOf(settings)).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(() => natsServersOf(loadBenchSettings({}))).toThrow(/BENCH_NATS_URL/);
  });

  it('names every bad variable', () => {
    try {
      loadBenchSettings({ BENCH_DURATION_S: '0', BENCH_CONNECTIONS: 'many' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BenchConfigError);
      const message = (error as BenchConfigError).message;
      expect(message).toContain('BENCH_DURATION_S');
      expect(message).toContain('BENCH_CONNECTIONS');
    }
  });
});
