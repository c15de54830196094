import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminAccessToken, bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { errorBody, request } from './harness/http.js';
import { decodeJwt } from './harness/iam.js';

/**
 * Forged and altered access tokens against protected routes, over raw HTTP: each is 401
 * UNAUTHORIZED, and a genuine token keeps working afterwards. An expired or not-yet-valid token
 * cannot be forged here (that needs the signing key), so those are left to the unit tests of the
 * verifier, which move an injected clock.
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const deadlineMs = stack.rpcTimeoutMs + 2_000;

/** One route the gateway decides on an action, one it leaves to iam after authentication. */
const PROTECTED = ['/v2/roles', '/v1/apikeys'] as const;

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function es256(header: object, claims: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

describe('forged and altered access tokens (raw HTTP)', () => {
  let genuine = '';
  let kid = '';
  let publicJwk: JsonWebKey = {};

  beforeAll(async () => {
    genuine = await adminAccessToken(stack);
    kid = String(decodeJwt(genuine).header['kid']);
    const jwks = await request<{ keys: (JsonWebKey & { kid: string })[] }>(`${gateway}/identity/keys`, { deadlineMs });
    const key = jwks.body.keys.find((candidate) => candidate.kid === kid);
    if (!key) throw new Error(`the JWKS does not hold the key ${kid} of a fresh token`);
    publicJwk = key;
  });

  const get = (path: string, token: string) => request(`${gateway}${path}`, { headers: bearer(token), deadlineMs });

  async function expectRefused(token: string): Promise<void> {
    for (const path of PROTECTED) {
      const response = await get(path, token);
      expect(response.status, path).toBe(401);
      expect(errorBody(response).errors[0]?.code, path).toBe('UNAUTHORIZED');
    }
  }

  const attacker = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const claims = () => decodeJwt(genuine).claims;

  it('accepts the genuine token (the control)', async () => {
    for (const path of PROTECTED) expect((await get(path, genuine)).status, path).toBe(200);
  });

  it('refuses alg "none" (empty signature, with and without the real kid, any spelling)', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      await expectRefused(`${b64({ alg, typ: 'JWT', kid })}.${b64(claims())}.`);
      await expectRefused(`${b64({ alg, typ: 'JWT' })}.${b64(claims())}.`);
    }
    // The genuine signature kept, the header switched to none.
    const [, payload, signature] = genuine.split('.');
    await expectRefused(`${b64({ alg: 'none', typ: 'JWT', kid })}.${payload}.${signature}`);
  });

  it('refuses HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const pem = createPublicKey({ key: publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    for (const secret of [pem, JSON.stringify(publicJwk)]) {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims())}`;
      await expectRefused(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`);
    }
  });

  it('refuses a token signed by another P-256 key under the real kid, and with that key embedded (jwk / jku)', async () => {
    const key = attacker();
    await expectRefused(es256({ alg: 'ES256', typ: 'JWT', kid }, claims(), key));
    const embedded = createPublicKey(key).export({ format: 'jwk' });
    await expectRefused(es256({ alg: 'ES256', typ: 'JWT', kid, jwk: embedded }, claims(), key));
    await expectRefused(es256({ alg: 'ES256', typ: 'JWT', kid, jku: `${gateway}/identity/keys` }, claims(), key));
  });

  it('refuses an unknown kid (after refetching the JWKS), and no kid at all', async () => {
    const key = attacker();
    await expectRefused(es256({ alg: 'ES256', typ: 'JWT', kid: `unknown-${randomUUID()}` }, claims(), key));
    await expectRefused(es256({ alg: 'ES256', typ: 'JWT' }, claims(), key));
    // The genuine token still verifies: the refetch did not drop the real key.
    for (const path of PROTECTED) expect((await get(path, genuine)).status, path).toBe(200);
  });

  it('refuses the genuine signature over a tampered payload (identity, account, lifetime)', async () => {
    const [header, , signature] = genuine.split('.');
    const original = claims();
    const tampered = [
      { ...original, iam_id: `IBMid-${randomUUID()}`, id: `IBMid-${randomUUID()}` },
      { ...original, account: { bss: randomUUID().replaceAll('-', '') } },
      { ...original, exp: original.exp + 10 * 365 * 86_400 },
      { ...original, sub_type: 'ServiceId' },
    ];
    for (const payload of tampered) await expectRefused(`${header}.${b64(payload)}.${signature}`);
  });

  it('refuses the genuine token with a truncated signature, or under an RS256 header', async () => {
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    await expectRefused(`${header}.${payload}.${signature.slice(0, 40)}`);
    await expectRefused(`${b64({ alg: 'RS256', typ: 'JWT', kid })}.${payload}.${signature}`);
  });
});
