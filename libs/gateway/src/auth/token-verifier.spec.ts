import { DomainError, ManualClock, signJwt, type RpcClient } from '@sealbox/platform';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from './token-verifier.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A typed fake of the one subject the verifier asks: iam.jwks.get. */
class FakeJwks {
  published = true;
  fetches = 0;
  async send(subject: 'iam.jwks.get'): Promise<{ keys: Record<string, unknown>[] }> {
    expect(subject).toBe('iam.jwks.get');
    this.fetches++;
    return { keys: this.published ? [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }] : [] };
  }
}

function token(clock: ManualClock, ttlSeconds = 3600): string {
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
    },
    privateKey,
    'k1',
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof DomainError ? error.code : 'unexpected';
  }
}

describe('TokenVerifier', () => {
  it('remembers a verified token but never past its expiry', async () => {
    const clock = new ManualClock();
    const jwks = new FakeJwks();
    const verifier = new TokenVerifier(jwks as unknown as RpcClient, clock);
    const bearer = `Bearer ${token(clock, 120)}`;
    expect((await verifier.verify(bearer)).iamId).toBe('IBMid-1');
    expect((await verifier.verify(bearer)).accountId).toBe('acc');
    clock.advance(126_000); // past exp and the 5 s leeway
    expect(await codeOf(verifier.verify(bearer))).toBe('UNAUTHORIZED');
  });

  it('stops accepting a remembered token once its signing key is no longer published', async () => {
    const clock = new ManualClock();
    const jwks = new FakeJwks();
    const verifier = new TokenVerifier(jwks as unknown as RpcClient, clock);
    const bearer = `Bearer ${token(clock)}`;
    expect(await codeOf(verifier.verify(bearer))).toBe('ok');
    jwks.published = false;
    clock.advance(61_000); // past the JWKS refresh interval
    expect(await codeOf(verifier.verify(bearer))).toBe('UNAUTHORIZED');
  });

  it('refuses a missing or non-Bearer Authorization header with 401', async () => {
    const verifier = new TokenVerifier(new FakeJwks() as unknown as RpcClient, new ManualClock());
    expect(await codeOf(verifier.verify(undefined))).toBe('UNAUTHORIZED');
    expect(await codeOf(verifier.verify('Basic abc'))).toBe('UNAUTHORIZED');
  });
});
