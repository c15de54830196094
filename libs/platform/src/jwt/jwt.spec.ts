import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/index.js';
import { peekJwtHeader, publicKeyFromJwk, signJwt, verifyJwt, type JwtVerifyKey } from './jwt.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = 1_800_000_000;
const at = (seconds: number) => ({ currentDate: new Date(seconds * 1000) });
const claims = { sub: 'x', iat: now, exp: now + 3600 };
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function expectUnauthorized(attempt: () => unknown, reason: string): Promise<void> {
  let failure: unknown;
  try {
    await attempt();
  } catch (error) {
    failure = error;
  }
  expect(failure, `expected the token to be refused (${reason})`).toBeInstanceOf(DomainError);
  expect((failure as DomainError).code).toBe('UNAUTHORIZED');
  expect((failure as DomainError).message).toContain(reason);
}

/** ES256 over any header and claims with any key: what a forger can produce without the issuer's key. */
function es256(header: object, body: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(body)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

describe('ES256 JWT', () => {
  it('round-trips claims and exposes the kid', async () => {
    const token = await signJwt(claims, privateKey, 'k1');
    expect(peekJwtHeader(token)).toEqual({ kid: 'k1' });
    expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'))).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'k1' });
    expect(await verifyJwt(token, publicKey, at(now))).toEqual(claims);
    const jwk = publicKey.export({ format: 'jwk' });
    expect(await verifyJwt(token, await publicKeyFromJwk(jwk), at(now + 10))).toEqual(claims);
  });

  it('verifies a token signed by node:crypto over the same input (the wire format did not change)', async () => {
    const token = es256({ alg: 'ES256', typ: 'JWT', kid: 'k1' }, claims, privateKey);
    expect(await verifyJwt(token, await publicKeyFromJwk(publicKey.export({ format: 'jwk' })), at(now))).toEqual(claims);
  });

  it('takes the time from the caller, with 5 s of leeway by default', async () => {
    const token = await signJwt(claims, privateKey, 'k1');
    expect(await verifyJwt(token, publicKey, at(now + 3600 + 4))).toEqual(claims);
    await expectUnauthorized(() => verifyJwt(token, publicKey, at(now + 3600 + 5)), 'expired');
    await expectUnauthorized(() => verifyJwt(token, publicKey, { ...at(now + 3600), leewaySeconds: 0 }), 'expired');
    expect(await verifyJwt(token, publicKey, at(now - 5))).toEqual(claims);
    await expectUnauthorized(() => verifyJwt(token, publicKey, at(now - 6)), 'future');
  });

  it('refuses expired, future, not-yet-valid and claim-less tokens', async () => {
    await expectUnauthorized(async () => verifyJwt(await signJwt(claims, privateKey, 'k1'), publicKey, at(now + 3600 + 6)), 'expired');
    await expectUnauthorized(async () => verifyJwt(await signJwt(claims, privateKey, 'k1'), publicKey, at(now - 60)), 'future');
    const nbf = await signJwt({ ...claims, nbf: now + 600 }, privateKey, 'k1');
    await expectUnauthorized(() => verifyJwt(nbf, publicKey, at(now)), 'not yet valid');
    expect(await verifyJwt(nbf, publicKey, at(now + 600))).toMatchObject({ nbf: now + 600 });
    await expectUnauthorized(async () => verifyJwt(await signJwt({ sub: 'x' }, privateKey, 'k1'), publicKey, at(now)), 'missing exp');
    await expectUnauthorized(async () => verifyJwt(await signJwt({ sub: 'x', exp: now + 60 }, privateKey, 'k1'), publicKey, at(now)), 'missing exp or iat');
    await expectUnauthorized(async () => verifyJwt(await signJwt({ sub: 'x', iat: now }, privateKey, 'k1'), publicKey, at(now)), 'missing exp or iat');
    await expectUnauthorized(async () => verifyJwt(await signJwt({ ...claims, exp: String(now + 60) }, privateKey, 'k1'), publicKey, at(now)), 'missing exp or iat');
    await expectUnauthorized(async () => verifyJwt(await signJwt({ ...claims, iat: String(now) }, privateKey, 'k1'), publicKey, at(now)), 'missing exp or iat');
  });

  it('refuses a token signed by another key, alg none, HS256 and tampered payloads', async () => {
    await expectUnauthorized(async () => verifyJwt(await signJwt(claims, other.privateKey, 'k1'), publicKey, at(now)), 'bad signature');
    const none = `${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${b64(claims)}.`;
    await expectUnauthorized(() => verifyJwt(none, publicKey, at(now)), 'unsupported algorithm');
    await expectUnauthorized(() => peekJwtHeader(none), 'unsupported algorithm');
    const hs = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}.c2ln`;
    await expectUnauthorized(() => verifyJwt(hs, publicKey, at(now)), 'unsupported algorithm');
    const [header, , signature] = (await signJwt(claims, privateKey, 'k1')).split('.');
    const tampered = `${header}.${b64({ ...claims, sub: 'admin' })}.${signature}`;
    await expectUnauthorized(() => verifyJwt(tampered, publicKey, at(now)), 'bad signature');
    await expectUnauthorized(() => verifyJwt('not-a-jwt', publicKey, at(now)), 'malformed');
    await expectUnauthorized(() => peekJwtHeader('not-a-jwt'), 'malformed');
    await expectUnauthorized(() => peekJwtHeader(`${b64({ alg: 'ES256', typ: 'JWT' })}.${b64(claims)}.sig`), 'no key id');
  });

  it('imports only EC P-256 public keys for verification', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    await expect(publicKeyFromJwk(p384)).rejects.toThrow();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    await expect(publicKeyFromJwk(rsa)).rejects.toThrow();
    // A private JWK yields its public half only: it verifies, and cannot sign.
    const imported = await publicKeyFromJwk(privateKey.export({ format: 'jwk' }));
    expect(imported.type).toBe('public');
    expect(await verifyJwt(await signJwt(claims, privateKey, 'k1'), imported, at(now))).toEqual(claims);
  });
});

/**
 * The forgeries of the e2e attack suite (e2e/iam-token-attacks.e2e.spec.ts), each checked as the
 * gateway checks a token it has not seen: the header first (to pick the key by kid), then the full
 * verification against the key from the JWKS.
 */
describe('ES256 JWT: forged and altered tokens', () => {
  const kid = 'real-kid';
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  const attacker = other.privateKey;
  const genuine = () => signJwt(claims, privateKey, kid);

  async function check(token: string, key: JwtVerifyKey): Promise<Record<string, unknown>> {
    peekJwtHeader(token);
    return verifyJwt(token, key, at(now));
  }

  const forgeries: [string, (genuineToken: string) => string][] = [
    ...['none', 'None', 'NONE'].flatMap((alg): [string, () => string][] => [
      [`alg ${alg} with the kid`, () => `${b64({ alg, typ: 'JWT', kid })}.${b64(claims)}.`],
      [`alg ${alg} without a kid`, () => `${b64({ alg, typ: 'JWT' })}.${b64(claims)}.`],
    ]),
    ['alg none over the genuine signature', (token) => `${b64({ alg: 'none', typ: 'JWT', kid })}.${token.split('.')[1]}.${token.split('.')[2]}`],
    ...(['pem', 'jwk'] as const).map((form): [string, () => string] => [
      `HS256 keyed with the public key (${form})`,
      () => {
        const secret = form === 'pem' ? createPublicKey({ key: publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) : JSON.stringify(publicJwk);
        const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims)}`;
        return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      },
    ]),
    ['another P-256 key under the real kid', () => es256({ alg: 'ES256', typ: 'JWT', kid }, claims, attacker)],
    ['another key embedded as jwk', () => es256({ alg: 'ES256', typ: 'JWT', kid, jwk: createPublicKey(attacker).export({ format: 'jwk' }) }, claims, attacker)],
    ['another key named by jku', () => es256({ alg: 'ES256', typ: 'JWT', kid, jku: 'https://attacker.example/keys' }, claims, attacker)],
    ['another key, no kid', () => es256({ alg: 'ES256', typ: 'JWT' }, claims, attacker)],
    ['tampered identity', (token) => `${token.split('.')[0]}.${b64({ ...claims, sub: `IBMid-${randomUUID()}` })}.${token.split('.')[2]}`],
    ['tampered account', (token) => `${token.split('.')[0]}.${b64({ ...claims, account: { bss: 'other' } })}.${token.split('.')[2]}`],
    ['tampered lifetime', (token) => `${token.split('.')[0]}.${b64({ ...claims, exp: now + 10 * 365 * 86_400 })}.${token.split('.')[2]}`],
    ['tampered header (kid)', (token) => `${b64({ alg: 'ES256', typ: 'JWT', kid: 'other' })}.${token.split('.')[1]}.${token.split('.')[2]}`],
    ['truncated signature', (token) => `${token.split('.').slice(0, 2).join('.')}.${(token.split('.')[2] ?? '').slice(0, 40)}`],
    ['no signature', (token) => `${token.split('.').slice(0, 2).join('.')}.`],
    ['RS256 header over the genuine signature', (token) => `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${token.split('.')[1]}.${token.split('.')[2]}`],
    ['ES384 header over the genuine signature', (token) => `${b64({ alg: 'ES384', typ: 'JWT', kid })}.${token.split('.')[1]}.${token.split('.')[2]}`],
    ['a DER-encoded signature', (token) => {
      const input = token.split('.').slice(0, 2).join('.');
      return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    }],
    ['an unencoded payload (b64 false)', () => es256({ alg: 'ES256', typ: 'JWT', kid, b64: false, crit: ['b64'] }, claims, privateKey)],
    ['an unknown critical header', () => es256({ alg: 'ES256', typ: 'JWT', kid, crit: ['x-sealbox'], 'x-sealbox': 1 }, claims, privateKey)],
    ['claims that are an array', () => `${b64({ alg: 'ES256', typ: 'JWT', kid })}.${b64([claims])}.${es256({}, {}, privateKey).split('.')[2]}`],
    ['a signed array instead of claims', () => {
      const input = `${b64({ alg: 'ES256', typ: 'JWT', kid })}.${b64([claims])}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    }],
    ['two parts', (token) => token.split('.').slice(0, 2).join('.')],
    ['four parts', (token) => `${token}.${token.split('.')[2]}`],
    ['a header that is not JSON', (token) => `${b64('{alg:ES256')}.${token.split('.')[1]}.${token.split('.')[2]}`],
    ['padding in the signature', (token) => `${token}==`],
    ['whitespace in the payload', (token) => `${token.split('.')[0]}. ${token.split('.')[1]}.${token.split('.')[2]}`],
  ];

  it('has the attack suite\'s variants and more', () => {
    expect(forgeries.length).toBeGreaterThanOrEqual(30);
  });

  it.each(forgeries)('refuses %s with UNAUTHORIZED', async (_name, forge) => {
    const token = await genuine();
    const key = await publicKeyFromJwk(publicJwk);
    expect(await check(token, key)).toEqual(claims);
    await expectUnauthorized(() => check(forge(token), key), 'The access token is not valid');
  });
});
