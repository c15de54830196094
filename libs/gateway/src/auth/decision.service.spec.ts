import { ManualClock } from '@sealbox/platform';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_OPTIONS } from '../options.js';
import { DecisionService } from './decision.service.js';
import { FakeEvents, FakeIam } from './testing/fake-iam.js';

const caller = { iamId: 'iam-ServiceId-1', accountId: 'acc', subType: 'service_id' as const };
const resource = { accountId: 'acc', serviceName: 'secrets-manager', serviceInstance: 'i-1' };
const policyEvent = { accountId: 'acc', policyId: 'p-1', type: 'access' };

function setup() {
  const clock = new ManualClock();
  const iam = new FakeIam(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  const events = new FakeEvents();
  const decisions = new DecisionService(iam.rpc, clock, { ...DEFAULT_GATEWAY_OPTIONS, decisionCacheTtlMs: 60_000 }, events);
  const allowed = async () => (await decisions.decide(caller, 'secrets-manager.secret.read', resource)).allowed;
  return { clock, iam, events, allowed };
}

describe('DecisionService: the authorization cache follows policy changes', () => {
  it('reuses a decision until a policy event arrives, then asks iam again', async () => {
    const { iam, events, allowed } = setup();
    expect(await allowed()).toBe(true);
    iam.allowed = false;
    expect(await allowed()).toBe(true);
    expect(iam.decisions).toBe(1);
    for (const name of ['iam.policy.deleted', 'iam.policy.updated', 'iam.policy.created'] as const) {
      await events.emit(name, policyEvent);
      expect(await allowed()).toBe(iam.allowed);
      iam.allowed = !iam.allowed;
    }
    expect(iam.decisions).toBe(4);
  });

  it('forgets every decision when the event subscription resumes (policy events may have been missed)', async () => {
    const { iam, events, allowed } = setup();
    expect(await allowed()).toBe(true);
    iam.allowed = false;
    events.resume();
    expect(await allowed()).toBe(false);
  });

  it('without any event, a decision lasts its TTL at most', async () => {
    const { iam, clock, allowed } = setup();
    expect(await allowed()).toBe(true);
    iam.allowed = false;
    clock.advance(60_000);
    expect(await allowed()).toBe(false);
  });
});
