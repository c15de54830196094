import { describe, expect, it } from 'vitest';
import { loadBenchSettings } from '../config.js';
import { benchEnvelopeService } from './envelope.js';
import { createBench } from './index.js';

describe('key and envelope rows', () => {
  const settings = loadBenchSettings({ BENCH_DURATION_S: '0.1', BENCH_WARMUP_S: '0', BENCH_TRACING: 'off' });
  const bench = createBench(settings);
  const names = (only: string[]) => bench.select(only).map((entry) => entry.name);

  it('compare the HSM with node:crypto, a wrapped key with a token key, and kms (in-process, over NATS) with the raw HSM pair', () => {
    expect(names(['kms.nats.wrap-unwrap.seq'])).toEqual(['aesgcm.raw.dek', 'hsm.pkcs11.wrap-unwrap.seq', 'kms.nats.wrap-unwrap.seq']);
    expect(names(['kms.inproc.wrap-unwrap.conc'])).toEqual(['aesgcm.raw.dek', 'hsm.pkcs11.wrap-unwrap.conc', 'kms.inproc.wrap-unwrap.conc']);
    expect(bench.get('kms.nats.wrap-unwrap.conc').baseline).toBe('hsm.pkcs11.wrap-unwrap.conc');
    expect(bench.get('kms.inproc.wrap-unwrap.seq').baseline).toBe('hsm.pkcs11.wrap-unwrap.seq');
    expect(bench.get('hsm.pkcs11.wrapped-key.conc').baseline).toBe('hsm.pkcs11.wrap-unwrap.conc');
    expect(bench.get('kms.nats.wrap-unwrap.seq').uses).toEqual(['nats']);
    expect(bench.get('kms.inproc.wrap-unwrap.seq').uses).toBeUndefined();
    expect(bench.get('hsm.pkcs11.wrap-unwrap.conc').uses).toBeUndefined();
  });

  it('compare envelope seal with raw AES-256-GCM encryption, and open with decryption, of the same size', () => {
    for (const size of ['1k', '64k']) {
      expect(bench.get(`envelope.seal.${size}`).baseline).toBe(`aesgcm.raw.encrypt.${size}`);
      expect(bench.get(`envelope.open.${size}`).baseline).toBe(`aesgcm.raw.decrypt.${size}`);
    }
  });

  it.each(['aesgcm.raw.encrypt.1k', 'aesgcm.raw.decrypt.1k', 'envelope.seal.1k', 'envelope.open.1k', 'envelope.seal.64k', 'envelope.open.64k'])(
    '%s runs without errors',
    async (name) => {
      const measurement = await bench.get(name).run(settings);
      expect(measurement.errors, measurement.firstError).toBe(0);
      expect(measurement.operations).toBeGreaterThan(0);
    },
  );

  it('opens the same envelope from the DEK cache: the kms stand-in unwraps once per maxUses opens', async () => {
    const { service, kms, cache } = benchEnvelopeService();
    const request = {
      source: { accountId: 'a', serviceName: 'secrets-manager', serviceInstance: 'sm' },
      key: { instanceId: 'kp', keyId: 'root' },
      context: { instanceCrn: 'crn:v1:x', secretId: 's', versionId: 'v' },
    };
    const plaintext = Buffer.from('payload');
    const { envelope } = await service.seal({ ...request, plaintext });
    for (let i = 0; i < 150; i++) expect((await service.open({ ...request, envelope })).plaintext.equals(plaintext)).toBe(true);
    expect(kms.unwraps).toBe(2);
    cache.onModuleDestroy();
  });
});
