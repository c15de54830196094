import type { CloudEvent, IamWire, RequestOf } from '@sealbox/contracts';
import { DomainError, InProcessEventBus, ManualClock } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { AUTHORIZATION_CACHE_TTL_MS, ServiceAuthorizations, type AuthorizationChecks } from './service-authorizations.js';

/** A typed fake of the one iam subject used: answers `iam.authorization.check` from a switch (after `gate`, when set). */
class FakeIam implements AuthorizationChecks {
  allowed = false;
  calls: RequestOf<'iam.authorization.check'>[] = [];
  gate: Promise<void> | undefined;
  async send(subject: 'iam.authorization.check', request: RequestOf<'iam.authorization.check'>): Promise<IamWire.Decision> {
    expect(subject).toBe('iam.authorization.check');
    this.calls.push(request);
    const allowed = this.allowed;
    if (this.gate) await this.gate;
    return allowed ? { allowed: true, policyId: 'p1' } : { allowed: false, reason: 'none' };
  }
}

const source = { accountId: 'a1', serviceName: 'secrets-manager', serviceInstance: 'sm-1' };
const target = { accountId: 'a1', serviceName: 'kms', serviceInstance: 'kp-1', resourceType: 'key', resource: 'k1' };

function setup() {
  const iam = new FakeIam();
  const clock = new ManualClock();
  const events = new InProcessEventBus();
  const authorizations = new ServiceAuthorizations(iam, clock, events);
  return { iam, clock, events, authorizations };
}

/** The event iam publishes when an authorization policy is deleted. */
function policyDeleted(id: string): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/sealbox/iam',
    type: 'com.sealbox.iam.policy.deleted',
    time: new Date(0).toISOString(),
    datacontenttype: 'application/json',
    data: { accountId: 'a1', policyId: 'p1', type: 'authorization' },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'allowed';
  } catch (error) {
    return error instanceof DomainError ? error.code : 'unexpected';
  }
}

describe('ServiceAuthorizations', () => {
  it('asks iam for role Reader and refuses with FORBIDDEN naming the missing authorization', async () => {
    const { iam, authorizations } = setup();
    await expect(authorizations.require(source, target)).rejects.toThrow(/No authorization lets secrets-manager instance sm-1 use key k1/);
    expect(await codeOf(authorizations.require(source, target))).toBe('FORBIDDEN');
    expect(iam.calls[0]).toEqual({ source, target, role: 'Reader' });
  });

  it('reuses a decision for at most AUTHORIZATION_CACHE_TTL_MS (under 1 s), so a revocation is refused within it without any event', async () => {
    expect(AUTHORIZATION_CACHE_TTL_MS).toBeLessThan(1000);
    const { iam, clock, authorizations } = setup();
    iam.allowed = true;
    await authorizations.require(source, target);
    await authorizations.require(source, target);
    expect(iam.calls).toHaveLength(1);
    iam.allowed = false;
    clock.advance(AUTHORIZATION_CACHE_TTL_MS - 1);
    expect(await codeOf(authorizations.require(source, target))).toBe('allowed');
    clock.advance(1);
    expect(await codeOf(authorizations.require(source, target))).toBe('FORBIDDEN');
    expect(iam.calls).toHaveLength(2);
  });

  it('drops cached decisions at once when a policy event arrives', async () => {
    const { iam, events, authorizations } = setup();
    iam.allowed = true;
    await authorizations.require(source, target);
    iam.allowed = false;
    await events.publish('events.iam.policy.deleted', policyDeleted('e1'));
    await expect.poll(() => codeOf(authorizations.require(source, target))).toBe('FORBIDDEN');
  });

  it('asks iam once for concurrent checks of the same pair', async () => {
    const { iam, authorizations } = setup();
    iam.allowed = true;
    await Promise.all(Array.from({ length: 20 }, () => authorizations.require(source, target)));
    expect(iam.calls).toHaveLength(1);
    await authorizations.require(source, { ...target, resource: 'k2' });
    expect(iam.calls).toHaveLength(2);
  });

  it('does not keep a decision iam gave before a policy event that arrived while it travelled', async () => {
    const { iam, events, authorizations } = setup();
    iam.allowed = true;
    let release: () => void = () => undefined;
    iam.gate = new Promise<void>((resolve) => (release = resolve));
    const inFlight = authorizations.require(source, target);
    await expect.poll(() => iam.calls.length).toBe(1);
    iam.allowed = false;
    await events.publish('events.iam.policy.deleted', policyDeleted('e2'));
    // The bus delivers on the next turn of the event loop.
    await new Promise<void>((resolve) => setImmediate(resolve));
    // A check after the event does not join the one in flight before it.
    const after = codeOf(authorizations.require(source, target));
    release();
    iam.gate = undefined;
    await inFlight;
    expect(await after).toBe('FORBIDDEN');
    expect(await codeOf(authorizations.require(source, target))).toBe('FORBIDDEN');
  });
});
