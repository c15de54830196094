import { createPublicKey, sign as signData, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';
import { DomainError } from '../errors/index.js';

/**
 * Compact JWS with ES256 only (ECDSA P-256 + SHA-256, raw r||s signatures), on node:crypto.
 * Verification accepts nothing else: `alg: none`, HS256 and every other algorithm are refused.
 */
export const JWT_ALG = 'ES256';

export interface JwtHeader {
  readonly alg: typeof JWT_ALG;
  readonly typ: 'JWT';
  readonly kid: string;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signJwt(claims: object, privateKey: KeyObject, kid: string): string {
  const header: JwtHeader = { alg: JWT_ALG, typ: 'JWT', kid };
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = signData('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** A public key from its JWK, for verification. */
export function publicKeyFromJwk(jwk: JsonWebKey): KeyObject {
  return createPublicKey({ key: jwk, format: 'jwk' });
}

export interface VerifyOptions {
  /** Seconds since the epoch. */
  readonly now: number;
  /** Tolerated clock difference between issuer and verifier, in seconds. */
  readonly leewaySeconds?: number;
}

const invalid = (reason: string) => new DomainError('UNAUTHORIZED', `The access token is not valid: ${reason}`);

function decodeJson(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw invalid('malformed');
  }
}

/** Header of a token, before its signature is checked (to pick the key). */
export function peekJwtHeader(token: string): { kid: string } {
  const [headerPart] = token.split('.');
  const header = decodeJson(headerPart ?? '');
  if (header['alg'] !== JWT_ALG) throw invalid('unsupported algorithm');
  if (typeof header['kid'] !== 'string' || !header['kid']) throw invalid('no key id');
  return { kid: header['kid'] };
}

/**
 * Verify signature, algorithm and time claims; returns the claims. `exp` and `iat` are required;
 * a token issued in the future (beyond the leeway) or expired is refused, as is one with `nbf` ahead.
 */
export function verifyJwt(token: string, key: KeyObject, options: VerifyOptions): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) throw invalid('malformed');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header['alg'] !== JWT_ALG) throw invalid('unsupported algorithm');
  const signature = Buffer.from(signaturePart, 'base64url');
  if (signature.length !== 64) throw invalid('bad signature');
  const ok = verifySignature('sha256', Buffer.from(`${headerPart}.${payloadPart}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
  if (!ok) throw invalid('bad signature');
  const claims = decodeJson(payloadPart);
  const leeway = options.leewaySeconds ?? 5;
  const { exp, iat, nbf } = claims;
  if (typeof exp !== 'number' || typeof iat !== 'number') throw invalid('missing exp or iat');
  if (exp <= options.now - leeway) throw invalid('expired');
  if (iat > options.now + leeway) throw invalid('issued in the future');
  if (typeof nbf === 'number' && nbf > options.now + leeway) throw invalid('not yet valid');
  return claims;
}
