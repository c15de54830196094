import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBenchSettings, type BenchSettings } from '../config.js';
import { startPrivateNats, type PrivateNats } from '../nats-server.js';
import { createBench } from './index.js';
import { authorizationChecks } from './kms.js';

// Smoke test: the HSM rows (SoftHSM2 temp tokens) and the kms rows (KmsModule over a private
// nats-server) run end to end. Tiny durations, tracing off; no timing is asserted.
describe('bench HSM and kms rows', () => {
  let nats: PrivateNats;
  let settings: BenchSettings;

  beforeAll(async () => {
    nats = await startPrivateNats('nats-server');
    settings = loadBenchSettings({ BENCH_DURATION_S: '0.2', BENCH_WARMUP_S: '0', BENCH_CONCURRENCY: '4', BENCH_TRACING: 'off', BENCH_NATS_URL: nats.url });
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it.each(['aesgcm.raw.dek', 'hsm.pkcs11.wrap-unwrap.seq', 'hsm.pkcs11.wrap-unwrap.conc', 'hsm.pkcs11.wrapped-key.seq', 'hsm.pkcs11.wrapped-key.conc'])(
    '%s wraps and unwraps',
    async (name) => {
      const measurement = await createBench(settings).get(name).run(settings);
      expect(measurement.errors, measurement.firstError).toBe(0);
      expect(measurement.operations).toBeGreaterThan(0);
    },
  );

  it.each(['kms.inproc.wrap-unwrap.seq', 'kms.inproc.wrap-unwrap.conc', 'kms.nats.wrap-unwrap.seq', 'kms.nats.wrap-unwrap.conc'])('%s wraps and unwraps through kms, authorization asked of iam', async (name) => {
    const before = authorizationChecks.count;
    const measurement = await createBench(settings).get(name).run(settings);
    expect(measurement.errors, measurement.firstError).toBe(0);
    expect(measurement.operations).toBeGreaterThan(0);
    expect(authorizationChecks.count).toBeGreaterThan(before);
  });
});
