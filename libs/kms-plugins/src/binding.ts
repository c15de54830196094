import { createHash } from 'node:crypto';
import { z } from 'zod';
import { KEY_MATERIAL_BYTES, MAX_DEK_BYTES, ProviderError } from './provider.js';

/**
 * Canonical, unambiguous encoding of a list of fields: each is a 4-byte big-endian length followed
 * by its bytes, so no two different lists encode to the same bytes.
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

const WRAP_DOMAIN = 'sealbox/kms-provider/wrap/v1';

/**
 * The AAD a provider hands to the HSM when it wraps a data key: the caller's AAD bound to the
 * provider kind and the instance id, so a ciphertext of one instance never opens in another (even
 * when both imported the same key material) nor under another provider.
 */
export function wrapAad(kind: string, instanceId: string, aad: Buffer): Buffer {
  return encodeFields([WRAP_DOMAIN, kind, instanceId, aad]);
}

/** Strict base64 (canonical, padded): a tampered or foreign string is INTEGRITY, never "decoded anyway". */
export function decodeBase64(value: string, what: string): Buffer {
  if (value.length === 0 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    throw new ProviderError('INTEGRITY', `The ${what} is not valid`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw new ProviderError('INTEGRITY', `The ${what} is not valid`);
  return bytes;
}

export function requireInstanceId(instanceId: string): void {
  if (typeof instanceId !== 'string' || instanceId.length === 0 || instanceId.length > 128) {
    throw new ProviderError('INTEGRITY', 'The instance id must be 1 to 128 characters');
  }
}

export function requireKeyMaterial(material: Buffer): void {
  if (material.length !== KEY_MATERIAL_BYTES) {
    throw new ProviderError('INVALID_MATERIAL', `Key material must be exactly ${KEY_MATERIAL_BYTES} bytes`);
  }
}

export function requireDek(dek: Buffer): void {
  if (dek.length === 0 || dek.length > MAX_DEK_BYTES) {
    throw new ProviderError('INVALID_MATERIAL', `A data key must be 1 to ${MAX_DEK_BYTES} bytes`);
  }
}

/** Smallest HSM ciphertext: 12-byte nonce, at least one byte, 16-byte tag. */
const MIN_SEALED_BYTES = 12 + 1 + 16;

export function requireSealed(wrapped: Buffer): void {
  if (wrapped.length < MIN_SEALED_BYTES) throw new ProviderError('INTEGRITY', 'The wrapped key does not authenticate');
}

/** Longest label prefix a provider config accepts: every label must fit the HSM's 128 characters. */
export const MAX_LABEL_PREFIX = 16;

const labelText = z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only');
/** A whole HSM label in a plugin's settings (a provider's own key). */
export const hsmLabel = labelText.min(1).max(128);
/** The start of per-instance labels in a plugin's settings, short enough for the instance and a UUID to follow. */
export const hsmLabelPrefix = labelText.min(1).max(MAX_LABEL_PREFIX);
const PLAIN_INSTANCE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The instance id as it appears in an HSM label: itself when short and plain (a GUID, so operators
 * recognise it), otherwise `~` and the base64url SHA-256 of it (43 characters). The two forms cannot
 * collide (a plain id has no `~`), so distinct instances always get distinct labels, and a label with
 * a 16-character prefix, this part and a UUID stays within the HSM's 128 characters.
 */
export function instanceLabelPart(instanceId: string): string {
  if (PLAIN_INSTANCE_ID.test(instanceId)) return instanceId;
  return `~${createHash('sha256').update(instanceId, 'utf8').digest('base64url')}`;
}
