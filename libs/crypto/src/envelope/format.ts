/**
 * Envelope format v1: the byte layout, its strict parser and the canonical context encoding.
 * Pure functions, no key material handled here. The normative description is libs/crypto/ENVELOPE.md;
 * a change to this file is a change to that document.
 *
 *   magic "SBX" (3) | version 0x01 (1) | W (uint16 BE) | wrapped DEK (W) | K (uint8) | key version id (K)
 *   | commitment (32) | nonce (12) | ciphertext (P) | tag (16)
 *
 * Everything before the ciphertext is the header; AAD = header || canonical context.
 */
import { CryptoWire } from '@sealbox/contracts';
import { createHash } from 'node:crypto';
import { envelopeInvalid } from '../errors.js';

export const ENVELOPE_MAGIC = Buffer.from('SBX', 'ascii');
export const ENVELOPE_VERSION = 0x01;
export const DEK_BYTES = 32;
export const COMMITMENT_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** The kms wire limit of a wrapped key (`kms.key.unwrap` ciphertext). */
export const MAX_WRAPPED_DEK_BYTES = 8192;
export const MAX_KEY_VERSION_ID_BYTES = 255;
export const MAX_PAYLOAD_BYTES = CryptoWire.MAX_PAYLOAD_BYTES;
/** Bytes of a v1 envelope besides the wrapped DEK, the key version id and the payload. */
export const FIXED_BYTES = ENVELOPE_MAGIC.length + 1 + 2 + 1 + COMMITMENT_BYTES + NONCE_BYTES + TAG_BYTES;
export const MIN_ENVELOPE_BYTES = FIXED_BYTES + 1 + 1;
export const MAX_ENVELOPE_BYTES = FIXED_BYTES + MAX_WRAPPED_DEK_BYTES + MAX_KEY_VERSION_ID_BYTES + MAX_PAYLOAD_BYTES;

/** Label of the kms `aad` entry: the wrapped DEK is bound to the context through it. */
export const KMS_AAD_PREFIX = 'sealbox-envelope-v1:';

/** What a v1 header holds besides magic and version. */
export interface HeaderFields {
  /** The `ciphertext` string kms returned for the DEK, stored as its ASCII bytes. */
  readonly wrappedDek: string;
  /** The root key version that wrapped it. */
  readonly keyVersionId: string;
  readonly commitment: Buffer;
  readonly nonce: Buffer;
}

export interface ParsedEnvelope extends HeaderFields {
  /** The exact header bytes (magic through nonce): the first part of the AAD. */
  readonly header: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** Value of each base64 character (-1: not in the alphabet). */
const BASE64_VALUE = new Int8Array(128).fill(-1);
for (const [index, char] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  BASE64_VALUE[char.charCodeAt(0)] = index;
}
const BASE64_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Whether `text` is canonical padded base64: exactly what `Buffer#toString('base64')` writes for some
 * bytes (alphabet `A–Z a–z 0–9 + /`, `=` padding to a multiple of 4, no bits set after the last byte).
 * Checked without decoding, so a large payload is not decoded twice.
 */
export function isCanonicalBase64(text: string): boolean {
  if (text.length % 4 !== 0 || !BASE64_ALPHABET.test(text)) return false;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (padding === 0) return true;
  // The last character before the padding carries 2 (one `=`) or 4 (two) bits that must be zero.
  const last = BASE64_VALUE[text.charCodeAt(text.length - padding - 1)] ?? -1;
  return last >= 0 && (last & (padding === 1 ? 0x03 : 0x0f)) === 0;
}

/**
 * Whether `text` can be stored as a wrapped DEK: 1..8192 characters of canonical padded base64, which
 * is what kms returns (and the only form its unwrap accepts).
 */
export function isStorableWrappedDek(text: string): boolean {
  return text.length >= 1 && text.length <= MAX_WRAPPED_DEK_BYTES && isCanonicalBase64(text);
}

/** Whether `text` can be stored as a key version id: 1..255 bytes of well-formed UTF-8. */
export function isStorableKeyVersionId(text: string): boolean {
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes >= 1 && bytes <= MAX_KEY_VERSION_ID_BYTES && !/\p{Surrogate}/u.test(text);
}

/** A v1 envelope being written: one Buffer and the slices of it still to fill. */
export interface EnvelopeLayout {
  /** The whole envelope. */
  readonly bytes: Buffer;
  /** Magic through nonce (the first part of the AAD). */
  readonly header: Buffer;
  readonly commitment: Buffer;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/**
 * Allocate an envelope for a payload of `payloadLength` bytes and write magic, version, the wrapped
 * DEK and the key version id; commitment, nonce, ciphertext and tag are left for the caller to fill
 * (in place: nothing is concatenated afterwards). Throws (a programming or kms contract error, never
 * a caller's) on fields the format cannot hold.
 */
export function layOutEnvelope(wrappedDek: string, keyVersionId: string, payloadLength: number): EnvelopeLayout {
  if (!isStorableWrappedDek(wrappedDek)) throw new Error('kms returned a wrapped key an envelope cannot hold');
  if (!isStorableKeyVersionId(keyVersionId)) throw new Error('kms returned a key version id an envelope cannot hold');
  const keyVersionBytes = Buffer.byteLength(keyVersionId, 'utf8');
  const headerBytes = ENVELOPE_MAGIC.length + 1 + 2 + wrappedDek.length + 1 + keyVersionBytes + COMMITMENT_BYTES + NONCE_BYTES;
  const bytes = Buffer.allocUnsafe(headerBytes + payloadLength + TAG_BYTES);
  let offset = ENVELOPE_MAGIC.copy(bytes, 0);
  bytes[offset++] = ENVELOPE_VERSION;
  offset = bytes.writeUInt16BE(wrappedDek.length, offset);
  offset += bytes.write(wrappedDek, offset, 'latin1');
  bytes[offset++] = keyVersionBytes;
  offset += bytes.write(keyVersionId, offset, 'utf8');
  return {
    bytes,
    header: bytes.subarray(0, headerBytes),
    commitment: bytes.subarray(offset, offset + COMMITMENT_BYTES),
    nonce: bytes.subarray(offset + COMMITMENT_BYTES, headerBytes),
    ciphertext: bytes.subarray(headerBytes, headerBytes + payloadLength),
    tag: bytes.subarray(headerBytes + payloadLength),
  };
}

/** The header bytes. Throws (a programming or kms contract error, never a caller's) on unstorable fields. */
export function encodeHeader(fields: HeaderFields): Buffer {
  if (fields.commitment.length !== COMMITMENT_BYTES) throw new Error(`a commitment has ${COMMITMENT_BYTES} bytes`);
  if (fields.nonce.length !== NONCE_BYTES) throw new Error(`a nonce has ${NONCE_BYTES} bytes`);
  const layout = layOutEnvelope(fields.wrappedDek, fields.keyVersionId, 0);
  fields.commitment.copy(layout.commitment);
  fields.nonce.copy(layout.nonce);
  return Buffer.from(layout.header);
}

export function encodeEnvelope(header: Buffer, ciphertext: Buffer, tag: Buffer): Buffer {
  if (tag.length !== TAG_BYTES) throw new Error(`a tag has ${TAG_BYTES} bytes`);
  return Buffer.concat([header, ciphertext, tag]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Strict parser: every length is checked against the bytes present and the format's limits, and any
 * deviation is ENVELOPE_INVALID naming what is wrong. It authenticates nothing: a well-formed envelope
 * may still be forged, which the AEAD and the commitment catch (INTEGRITY_FAILED).
 */
export function parseEnvelope(bytes: Buffer): ParsedEnvelope {
  if (bytes.length === 0) throw envelopeInvalid('it is empty');
  if (bytes.length < MIN_ENVELOPE_BYTES) {
    throw envelopeInvalid(`it is truncated (${bytes.length} bytes; a v1 envelope has at least ${MIN_ENVELOPE_BYTES})`);
  }
  if (bytes.length > MAX_ENVELOPE_BYTES) throw envelopeInvalid(`it is larger than ${MAX_ENVELOPE_BYTES} bytes`);
  if (!bytes.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)) {
    throw envelopeInvalid('it does not start with the Sealbox envelope magic "SBX"');
  }
  let offset = ENVELOPE_MAGIC.length;
  const version = bytes[offset++];
  if (version !== ENVELOPE_VERSION) throw envelopeInvalid(`format version ${version} is not supported (only ${ENVELOPE_VERSION})`);

  const wrappedLength = bytes.readUInt16BE(offset);
  offset += 2;
  if (wrappedLength === 0 || wrappedLength > MAX_WRAPPED_DEK_BYTES) {
    throw envelopeInvalid(`the wrapped key length ${wrappedLength} is outside 1..${MAX_WRAPPED_DEK_BYTES}`);
  }
  // What must still follow: the wrapped key, the key version length byte, at least one byte of key
  // version id, commitment, nonce and tag.
  const remainingAfter = (position: number) => bytes.length - position;
  if (remainingAfter(offset) < wrappedLength + 1 + 1 + COMMITMENT_BYTES + NONCE_BYTES + TAG_BYTES) {
    throw envelopeInvalid('it is truncated (the wrapped key length runs past the end)');
  }
  const wrappedDek = bytes.toString('latin1', offset, offset + wrappedLength);
  if (!isStorableWrappedDek(wrappedDek)) throw envelopeInvalid('the wrapped key is not canonical padded base64');
  offset += wrappedLength;

  const keyVersionLength = bytes[offset++];
  if (keyVersionLength === 0) throw envelopeInvalid('the key version id is empty');
  if (remainingAfter(offset) < keyVersionLength + COMMITMENT_BYTES + NONCE_BYTES + TAG_BYTES) {
    throw envelopeInvalid('it is truncated (the key version id length runs past the end)');
  }
  let keyVersionId: string;
  try {
    keyVersionId = utf8.decode(bytes.subarray(offset, offset + keyVersionLength));
  } catch {
    throw envelopeInvalid('the key version id is not UTF-8');
  }
  offset += keyVersionLength;

  const commitment = bytes.subarray(offset, offset + COMMITMENT_BYTES);
  offset += COMMITMENT_BYTES;
  const nonce = bytes.subarray(offset, offset + NONCE_BYTES);
  offset += NONCE_BYTES;
  const header = bytes.subarray(0, offset);
  const ciphertext = bytes.subarray(offset, bytes.length - TAG_BYTES);
  if (ciphertext.length > MAX_PAYLOAD_BYTES) throw envelopeInvalid(`the payload is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  return { header, wrappedDek, keyVersionId, commitment, nonce, ciphertext, tag };
}

/** `fields` as one byte string: each a uint32 BE byte length then its UTF-8 bytes, in the given order. */
export function lengthPrefixed(fields: readonly string[]): Buffer {
  let total = 0;
  for (const field of fields) total += 4 + Buffer.byteLength(field, 'utf8');
  const bytes = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const field of fields) {
    const length = bytes.write(field, offset + 4, 'utf8');
    bytes.writeUInt32BE(length, offset);
    offset += 4 + length;
  }
  return bytes;
}

/** Canonical context: instance CRN, secret id, version id, each length-prefixed UTF-8, in that order. */
export function canonicalContext(context: CryptoWire.EnvelopeContext): Buffer {
  return lengthPrefixed([context.instanceCrn, context.secretId, context.versionId]);
}

/**
 * The `aad` entry sent to kms with the wrapped DEK: the label and the hex SHA-256 of the canonical
 * context. One fixed-size entry binds the whole context whatever way kms joins an `aad` array, and
 * stays inside kms's 1024-character limit per entry (a context is up to ~2.3 KB of UTF-8).
 */
export function kmsAadOf(canonical: Buffer): string {
  return KMS_AAD_PREFIX + createHash('sha256').update(canonical).digest('hex');
}

/**
 * Decode canonical padded base64 (what Buffer.toString('base64') writes). Anything else — missing
 * padding, bits set after the last byte, whitespace — is refused, so one envelope has one encoding.
 */
export function decodeCanonicalBase64(text: string): Buffer | undefined {
  return isCanonicalBase64(text) ? Buffer.from(text, 'base64') : undefined;
}
