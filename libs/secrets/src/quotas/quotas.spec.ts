import { SecretsWire } from '@sealbox/contracts';
import { isDomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { SecretsSettings } from '../config.js';
import { z } from 'zod';
import {
  assertGroupQuota,
  assertPayloadQuota,
  assertSecretQuota,
  countKeys,
  DEFAULT_PLAN_QUOTAS,
  payloadBytes,
  planQuotas,
  quotaOf,
  QuotaOverrides,
  type SecretsQuota,
} from './quotas.js';

const STANDARD = DEFAULT_PLAN_QUOTAS['secrets-manager-standard'] as SecretsQuota;
const TRIAL = DEFAULT_PLAN_QUOTAS['secrets-manager-trial'] as SecretsQuota;

/** The error `run` throws: its code and message, or undefined. */
function refusal(run: () => void): { code: string; message: string } | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

describe('secrets quotas', () => {
  it('gives the trial plan smaller quotas than the standard plan, within what the API accepts', () => {
    expect(STANDARD.groupsPerInstance).toBe(SecretsWire.MAX_SECRET_GROUPS_PER_INSTANCE);
    expect(STANDARD.versionsKept).toBe(SecretsWire.MAX_VERSIONS_KEPT);
    for (const key of Object.keys(STANDARD) as (keyof SecretsQuota)[]) expect(TRIAL[key]).toBeLessThan(STANDARD[key]);
  });

  it('refuses the secret past the quota with 409 QUOTA_EXCEEDED naming the limit and the plan', () => {
    expect(refusal(() => assertSecretQuota(TRIAL, 'secrets-manager-trial', TRIAL.secretsPerInstance - 1))).toBeUndefined();
    const over = refusal(() => assertSecretQuota(TRIAL, 'secrets-manager-trial', TRIAL.secretsPerInstance));
    expect(over?.code).toBe('QUOTA_EXCEEDED');
    expect(over?.message).toContain(`at most ${TRIAL.secretsPerInstance} secrets`);
    expect(over?.message).toContain('plan secrets-manager-trial');
    // An instance registered before plans were recorded has the default plan's quotas.
    expect(refusal(() => assertSecretQuota(STANDARD, null, STANDARD.secretsPerInstance))?.message).toContain('plan secrets-manager-standard');
  });

  it('counts groups besides default', () => {
    expect(refusal(() => assertGroupQuota(STANDARD, null, STANDARD.groupsPerInstance))).toBeUndefined();
    expect(refusal(() => assertGroupQuota(STANDARD, null, STANDARD.groupsPerInstance + 1))?.code).toBe('QUOTA_EXCEEDED');
  });

  it('measures a payload as its owner sees it: text in UTF-8 bytes, kv data as JSON', () => {
    expect(payloadBytes({ payload: 'é'.repeat(10) })).toBe(20);
    expect(payloadBytes({ payload: '\u0001' })).toBe(1);
    expect(payloadBytes({ data: { a: 'b' } })).toBe(JSON.stringify({ a: 'b' }).length);
    expect(payloadBytes({ username: 'u', password: 'pw', absent: undefined })).toBe(3);
  });

  it('counts kv keys with the nested ones', () => {
    expect(countKeys({ a: 1, b: { c: 2, d: [{ e: 3 }, 4] } })).toBe(5);
    expect(countKeys([{ a: 1 }, { b: 2 }])).toBe(2);
    expect(countKeys('text')).toBe(0);
  });

  it('refuses a payload over the bytes or a kv secret over the keys of the plan', () => {
    const quota: SecretsQuota = { ...TRIAL, payloadBytes: 10, kvKeys: 2 };
    expect(refusal(() => assertPayloadQuota(quota, 'p', 'arbitrary', { payload: '0123456789' }))).toBeUndefined();
    const big = refusal(() => assertPayloadQuota(quota, 'p', 'arbitrary', { payload: '01234567890' }));
    expect(big).toEqual({ code: 'QUOTA_EXCEEDED', message: expect.stringContaining('at most 10 bytes; this one is 11') as string });
    const roomy = { ...quota, payloadBytes: 1000 };
    expect(refusal(() => assertPayloadQuota(roomy, 'p', 'kv', { data: { a: 1, b: 2 } }))).toBeUndefined();
    expect(refusal(() => assertPayloadQuota(roomy, 'p', 'kv', { data: { a: { b: 1 }, c: 2 } }))?.message).toContain('at most 2 keys');
    // Only kv data has keys to count.
    expect(refusal(() => assertPayloadQuota(roomy, 'p', 'arbitrary', { payload: '{"a":1,"b":2,"c":3}' }))).toBeUndefined();
  });

  it('applies overrides per plan; a plan only in the overrides starts from the standard quotas', () => {
    const plans = planQuotas({ 'secrets-manager-trial': { secrets_per_instance: 5 }, 'team-plan': { kv_keys: 7 } });
    expect(quotaOf(plans, 'secrets-manager-trial')).toEqual({ ...TRIAL, secretsPerInstance: 5 });
    expect(quotaOf(plans, 'team-plan')).toEqual({ ...STANDARD, kvKeys: 7 });
    expect(quotaOf(plans, 'unknown-plan')).toEqual(STANDARD);
    expect(quotaOf(plans, null)).toEqual(STANDARD);
  });

  it('reads SEALBOX_SECRETS_QUOTAS as JSON and refuses what is not a quota', () => {
    const setting = z.object({ SEALBOX_SECRETS_QUOTAS: SecretsSettings.SEALBOX_SECRETS_QUOTAS });
    expect(setting.parse({ SEALBOX_SECRETS_QUOTAS: '{"secrets-manager-trial":{"versions_kept":3}}' }).SEALBOX_SECRETS_QUOTAS).toEqual({
      'secrets-manager-trial': { versions_kept: 3 },
    });
    expect(setting.parse({}).SEALBOX_SECRETS_QUOTAS).toEqual({});
    expect(setting.safeParse({ SEALBOX_SECRETS_QUOTAS: 'not json' }).success).toBe(false);
    expect(setting.safeParse({ SEALBOX_SECRETS_QUOTAS: '{"p":{"secrets":1}}' }).success).toBe(false);
    expect(setting.safeParse({ SEALBOX_SECRETS_QUOTAS: '{"p":{"versions_kept":51}}' }).success).toBe(false);
    expect(setting.safeParse({ SEALBOX_SECRETS_QUOTAS: '{"p":{"kv_keys":0}}' }).success).toBe(false);
    expect(QuotaOverrides.safeParse({ p: { payload_bytes: 1024 } }).success).toBe(true);
  });
});
