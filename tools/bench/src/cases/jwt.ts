/**
 * The access token's ES256 compact JWS as iam signs it and the gateway checks it, against raw
 * node:crypto ECDSA P-256 over the same signing input. The gateway remembers a verified token until it
 * expires, so `jwt.verify` is what a request with a token the gateway has not seen yet pays (the first
 * request after an exchange or a refresh); `http.gateway.authorized` measures the remembered path.
 */
import { peekJwtHeader, publicKeyFromJwk, signJwt, verifyJwt } from '@sealbox/platform';
import { generateKeyPairSync, randomUUID, sign as signData, verify as verifySignature } from 'node:crypto';
import type { BenchCase, Measurement } from '../bench.js';
import type { BenchSettings } from '../config.js';
import { warmThenMeasure } from '../loop.js';

const NOW = new Date();
const NOW_S = Math.floor(NOW.getTime() / 1000);

/** Claims the size and shape of an iam access token (`IamWire.AccessTokenClaims`). */
const claims = {
  iss: 'https://iam.sealbox.local/identity',
  sub: 'admin@example.com',
  sub_type: 'user',
  iam_id: `IBMid-${randomUUID()}`,
  id: `IBMid-${randomUUID()}`,
  account: { bss: randomUUID().replaceAll('-', '') },
  grant_type: 'urn:ibm:params:oauth:grant-type:apikey',
  scope: 'ibm openid',
  jti: randomUUID(),
  iat: NOW_S,
  exp: NOW_S + 3600,
  apikey_id: `ApiKey-${randomUUID()}`,
  chain_id: randomUUID(),
};

const KID = 'bench-kid';

async function measureJwt(settings: BenchSettings, mode: 'sign' | 'verify'): Promise<Measurement> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // The gateway's key comes from the JWKS, as in production.
  const verifyKey = await publicKeyFromJwk(publicKey.export({ format: 'jwk' }));
  const token = await signJwt(claims, privateKey, KID);
  const checked = await verifyJwt(token, verifyKey, { currentDate: NOW });
  if (checked['jti'] !== claims.jti) throw new Error('the token did not verify to its claims');
  const operation =
    mode === 'sign'
      ? async (): Promise<void> => {
          await signJwt(claims, privateKey, KID);
        }
      : async (): Promise<void> => {
          // As the gateway does on a token it has not seen: the header for the kid, then the full check.
          peekJwtHeader(token);
          await verifyJwt(token, verifyKey, { currentDate: NOW });
        };
  const result = await warmThenMeasure(operation, { ...settings, concurrency: 1 });
  return { unit: 'ops/s', ...result };
}

/** node:crypto ECDSA P-256 / SHA-256 (raw r||s) over the same signing input: no JSON, no base64url, no claim checks. */
async function measureRaw(settings: BenchSettings, mode: 'sign' | 'verify'): Promise<Measurement> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = Buffer.from(`${encode({ alg: 'ES256', typ: 'JWT', kid: KID })}.${encode(claims)}`);
  const signature = signData('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  if (!verifySignature('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('ECDSA did not verify');
  const operation =
    mode === 'sign'
      ? async (): Promise<void> => {
          signData('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        }
      : async (): Promise<void> => {
          if (!verifySignature('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('bad signature');
        };
  const result = await warmThenMeasure(operation, { ...settings, concurrency: 1 });
  return { unit: 'ops/s', ...result };
}

export function jwtCases(): BenchCase[] {
  return [
    {
      name: 'ecdsa.raw.sign',
      description: 'node:crypto ECDSA P-256/SHA-256 sign (raw r||s) of an access token\'s signing input, one at a time',
      run: (settings) => measureRaw(settings, 'sign'),
    },
    {
      name: 'jwt.sign',
      description: 'signJwt of access-token claims (ES256 compact JWS, as iam issues a token), one at a time',
      baseline: 'ecdsa.raw.sign',
      run: (settings) => measureJwt(settings, 'sign'),
    },
    {
      name: 'ecdsa.raw.verify',
      description: 'node:crypto ECDSA P-256/SHA-256 verify of the same signature, one at a time',
      run: (settings) => measureRaw(settings, 'verify'),
    },
    {
      name: 'jwt.verify',
      description: 'peekJwtHeader + verifyJwt of one access token against its key from the JWKS (what the gateway does on an unseen token), one at a time',
      baseline: 'ecdsa.raw.verify',
      run: (settings) => measureJwt(settings, 'verify'),
    },
  ];
}
