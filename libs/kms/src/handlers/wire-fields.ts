import { MAX_DEK_BYTES } from '@sealbox/kms-plugins';
import { DomainError } from '@sealbox/platform';
import { decodeBase64, zero } from '../domain/binary.js';
import { MAX_CIPHERTEXT_CHARS } from '../domain/ciphertext.js';

/**
 * The binary fields of the wrap subjects to and from their wire form: the ONE place where kms converts
 * a data key or a ciphertext. The Key Protect API (`kms.api.*`, IBM's wire) carries canonical base64;
 * the service subjects (`kms.key.*`) carry bytes. The services work on Buffers.
 */

/** A data key to wrap: canonical base64 of 1 byte to 4 KiB (INVALID_PLAINTEXT otherwise). The caller zeroes it. */
export function dekFromWire(plaintext: string): Buffer {
  return checkedDek(decodeBase64(plaintext, 'plaintext', 'INVALID_PLAINTEXT'));
}

/** A data key to wrap from a service subject's bytes (a view, not a copy): 1 byte to 4 KiB. The caller zeroes it. */
export function dekFromBytes(plaintext: Uint8Array): Buffer {
  return checkedDek(asBuffer(plaintext));
}

function checkedDek(dek: Buffer): Buffer {
  if (dek.length > MAX_DEK_BYTES) {
    const length = dek.length;
    zero(dek);
    throw new DomainError('INVALID_PLAINTEXT', `The plaintext must be at most ${MAX_DEK_BYTES} bytes (got ${length})`);
  }
  return dek;
}

/** A ciphertext from a service subject's bytes (a view). */
export function ciphertextFromBytes(ciphertext: Uint8Array): Buffer {
  return asBuffer(ciphertext);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
