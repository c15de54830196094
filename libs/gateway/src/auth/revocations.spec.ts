import { ManualClock } from '@sealbox/platform';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_OPTIONS } from '../options.js';
import { RevocationList } from './revocations.js';
import { codeOf, FakeEvents, FakeIam } from './testing/fake-iam.js';

const HOUR_MS = 3_600_000;
const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const token = (iamId: string, apikeyId?: string, chainId?: string) => ({ iamId, apikeyId, chainId });

function setup(events: FakeEvents | null = new FakeEvents()) {
  const clock = new ManualClock();
  const iam = new FakeIam(publicKey);
  const list = new RevocationList(iam.rpc, clock, { ...DEFAULT_GATEWAY_OPTIONS, revocationReconcileMs: 0 }, events);
  const expiresIn = (ms: number) => new Date(clock.nowMs() + ms).toISOString();
  return { clock, iam, list, events, expiresIn };
}

describe('RevocationList', () => {
  it('applies a revocation event at once, for each kind against its own claim', async () => {
    const { list, events, expiresIn } = setup();
    await list.ready();
    expect(list.isRevoked(token('iam-ServiceId-1', 'ApiKey-1', 'chain-1'))).toBe(false);

    await events?.emit('iam.tokens.revoked', { accountId: 'a', kind: 'apikey', id: 'ApiKey-1', reason: 'apikey-deleted', expiresAt: expiresIn(HOUR_MS) });
    expect(list.isRevoked(token('iam-ServiceId-1', 'ApiKey-1', 'chain-1'))).toBe(true);
    expect(list.isRevoked(token('iam-ServiceId-1', 'ApiKey-2', 'chain-2'))).toBe(false);

    await events?.emit('iam.tokens.revoked', { accountId: 'a', kind: 'identity', id: 'iam-ServiceId-1', reason: 'serviceid-deleted', expiresAt: expiresIn(HOUR_MS) });
    await events?.emit('iam.tokens.revoked', { accountId: 'a', kind: 'chain', id: 'chain-9', reason: 'refresh-token-replayed', expiresAt: expiresIn(HOUR_MS) });
    expect(list.isRevoked(token('iam-ServiceId-1'))).toBe(true);
    expect(list.isRevoked(token('IBMid-2', 'ApiKey-3', 'chain-9'))).toBe(true);
    // An id is compared only with the claim of its kind.
    expect(list.isRevoked(token('chain-9', 'iam-ServiceId-1', 'ApiKey-1'))).toBe(false);
    expect(list.size).toBe(3);
  });

  it('ignores an event that is not a revocation or that has already expired', async () => {
    const { list, events, expiresIn } = setup();
    await events?.emit('iam.tokens.revoked', { kind: 'apikey', id: 'ApiKey-1' });
    await events?.emit('iam.tokens.revoked', { accountId: 'a', kind: 'apikey', id: 'ApiKey-2', reason: 'apikey-deleted', expiresAt: expiresIn(0) });
    expect(list.size).toBe(0);
  });

  it('loads what iam lists before the first answer, page after page', async () => {
    const { list, iam, expiresIn } = setup();
    iam.pageSize = 2;
    for (const id of ['k1', 'k2', 'k3', 'k4', 'k5']) iam.revocations.push({ kind: 'apikey', id, expires_at: expiresIn(HOUR_MS) });
    await list.ready();
    expect(iam.listCalls).toBe(3);
    expect(list.isRevoked(token('IBMid-1', 'k5'))).toBe(true);
    // Loaded once: later requests do not ask again.
    await list.ready();
    expect(iam.listCalls).toBe(3);
  });

  it('answers 503 SERVICE_UNAVAILABLE until iam can answer, asking again at most once a second', async () => {
    const { list, iam, clock } = setup();
    iam.available = false;
    expect(await codeOf(list.ready())).toBe('SERVICE_UNAVAILABLE');
    iam.available = true;
    expect(await codeOf(list.ready())).toBe('SERVICE_UNAVAILABLE');
    expect(iam.listCalls).toBe(0);
    clock.advance(1000);
    expect(await codeOf(list.ready())).toBe('ok');
    expect(iam.listCalls).toBe(1);
  });

  it('catches a lost event when the event subscription resumes (a reconnect)', async () => {
    const { list, iam, events, expiresIn } = setup();
    await list.ready();
    iam.revocations.push({ kind: 'identity', id: 'IBMid-gone', expires_at: expiresIn(HOUR_MS) });
    expect(list.isRevoked(token('IBMid-gone'))).toBe(false);
    events?.resume();
    await list.reconcile(); // the one started by the resume
    expect(list.isRevoked(token('IBMid-gone'))).toBe(true);
  });

  it('keeps what it learned from events when iam lists less (revocations are never undone)', async () => {
    const { list, events, expiresIn } = setup();
    await list.ready();
    await events?.emit('iam.tokens.revoked', { accountId: 'a', kind: 'chain', id: 'c1', reason: 'refresh-token-replayed', expiresAt: expiresIn(HOUR_MS) });
    await list.reconcile();
    expect(list.isRevoked(token('IBMid-1', 'k', 'c1'))).toBe(true);
  });

  it('drops entries once expired, so the set holds one token lifetime of revocations', async () => {
    const { list, iam, clock, expiresIn } = setup();
    iam.revocations.push({ kind: 'apikey', id: 'old', expires_at: expiresIn(HOUR_MS) }, { kind: 'apikey', id: 'new', expires_at: expiresIn(2 * HOUR_MS) });
    await list.ready();
    expect(list.size).toBe(2);
    clock.advance(HOUR_MS);
    await list.reconcile();
    expect(list.size).toBe(1);
    expect(list.isRevoked(token('IBMid-1', 'new'))).toBe(true);
  });

  it('without an event subscriber (no transport) still loads and reconciles from iam', async () => {
    const { list, iam, expiresIn } = setup(null);
    iam.revocations.push({ kind: 'apikey', id: 'k', expires_at: expiresIn(HOUR_MS) });
    await list.ready();
    expect(list.isRevoked(token('IBMid-1', 'k'))).toBe(true);
  });
});
