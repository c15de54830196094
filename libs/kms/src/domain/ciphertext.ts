import { DomainError } from '@sealbox/platform';
import { encodeFields } from './binary.js';

/**
 * The ciphertext kms returns from wrap (Key Protect API and `kms.key.wrap`; base64 on the wire):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 1 | format version, `0x01` |
 * | 1 | 16 | key version id (the UUID's 16 bytes) |
 * | 17 | n | the provider's wrapped data key (opaque; AES-256-GCM `nonce ‖ ciphertext ‖ tag` for every bundled provider) |
 *
 * The header is not encrypted but is authenticated: the provider's wrap binds the AAD of
 * `wrapAadOf` (format version, instance, key id, key version id, and the caller's AAD strings), so a
 * ciphertext of another key, instance or version, with another AAD, or with any bit flipped, fails
 * with INTEGRITY_FAILED and never yields a plaintext.
 *
 * Errors: not base64 (on the wire), longer than the limit or shorter than the header →
 * INVALID_CIPHERTEXT (400); anything else that does not check out → INTEGRITY_FAILED (422).
 */
export const CIPHERTEXT_FORMAT_V1 = 0x01;
const HEADER_BYTES = 17;
/** The largest ciphertext accepted, base64 characters on the wire. */
export const MAX_CIPHERTEXT_CHARS = 8192;
/** The largest ciphertext accepted, bytes (what MAX_CIPHERTEXT_CHARS of base64 hold). */
export const MAX_CIPHERTEXT_BYTES = (MAX_CIPHERTEXT_CHARS / 4) * 3;

export interface ParsedCiphertext {
  readonly format: number;
  readonly keyVersionId: string;
  readonly wrapped: Buffer;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uuidBytes(id: string): Buffer {
  if (!UUID.test(id)) throw new Error(`not a lower-case UUID: ${id}`);
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function encodeCiphertext(keyVersionId: string, wrapped: Buffer): Buffer {
  return Buffer.concat([Buffer.from([CIPHERTEXT_FORMAT_V1]), uuidBytes(keyVersionId), wrapped]);
}

/** Parse the ciphertext; INVALID_CIPHERTEXT when it cannot be one, INTEGRITY_FAILED for an unknown format. */
export function parseCiphertext(bytes: Buffer): ParsedCiphertext {
  if (bytes.length > MAX_CIPHERTEXT_BYTES) {
    throw new DomainError('INVALID_CIPHERTEXT', `The ciphertext must be at most ${MAX_CIPHERTEXT_CHARS} characters of base64`);
  }
  if (bytes.length <= HEADER_BYTES) {
    throw new DomainError('INVALID_CIPHERTEXT', 'The ciphertext is too short to be one made by this service');
  }
  const format = bytes[0] ?? 0;
  if (format !== CIPHERTEXT_FORMAT_V1) throw integrityFailed();
  return { format, keyVersionId: uuidOf(bytes.subarray(1, HEADER_BYTES)), wrapped: bytes.subarray(HEADER_BYTES) };
}

export const integrityFailed = () =>
  new DomainError(
    'INTEGRITY_FAILED',
    'The ciphertext does not authenticate with this key and AAD: it was made with another key or instance, another AAD, or it was altered',
  );

/** What the provider's wrap binds next to the data key: canonical, so no two contexts collide. */
export function wrapAadOf(binding: { instanceId: string; keyId: string; keyVersionId: string; aad: readonly string[] }): Buffer {
  return encodeFields([
    'sealbox/kms/wrap',
    String(CIPHERTEXT_FORMAT_V1),
    binding.instanceId,
    binding.keyId,
    binding.keyVersionId,
    String(binding.aad.length),
    ...binding.aad,
  ]);
}
