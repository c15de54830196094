/**
 * The cryptographic steps of envelope format v1, on node:crypto only: DEK generation, the two HKDF
 * sub-keys, the key commitment and AES-256-GCM. Every function that returns key material returns a
 * Buffer of its own that the caller zeroes (`zero`).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { COMMITMENT_BYTES, DEK_BYTES, NONCE_BYTES, TAG_BYTES } from './format.js';

/** HKDF-SHA256 `info` labels: distinct, so the encryption key and the commitment key are independent. */
export const ENCRYPTION_KEY_LABEL = 'sealbox-envelope-v1 encryption key';
export const COMMITMENT_KEY_LABEL = 'sealbox-envelope-v1 commitment key';

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

/** A fresh 256-bit data encryption key from the CSPRNG. */
export function generateDek(): Buffer {
  return randomBytes(DEK_BYTES);
}

/** The DEK kms unwrapped (base64); undefined, after zeroing what was decoded, unless it is exactly 256 bits. */
export function decodeDek(base64: string): Buffer | undefined {
  const dek = Buffer.from(base64, 'base64');
  if (dek.length === DEK_BYTES) return dek;
  zero(dek);
  return undefined;
}

function hkdf(dek: Buffer, label: string): Buffer {
  // No salt: the DEK is a fresh uniformly random key, which is what HKDF's extract step would make.
  return Buffer.from(hkdfSync('sha256', dek, Buffer.alloc(0), label, 32));
}

export function deriveKeys(dek: Buffer): EnvelopeKeys {
  if (dek.length !== DEK_BYTES) throw new Error(`a data encryption key has ${DEK_BYTES} bytes`);
  return { encryptionKey: hkdf(dek, ENCRYPTION_KEY_LABEL), commitmentKey: hkdf(dek, COMMITMENT_KEY_LABEL) };
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

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function encryptPayload(key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): { ciphertext: Buffer; tag: Buffer } {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES }).setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** The plaintext, or undefined when the tag does not verify (nothing of an unauthenticated plaintext escapes). */
export function decryptPayload(key: Buffer, nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer | undefined {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES }).setAAD(aad).setAuthTag(tag);
  const opened = decipher.update(ciphertext);
  try {
    return Buffer.concat([opened, decipher.final()]);
  } catch {
    return undefined;
  } finally {
    zero(opened);
  }
}
