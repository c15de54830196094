import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/index.js';
import { peekJwtHeader, publicKeyFromJwk, signJwt, verifyJwt } from './jwt.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = 1_800_000_000;
const claims = { sub: 'x', iat: now, exp: now + 3600 };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectUnauthorized(fn: () => unknown, reason: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('UNAUTHORIZED');
    expect((error as DomainError).message).toContain(reason);
    return;
  }
  throw new Error('expected the token to be refused');
}

describe('ES256 JWT', () => {
  it('round-trips claims and exposes the kid', () => {
    const token = signJwt(claims, privateKey, 'k1');
    expect(peekJwtHeader(token)).toEqual({ kid: 'k1' });
    expect(verifyJwt(token, publicKey, { now })).toEqual(claims);
    const jwk = publicKey.export({ format: 'jwk' });
    expect(verifyJwt(token, publicKeyFromJwk(jwk), { now: now + 10 })).toEqual(claims);
  });

  it('refuses expired, future, not-yet-valid and claim-less tokens', () => {
    expectUnauthorized(() => verifyJwt(signJwt(claims, privateKey, 'k1'), publicKey, { now: now + 3600 + 6 }), 'expired');
    expectUnauthorized(() => verifyJwt(signJwt(claims, privateKey, 'k1'), publicKey, { now: now - 60 }), 'future');
    const nbf = signJwt({ ...claims, nbf: now + 600 }, privateKey, 'k1');
    expectUnauthorized(() => verifyJwt(nbf, publicKey, { now }), 'not yet valid');
    expectUnauthorized(() => verifyJwt(signJwt({ sub: 'x' }, privateKey, 'k1'), publicKey, { now }), 'missing exp');
  });

  it('refuses a token signed by another key, alg none, HS256 and tampered payloads', () => {
    expectUnauthorized(() => verifyJwt(signJwt(claims, other.privateKey, 'k1'), publicKey, { now }), 'bad signature');
    const none = `${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${b64(claims)}.`;
    expectUnauthorized(() => verifyJwt(none, publicKey, { now }), 'unsupported algorithm');
    expectUnauthorized(() => peekJwtHeader(none), 'unsupported algorithm');
    const hs = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}.c2ln`;
    expectUnauthorized(() => verifyJwt(hs, publicKey, { now }), 'unsupported algorithm');
    const [header, , signature] = signJwt(claims, privateKey, 'k1').split('.');
    const tampered = `${header}.${b64({ ...claims, sub: 'admin' })}.${signature}`;
    expectUnauthorized(() => verifyJwt(tampered, publicKey, { now }), 'bad signature');
    expectUnauthorized(() => verifyJwt('not-a-jwt', publicKey, { now }), 'malformed');
  });
});
