import type { IamWire } from '@sealbox/contracts';
import { ManualClock, signJwt } from '@sealbox/platform';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_OPTIONS } from '../options.js';
import { RevocationList } from './revocations.js';
import { codeOf, FakeEvents, FakeIam } from './testing/fake-iam.js';
import { TokenVerifier } from './token-verifier.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function verifierOf(clock: ManualClock, events = new FakeEvents()) {
  const iam = new FakeIam(publicKey);
  const revocations = new RevocationList(iam.rpc, clock, { ...DEFAULT_GATEWAY_OPTIONS, revocationReconcileMs: 0 }, events);
  return { iam, events, verifier: new TokenVerifier(iam.rpc, clock, revocations) };
}

function token(clock: ManualClock, ttlSeconds = 3600, claims: Partial<IamWire.AccessTokenClaims> = {}): Promise<string> {
  const iat = Math.floor(clock.nowMs() / 1000);
  return signJwt(
    {
      iss: 'sealbox',
      sub: 'admin',
      sub_type: 'user',
      iam_id: 'IBMid-1',
      id: 'IBMid-1',
      account: { bss: 'acc' },
      grant_type: 'urn:ibm:params:oauth:grant-type:apikey',
      scope: 'ibm openid',
      jti: randomUUID(),
      iat,
      exp: iat + ttlSeconds,
      apikey_id: 'ApiKey-1',
      chain_id: 'chain-1',
      ...claims,
    },
    privateKey,
    'k1',
  );
}

describe('TokenVerifier', () => {
  it('remembers a verified token but never past its expiry', async () => {
    const clock = new ManualClock();
    const { verifier } = verifierOf(clock);
    const bearer = `Bearer ${await token(clock, 120)}`;
    expect((await verifier.verify(bearer)).iamId).toBe('IBMid-1');
    expect((await verifier.verify(bearer)).accountId).toBe('acc');
    clock.advance(126_000); // past exp and the 5 s leeway
    expect(await codeOf(verifier.verify(bearer))).toBe('UNAUTHORIZED');
  });

  it('stops accepting a remembered token once its signing key is no longer published', async () => {
    const clock = new ManualClock();
    const { verifier, iam } = verifierOf(clock);
    const bearer = `Bearer ${await token(clock)}`;
    expect(await codeOf(verifier.verify(bearer))).toBe('ok');
    iam.published = false;
    clock.advance(61_000); // past the JWKS refresh interval
    expect(await codeOf(verifier.verify(bearer))).toBe('UNAUTHORIZED');
  });

  it('refuses a missing or non-Bearer Authorization header with 401', async () => {
    const { verifier } = verifierOf(new ManualClock());
    expect(await codeOf(verifier.verify(undefined))).toBe('UNAUTHORIZED');
    expect(await codeOf(verifier.verify('Basic abc'))).toBe('UNAUTHORIZED');
  });

  describe('revocations, checked after the verified-token cache', () => {
    const revoked = (clock: ManualClock, kind: IamWire.RevocationKind, id: string) => ({
      accountId: 'acc',
      kind,
      id,
      reason: 'apikey-deleted',
      expiresAt: new Date(clock.nowMs() + 3_600_000).toISOString(),
    });

    it.each([
      ['its API key was deleted', 'apikey', 'ApiKey-1'],
      ['its identity was removed', 'identity', 'IBMid-1'],
      ['its refresh chain was replayed', 'chain', 'chain-1'],
    ] as const)('refuses a remembered token with 401 once %s', async (_name, kind, id) => {
      const clock = new ManualClock();
      const { verifier, events, iam } = verifierOf(clock);
      const bearer = `Bearer ${await token(clock)}`;
      const other = `Bearer ${await token(clock, 3600, { apikey_id: 'ApiKey-2', chain_id: 'chain-2', iam_id: 'IBMid-2' })}`;
      expect(await codeOf(verifier.verify(bearer))).toBe('ok');
      const fetches = iam.jwksFetches;
      await events.emit('iam.tokens.revoked', revoked(clock, kind, id));
      expect(await codeOf(verifier.verify(bearer))).toBe('UNAUTHORIZED');
      expect(await codeOf(verifier.verify(other))).toBe('ok');
      // The check is local: no call to iam for it.
      expect(iam.jwksFetches).toBe(fetches);
    });

    it('refuses a token that was revoked before this gateway first saw it (listed by iam)', async () => {
      const clock = new ManualClock();
      const { verifier, iam } = verifierOf(clock);
      iam.revocations.push({ kind: 'apikey', id: 'ApiKey-1', expires_at: new Date(clock.nowMs() + 3_600_000).toISOString() });
      expect(await codeOf(verifier.verify(`Bearer ${await token(clock)}`))).toBe('UNAUTHORIZED');
    });

    it('checks the identity of a token issued without the private claims', async () => {
      const clock = new ManualClock();
      const { verifier, events } = verifierOf(clock);
      const bearer = `Bearer ${await token(clock, 3600, { apikey_id: undefined, chain_id: undefined })}`;
      expect(await codeOf(verifier.verify(bearer))).toBe('ok');
      await events.emit('iam.tokens.revoked', revoked(clock, 'identity', 'IBMid-1'));
      expect(await codeOf(verifier.verify(bearer))).toBe('UNAUTHORIZED');
    });

    it('answers 503 while the revocations cannot be loaded from iam', async () => {
      const clock = new ManualClock();
      const { verifier, iam } = verifierOf(clock);
      iam.available = false;
      expect(await codeOf(verifier.verify(`Bearer ${await token(clock)}`))).toBe('SERVICE_UNAVAILABLE');
    });
  });
});
