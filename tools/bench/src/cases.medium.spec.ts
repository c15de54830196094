import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBench } from './cases/index.js';
import { loadBenchSettings, type BenchSettings } from './config.js';
import { startPrivateNats, type PrivateNats } from './nats-server.js';

// Smoke test: the RPC rows still run end to end (registry subject, handler, transports). Tiny
// durations, a private nats-server, tracing off (it is process-global); no timing is asserted.
describe('bench RPC cases', () => {
  let nats: PrivateNats;
  let settings: BenchSettings;

  beforeAll(async () => {
    nats = await startPrivateNats('nats-server');
    settings = loadBenchSettings({ BENCH_DURATION_S: '0.2', BENCH_WARMUP_S: '0', BENCH_CONCURRENCY: '4', BENCH_TRACING: 'off', BENCH_NATS_URL: nats.url });
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it.each(['nats.raw.seq', 'nats.raw.conc', 'nest.nats.seq', 'nest.nats.conc', 'nest.inproc.seq', 'nest.inproc.conc'])(
    '%s measures round trips answered by this process',
    async (name) => {
      const measurement = await createBench(settings).get(name).run(settings);
      expect(measurement.errors, measurement.firstError).toBe(0);
      expect(measurement.operations).toBeGreaterThan(0);
      expect(measurement.unit).toBe('ops/s');
      expect(Number.isFinite(measurement.p99Ms)).toBe(true);
    },
  );
});
