import { CompactSign, decodeProtectedHeader, errors, importJWK, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type { KeyObject } from 'node:crypto';
import { DomainError } from '../errors/index.js';

/**
 * Compact JWS with ES256 only (ECDSA P-256 + SHA-256, raw r||s signatures), on `jose` (WebCrypto).
 * Verification accepts nothing else: `alg: none`, HS256 and every other algorithm are refused.
 */
export const JWT_ALG = 'ES256';

export interface JwtHeader {
  readonly alg: typeof JWT_ALG;
  readonly typ: 'JWT';
  readonly kid: string;
}

/** A key that verifies tokens: what `publicKeyFromJwk` returns (a node:crypto public key works too). */
export type JwtVerifyKey = CryptoKey | KeyObject;

/**
 * Sign `claims` as a compact JWS under `kid`. jose turns a node:crypto private key into a WebCrypto
 * key once and keeps it for the KeyObject's lifetime, so a signer pays the import once.
 */
export async function signJwt(claims: object, privateKey: KeyObject | CryptoKey, kid: string): Promise<string> {
  const header: JwtHeader = { alg: JWT_ALG, typ: 'JWT', kid };
  return new CompactSign(Buffer.from(JSON.stringify(claims))).setProtectedHeader({ ...header }).sign(privateKey);
}

/**
 * A public key from its JWK, for verification. Only the EC P-256 public members are imported (a
 * private `d`, `key_ops` or another `alg` in the JWK change nothing), as an ES256 verification key;
 * any other kind of key is refused.
 */
export async function publicKeyFromJwk(jwk: { readonly [member: string]: unknown }): Promise<CryptoKey> {
  const { kty, crv, x, y } = jwk;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') {
    throw new Error('A token verification key must be an EC P-256 public key');
  }
  return (await importJWK({ kty, crv, x, y }, JWT_ALG)) as CryptoKey;
}

export interface VerifyOptions {
  /** The verifier's time, from its injected clock. */
  readonly currentDate: Date;
  /** Tolerated clock difference between issuer and verifier, in seconds. */
  readonly leewaySeconds?: number;
}

/** Three base64url parts without padding: jose's decoder also takes `=` and so more than one spelling of a token. */
const COMPACT_JWS = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

const invalid = (reason: string) => new DomainError('UNAUTHORIZED', `The access token is not valid: ${reason}`);

/** Header of a token, before its signature is checked (to pick the key). */
export function peekJwtHeader(token: string): { kid: string } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalid('malformed');
  }
  if (header.alg !== JWT_ALG) throw invalid('unsupported algorithm');
  if (typeof header.kid !== 'string' || !header.kid) throw invalid('no key id');
  return { kid: header.kid };
}

/** jose's refusal as the reason the caller sees; anything not from jose is not a token problem and goes on. */
function refusal(error: unknown): unknown {
  if (error instanceof errors.JWTExpired) return invalid('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === 'nbf' ? invalid('not yet valid') : error.claim === 'exp' || error.claim === 'iat' ? invalid('missing exp or iat') : invalid('malformed');
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return invalid('unsupported algorithm');
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('bad signature');
  if (error instanceof errors.JOSEError) return invalid('malformed');
  return error;
}

/**
 * Verify signature, algorithm and time claims; returns the claims. `exp` and `iat` are required;
 * a token issued in the future (beyond the leeway) or expired is refused, as is one with `nbf` ahead.
 */
export async function verifyJwt(token: string, key: JwtVerifyKey, options: VerifyOptions): Promise<Record<string, unknown>> {
  if (!COMPACT_JWS.test(token)) throw invalid('malformed');
  const leeway = options.leewaySeconds ?? 5;
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, key, {
      algorithms: [JWT_ALG],
      currentDate: options.currentDate,
      clockTolerance: leeway,
      requiredClaims: ['exp', 'iat'],
    }));
  } catch (error) {
    throw refusal(error);
  }
  // jose checks `iat` only against a maximum age; a token from the future is refused here.
  if (typeof claims.iat !== 'number') throw invalid('missing exp or iat');
  if (claims.iat > Math.floor(options.currentDate.getTime() / 1000) + leeway) throw invalid('issued in the future');
  return claims;
}
