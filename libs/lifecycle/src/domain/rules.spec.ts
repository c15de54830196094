import { DomainError } from '@sealbox/platform';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LifecycleAppConfig } from '../config.js';
import { planCatalog, reclamationPlansProblem, requirePlan, requireRegion, requireSameService, wirePlans } from './catalog.js';
import { instanceCrn, looksLikeCrn, parseCrn, parseRootKeyCrn } from './crn.js';
import { decodeCursor, encodeCursor, nextUrl } from './cursor.js';
import { OffsetFileClock } from '../test-clock/offset-file-clock.js';
import { DELETE_STEPS, firstStep, nextStep, PROVISION_STEPS, rollbackOf, stepPosition } from './saga.js';

const fieldsOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_FAILED');
    return (error as DomainError).fields?.map((issue) => issue.field);
  }
  throw new Error('expected VALIDATION_FAILED');
};

describe('CRNs', () => {
  it('formats an instance CRN as IBM does and parses it back', () => {
    const crn = instanceCrn('secrets-manager', 'us-south', 'acct1', '0f4b8e59-5a0a-4c8e-9c3f-7c7b5d1d2e3f');
    expect(crn).toBe('crn:v1:sealbox:public:secrets-manager:us-south:a/acct1:0f4b8e59-5a0a-4c8e-9c3f-7c7b5d1d2e3f::');
    expect(parseCrn(crn)).toEqual({
      cloud: 'sealbox',
      service: 'secrets-manager',
      region: 'us-south',
      accountId: 'acct1',
      serviceInstance: '0f4b8e59-5a0a-4c8e-9c3f-7c7b5d1d2e3f',
      resourceType: '',
      resource: '',
    });
    expect(looksLikeCrn(crn)).toBe(true);
    expect(looksLikeCrn('0f4b8e59-5a0a-4c8e-9c3f-7c7b5d1d2e3f')).toBe(false);
  });

  it('is undefined for what is not a CRN', () => {
    for (const text of ['', 'crn', 'crn:v2:sealbox:public:kms:us-south:a/x:i:key:k', 'crn:v1:sealbox:secret:kms:us-south:a/x:i:key:k', 'crn:v1:sealbox:public:kms:us-south:x:i:key:k', 'crn:v1:sealbox:public:kms:us-south:a/x:i:key']) {
      expect(parseCrn(text)).toBeUndefined();
    }
  });

  it('reads a root key CRN (any cloud name) and names parameters.kms_key for anything else', () => {
    expect(parseRootKeyCrn('crn:v1:bluemix:public:kms:eu-de:a/acct:inst:key:k1')).toEqual({ service: 'kms', region: 'eu-de', accountId: 'acct', instanceId: 'inst', keyId: 'k1' });
    expect(parseRootKeyCrn('crn:v1:sealbox:public:hs-crypto:us-south:a/acct:inst:key:k1').service).toBe('hs-crypto');
    for (const bad of [42, 'not-a-crn', 'crn:v1:sealbox:public:secrets-manager:us-south:a/acct:inst:key:k1', 'crn:v1:sealbox:public:kms:us-south:a/acct:inst:secret:k1', 'crn:v1:sealbox:public:kms:us-south:a/acct:inst:key:']) {
      expect(fieldsOf(() => parseRootKeyCrn(bad))).toEqual(['parameters.kms_key']);
    }
  });
});

describe('plan catalog and regions', () => {
  const catalog = planCatalog(['secrets-manager-standard']);

  it('has the four documented plans; reclamation where configured', () => {
    expect(catalog.map((plan) => [plan.id, plan.service, plan.reclamation])).toEqual([
      ['secrets-manager-trial', 'secrets-manager', false],
      ['secrets-manager-standard', 'secrets-manager', true],
      ['kms-standard', 'kms', false],
      ['hs-crypto-standard', 'hs-crypto', false],
    ]);
    expect(wirePlans(catalog, new Set(['secrets-manager-trial']), 7 * 86_400_000).map((plan) => [plan.id, plan.retentionSeconds, plan.retired])).toEqual([
      ['secrets-manager-trial', 0, true],
      ['secrets-manager-standard', 604_800, false],
      ['kms-standard', 0, false],
      ['hs-crypto-standard', 0, false],
    ]);
  });

  it('refuses unknown and retired plans, plan changes across services and unknown regions, naming the field', () => {
    expect(requirePlan(catalog, new Set(), 'kms-standard').service).toBe('kms');
    expect(fieldsOf(() => requirePlan(catalog, new Set(), 'gold'))).toEqual(['resource_plan_id']);
    expect(fieldsOf(() => requirePlan(catalog, new Set(['kms-standard']), 'kms-standard'))).toEqual(['resource_plan_id']);
    expect(fieldsOf(() => requireSameService(catalog[0]!, catalog[2]!))).toEqual(['resource_plan_id']);
    expect(() => requireSameService(catalog[0]!, catalog[1]!)).not.toThrow();
    expect(requireRegion(['us-south'], 'us-south')).toBe('us-south');
    expect(fieldsOf(() => requireRegion(['us-south'], 'global'))).toEqual(['target']);
  });

  it('allows reclamation on secrets-manager plans only', () => {
    expect(reclamationPlansProblem(['secrets-manager-trial', 'secrets-manager-standard'])).toBeUndefined();
    expect(reclamationPlansProblem(['kms-standard'])).toMatch(/cannot have reclamation/);
    expect(reclamationPlansProblem(['gold'])).toMatch(/unknown plan/);
  });

  it('reads the lifecycle settings with their defaults, and refuses bad ones', () => {
    const base = { SEALBOX_DATABASE_URL: 'postgres://x/y', SEALBOX_NATS_URL: 'nats://127.0.0.1:4222' };
    const config = LifecycleAppConfig.parse(base);
    expect(config.SEALBOX_LIFECYCLE_REGIONS).toEqual(['us-south', 'eu-de']);
    expect(config.SEALBOX_LIFECYCLE_RETENTION_SECONDS).toBe(604_800);
    expect(config.SEALBOX_LIFECYCLE_PLAN_CHANGE_GRACE_SECONDS).toBe(3600);
    expect(config).not.toHaveProperty('SEALBOX_LIFECYCLE_TEST_CLOCK_FILE');
    expect(LifecycleAppConfig.parse({ ...base, SEALBOX_LIFECYCLE_REGIONS: 'us-east, jp-tok' }).SEALBOX_LIFECYCLE_REGIONS).toEqual(['us-east', 'jp-tok']);
    expect(LifecycleAppConfig.safeParse({ ...base, SEALBOX_LIFECYCLE_RECLAMATION_PLANS: 'kms-standard' }).success).toBe(false);
    expect(LifecycleAppConfig.safeParse({ ...base, SEALBOX_LIFECYCLE_REGIONS: 'US South' }).success).toBe(false);
  });
});

describe('list cursors', () => {
  it('round-trip and refuse anything that is not one of ours, naming start', () => {
    const cursor = { createdAt: 1_767_225_600_000, guid: '0f4b8e59-5a0a-4c8e-9c3f-7c7b5d1d2e3f' };
    const start = encodeCursor(cursor);
    expect(start).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(start)).toEqual(cursor);
    const notOurs = [
      'a+b',
      Buffer.from('not json').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
      Buffer.from('["1","g"]').toString('base64url'),
      Buffer.from('[1.5,"g"]').toString('base64url'),
      Buffer.from('[1,""]').toString('base64url'),
    ];
    for (const bad of notOurs) expect(fieldsOf(() => decodeCursor(bad))).toEqual(['start']);
  });

  it('next_url repeats the path and filters with start and limit', () => {
    expect(nextUrl('/v2/resource_instances', { name: 'a b', state: undefined }, 'abc', 10)).toBe('/v2/resource_instances?name=a+b&start=abc&limit=10');
  });
});

describe('saga steps', () => {
  it('provisioning: bucket, registration, activation; permanent delete: secrets, bucket, registration, authorizations', () => {
    expect(firstStep('provision')).toBe('create_bucket');
    expect([...PROVISION_STEPS]).toEqual(['create_bucket', 'create_registration', 'activate_secrets']);
    expect([...DELETE_STEPS]).toEqual(['purge_secrets', 'remove_bucket', 'delete_registration', 'delete_policies']);
    expect(nextStep('delete', 'remove_bucket')).toBe('delete_registration');
    expect(nextStep('delete', 'delete_policies')).toBeUndefined();
    expect(() => nextStep('provision', 'purge_secrets')).toThrow();
    expect(stepPosition('delete', 'delete_registration')).toEqual({ index: 3, of: 4 });
  });

  it('a failed provisioning step undoes itself and every step before it, latest first', () => {
    expect(rollbackOf('create_bucket')).toEqual(['create_bucket']);
    expect(rollbackOf('activate_secrets')).toEqual(['activate_secrets', 'create_registration', 'create_bucket']);
  });
});

describe('OffsetFileClock (tests only)', () => {
  it('adds the ms written in its file to the system time, and nothing without a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-clock-'));
    try {
      const file = join(dir, 'offset');
      const clock = new OffsetFileClock(file, () => 1000);
      expect(clock.nowMs()).toBe(1000);
      writeFileSync(file, '604800000\n');
      expect(clock.nowMs()).toBe(604_801_000);
      writeFileSync(file, 'soon');
      expect(clock.now().getTime()).toBe(1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
