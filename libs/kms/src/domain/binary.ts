import type { ErrorCode } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Strict base64: canonical (what `Buffer#toString('base64')` would produce, padding included), so a
 * value is either exactly one byte string or refused — never "decoded anyway" by a lenient decoder.
 * Refused with `code` (INVALID_PLAINTEXT, INVALID_CIPHERTEXT, INVALID_KEY_MATERIAL...) naming `what`.
 */
export function decodeBase64(value: string, what: string, code: ErrorCode): Buffer {
  if (value.length === 0 || value.length % 4 !== 0 || !BASE64.test(value)) {
    throw new DomainError(code, `The ${what} must be non-empty, padded base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) {
    bytes.fill(0);
    throw new DomainError(code, `The ${what} must be canonical base64`);
  }
  return bytes;
}

/** Decode and require an exact length; the decoded bytes are zeroed when refused. */
export function decodeExact(value: string, bytes: number, what: string, code: ErrorCode): Buffer {
  const decoded = decodeBase64(value, what, code);
  if (decoded.length !== bytes) {
    const length = decoded.length;
    decoded.fill(0);
    throw new DomainError(code, `The ${what} must be exactly ${bytes} bytes (got ${length})`);
  }
  return decoded;
}

/**
 * Canonical, unambiguous encoding of a list of fields: each a 4-byte big-endian length and its
 * bytes, so two different lists never encode to the same bytes.
 */
export function encodeFields(fields: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'utf8') : field;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

/** Zero every buffer given (ignores undefined). */
export function zero(...buffers: (Buffer | undefined)[]): void {
  for (const buffer of buffers) buffer?.fill(0);
}
