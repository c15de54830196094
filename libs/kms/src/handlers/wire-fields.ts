import { MAX_DEK_BYTES } from '@sealbox/kms-plugins';
import { DomainError } from '@sealbox/platform';
import { decodeBase64, zero } from '../domain/binary.js';
import { MAX_CIPHERTEXT_CHARS } from '../domain/ciphertext.js';

/**
 * The binary fields of the wrap subjects (Key Protect API and `kms.key.*`) to and from their wire form:
 * the ONE place where kms converts a data key or a ciphertext (canonical base64 today; when the
 * service subjects carry bytes, only these functions change for them). The services work on Buffers.
 */

/** A data key to wrap: canonical base64 of 1 byte to 4 KiB (INVALID_PLAINTEXT otherwise). The caller zeroes it. */
export function dekFromWire(plaintext: string): Buffer {
  const dek = decodeBase64(plaintext, 'plaintext', 'INVALID_PLAINTEXT');
  if (dek.length > MAX_DEK_BYTES) {
    const length = dek.length;
    zero(dek);
    throw new DomainError('INVALID_PLAINTEXT', `The plaintext must be at most ${MAX_DEK_BYTES} bytes (got ${length})`);
  }
  return dek;
}

/** A ciphertext kms made: canonical base64 of at most 8192 characters (INVALID_CIPHERTEXT otherwise). */
export function ciphertextFromWire(ciphertext: string): Buffer {
  if (ciphertext.length > MAX_CIPHERTEXT_CHARS) {
    throw new DomainError('INVALID_CIPHERTEXT', `The ciphertext must be at most ${MAX_CIPHERTEXT_CHARS} characters`);
  }
  return decodeBase64(ciphertext, 'ciphertext', 'INVALID_CIPHERTEXT');
}

/** Bytes as the wire carries them. */
export function toWire(bytes: Buffer): string {
  return bytes.toString('base64');
}
