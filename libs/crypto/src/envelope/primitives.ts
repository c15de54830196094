/**
 * The cryptographic steps of envelope format v1, on node:crypto only: fresh DEK and nonce, the two
 * HKDF sub-keys, the key commitment and AES-256-GCM. Every function that returns key material returns
 * a Buffer of its own that the caller zeroes (`zero`).
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { fillRandom } from '@sealbox/platform';
import { COMMITMENT_BYTES, DEK_BYTES, NONCE_BYTES, TAG_BYTES } from './format.js';

/** HKDF-SHA256 `info` labels: distinct, so the encryption key and the commitment key are independent. */
export const ENCRYPTION_KEY_LABEL = 'sealbox-envelope-v1 encryption key';
export const COMMITMENT_KEY_LABEL = 'sealbox-envelope-v1 commitment key';

/** HKDF-Expand's input for one 32-byte block: `info || 0x01` (RFC 5869, T(1)). */
const ENCRYPTION_KEY_INFO = Buffer.from(`${ENCRYPTION_KEY_LABEL}\u0001`, 'utf8');
const COMMITMENT_KEY_INFO = Buffer.from(`${COMMITMENT_KEY_LABEL}\u0001`, 'utf8');
/** HKDF-Extract's salt: empty, which HMAC pads to the same block as HashLen zero bytes. */
const EMPTY_SALT = Buffer.alloc(0);

export interface EnvelopeKeys {
  /** AES-256-GCM key of the payload. */
  readonly encryptionKey: Buffer;
  /** HMAC-SHA256 key of the commitment. */
  readonly commitmentKey: Buffer;
}

/** Overwrite key material that is no longer needed. */
export function zero(...buffers: ReadonlyArray<Buffer | undefined>): void {
  for (const buffer of buffers) buffer?.fill(0);
}


/** What one seal draws from the CSPRNG: the DEK and the payload's nonce. */
export interface FreshSecrets {
  /** 32 bytes: the DEK. */
  readonly dek: Buffer;
  /** 12 bytes: the GCM nonce of the payload. */
  readonly nonce: Buffer;
  /** Both, one Buffer: zero this one. */
  readonly bytes: Buffer;
}

/** A fresh 256-bit DEK and a fresh 96-bit nonce from the CSPRNG. */
export function freshSecrets(): FreshSecrets {
  const bytes = fillRandom(Buffer.alloc(DEK_BYTES + NONCE_BYTES));
  return { dek: bytes.subarray(0, DEK_BYTES), nonce: bytes.subarray(DEK_BYTES), bytes };
}

/** A fresh 96-bit nonce from the CSPRNG. */
export function newNonce(): Buffer {
  return fillRandom(Buffer.alloc(NONCE_BYTES));
}

/**
 * K_enc and K_commit: HKDF-SHA256 (RFC 5869) of the DEK with an empty salt and the two labels, L = 32.
 * Written as its HMACs — PRK = HMAC(salt, DEK), then T(1) = HMAC(PRK, info || 0x01) per label — so the
 * extract step runs once for both keys (the same bytes as two `hkdfSync` calls, a unit test checks).
 */
export function deriveKeys(dek: Buffer): EnvelopeKeys {
  if (dek.length !== DEK_BYTES) throw new Error(`a data encryption key has ${DEK_BYTES} bytes`);
  const prk = createHmac('sha256', EMPTY_SALT).update(dek).digest();
  try {
    return {
      encryptionKey: createHmac('sha256', prk).update(ENCRYPTION_KEY_INFO).digest(),
      commitmentKey: createHmac('sha256', prk).update(COMMITMENT_KEY_INFO).digest(),
    };
  } finally {
    zero(prk);
  }
}

export function zeroKeys(keys: EnvelopeKeys | undefined): void {
  if (keys) zero(keys.encryptionKey, keys.commitmentKey);
}

/** commitment = HMAC-SHA256(commitment key, canonical context): binds the DEK and the context. */
export function commitmentOf(commitmentKey: Buffer, canonicalContext: Buffer): Buffer {
  return createHmac('sha256', commitmentKey).update(canonicalContext).digest();
}

/** Constant-time comparison of the stored commitment with the one computed from the DEK. */
export function commitmentMatches(expected: Buffer, stored: Buffer): boolean {
  return stored.length === COMMITMENT_BYTES && expected.length === COMMITMENT_BYTES && timingSafeEqual(expected, stored);
}

/**
 * AES-256-GCM of `plaintext` with AAD = `header || context` (given in two parts, fed to GCM in that
 * order), the ciphertext written to `ciphertextOut` (exactly the plaintext's length) and the tag to
 * `tagOut` (16 bytes): the caller hands the envelope's own slices, so nothing is concatenated.
 */
export function encryptPayloadInto(
  key: Buffer,
  nonce: Buffer,
  aad: readonly [Buffer, Buffer],
  plaintext: Buffer,
  ciphertextOut: Buffer,
  tagOut: Buffer,
): void {
  if (ciphertextOut.length !== plaintext.length || tagOut.length !== TAG_BYTES) throw new Error('the output slices do not fit');
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad[0]).setAAD(aad[1]);
  if (plaintext.length > 0) cipher.update(plaintext).copy(ciphertextOut);
  cipher.final();
  cipher.getAuthTag().copy(tagOut);
}

/** `encryptPayloadInto` returning new Buffers (tests build envelopes with it). */
export function encryptPayload(key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): { ciphertext: Buffer; tag: Buffer } {
  const ciphertext = Buffer.alloc(plaintext.length);
  const tag = Buffer.alloc(TAG_BYTES);
  encryptPayloadInto(key, nonce, [aad, Buffer.alloc(0)], plaintext, ciphertext, tag);
  return { ciphertext, tag };
}

/**
 * The plaintext (a Buffer of its own, for the caller to zero), or undefined when the tag does not
 * verify: then the bytes the AEAD produced are zeroed, and nothing of them escapes.
 */
export function decryptPayload(key: Buffer, nonce: Buffer, aad: readonly [Buffer, Buffer], ciphertext: Buffer, tag: Buffer): Buffer | undefined {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad[0]).setAAD(aad[1]).setAuthTag(tag);
  const opened = ciphertext.length > 0 ? decipher.update(ciphertext) : Buffer.alloc(0);
  try {
    // GCM holds nothing back: final() only checks the tag (and returns no bytes).
    decipher.final();
    return opened;
  } catch {
    zero(opened);
    return undefined;
  }
}
