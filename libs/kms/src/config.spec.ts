import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { kmsDomainOptions, KmsSettings } from './config.js';

const settings = z.object(KmsSettings);

describe('kms settings: the schedulers interval', () => {
  it('defaults to 60 s and reaches the domain options', () => {
    const config = settings.parse({});
    expect(config.SEALBOX_KMS_SCHEDULER_INTERVAL_MS).toBe(60_000);
    expect(kmsDomainOptions(config).domain?.schedulerIntervalMs).toBe(60_000);
  });

  it('takes 0 (off) or at least 1000 ms, from text as environment variables are', () => {
    expect(settings.parse({ SEALBOX_KMS_SCHEDULER_INTERVAL_MS: '0' }).SEALBOX_KMS_SCHEDULER_INTERVAL_MS).toBe(0);
    expect(kmsDomainOptions(settings.parse({ SEALBOX_KMS_SCHEDULER_INTERVAL_MS: '1000' })).domain?.schedulerIntervalMs).toBe(1000);
    for (const value of ['999', '-1', '1.5', 'soon', String(86_400_001)]) {
      expect(settings.safeParse({ SEALBOX_KMS_SCHEDULER_INTERVAL_MS: value }).success, value).toBe(false);
    }
  });
});
