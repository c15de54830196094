/**
 * Envelope format v1: the byte layout, its strict parser and the canonical context encoding.
 * Pure functions, no key material handled here. The normative description is libs/crypto/ENVELOPE.md
 * (the README section "Envelope format v1"); a change to this file is a change to that document.
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

/** The alphabet kms accepts for a wrapped key (the `ciphertext` of `kms.key.unwrap`). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What the header carries besides magic and version. */
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

/**
 * Whether `text` can be stored as a wrapped DEK: 1..8192 characters of canonical padded base64, which
 * is what kms returns (and the only form its unwrap accepts).
 */
export function isStorableWrappedDek(text: string): boolean {
  return (
    text.length >= 1 &&
    text.length <= MAX_WRAPPED_DEK_BYTES &&
    text.length % 4 === 0 &&
    BASE64.test(text) &&
    Buffer.from(text, 'base64').toString('base64') === text
  );
}

/** Whether `text` can be stored as a key version id: 1..255 bytes of well-formed UTF-8. */
export function isStorableKeyVersionId(text: string): boolean {
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes >= 1 && bytes <= MAX_KEY_VERSION_ID_BYTES && !/\p{Surrogate}/u.test(text);
}

/** The header bytes. Throws (a programming or kms contract error, never a caller's) on unstorable fields. */
export function encodeHeader(fields: HeaderFields): Buffer {
  if (!isStorableWrappedDek(fields.wrappedDek)) throw new Error('kms returned a wrapped key an envelope cannot hold');
  if (!isStorableKeyVersionId(fields.keyVersionId)) throw new Error('kms returned a key version id an envelope cannot hold');
  if (fields.commitment.length !== COMMITMENT_BYTES) throw new Error(`a commitment has ${COMMITMENT_BYTES} bytes`);
  if (fields.nonce.length !== NONCE_BYTES) throw new Error(`a nonce has ${NONCE_BYTES} bytes`);
  const wrapped = Buffer.from(fields.wrappedDek, 'ascii');
  const keyVersion = Buffer.from(fields.keyVersionId, 'utf8');
  const lengths = Buffer.alloc(2);
  lengths.writeUInt16BE(wrapped.length, 0);
  return Buffer.concat([
    ENVELOPE_MAGIC,
    Buffer.of(ENVELOPE_VERSION),
    lengths,
    wrapped,
    Buffer.of(keyVersion.length),
    keyVersion,
    fields.commitment,
    fields.nonce,
  ]);
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
  const parts: Buffer[] = [];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length, 0);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
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
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    bytes.fill(0);
    return undefined;
  }
  return bytes;
}
