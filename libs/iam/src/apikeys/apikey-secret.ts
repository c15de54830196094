import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt parameters: N=2^15, r=8, p=1 (about 32 MiB and tens of ms per hash). */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

function scryptAsync(value: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(value, salt, HASH_BYTES, options, (error, derived) => (error ? reject(error) : resolve(derived))),
  );
}

/** A new API key value: 256 random bits, base64url (43 characters). Shown once, never stored. */
export function generateApiKeyValue(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}

/**
 * A short, non-unique index of a key value so a presented key finds its row without scanning. It
 * reveals nothing usable: the value has 256 bits of entropy and verification needs the scrypt hash.
 */
export function apiKeyLookup(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/** `scrypt$N$r$p$salt$hash`, base64url fields. */
export async function hashApiKey(value: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const derived = await scryptAsync(value, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), derived.toString('base64url')].join('$');
}

export async function verifyApiKey(value: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const derived = await scryptAsync(value, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return derived.length === expected.length && timingSafeEqual(derived, expected);
}
