import type { InstanceContext, KmsProvider, VersionMaterial } from '@sealbox/kms-plugins';
import { DomainError } from '@sealbox/platform';
import { decodeBase64, encodeFields, zero } from './binary.js';
import { viaProvider } from './provider-errors.js';

/**
 * Standard keys (`extractable: true`): key material the service hands back (getKey), for callers
 * that encrypt with it themselves. Unlike a root key it never wraps anything here.
 *
 * The material is stored only SEALED: each standard key has one provider version (created like a root
 * key version: a blob wrapped under the provider master key, an HPCS instance's master key, or a
 * local-hsm token key), and the payload is wrapped with that version inside the HSM (AES-256-GCM),
 * bound to `standardPayloadAad` (instance, key id, key version id). So a sealed payload never opens
 * for another key or instance, zeroizing an HPCS master key makes it unreadable like a root key, and
 * purging the key destroys the version through the provider.
 */

/** Imported standard key material: at least 16 bytes (AES-128), at most what a provider wraps (4 KiB). */
export const STANDARD_KEY_MIN_BYTES = 16;
export const STANDARD_KEY_MAX_BYTES = 4096;
/** A generated standard key: 256 random bits. */
export const GENERATED_STANDARD_KEY_BYTES = 32;

/** Canonical base64 of 16 to 4096 bytes, else 400 INVALID_KEY_MATERIAL; the caller zeroes the result. */
export function decodeStandardPayload(payload: string): Buffer {
  const material = decodeBase64(payload, 'payload', 'INVALID_KEY_MATERIAL');
  if (material.length < STANDARD_KEY_MIN_BYTES || material.length > STANDARD_KEY_MAX_BYTES) {
    const length = material.length;
    zero(material);
    throw new DomainError(
      'INVALID_KEY_MATERIAL',
      `A standard key's payload must be ${STANDARD_KEY_MIN_BYTES} to ${STANDARD_KEY_MAX_BYTES} bytes (got ${length})`,
    );
  }
  return material;
}

export interface StandardPayloadBinding {
  readonly instanceId: string;
  readonly keyId: string;
  readonly keyVersionId: string;
}

/** What the sealed payload is bound to: canonical, and distinct from any wrap AAD (its own label). */
export function standardPayloadAad(binding: StandardPayloadBinding): Buffer {
  return encodeFields(['sealbox/kms/standard-key-payload/v1', binding.instanceId, binding.keyId, binding.keyVersionId]);
}

type Sealing = Pick<KmsProvider, 'wrap' | 'unwrap'>;

/** Seal a standard key's material with its provider version; base64. The caller zeroes `material`. */
export async function sealStandardPayload(
  provider: Sealing,
  context: InstanceContext,
  version: VersionMaterial,
  material: Buffer,
  binding: StandardPayloadBinding,
): Promise<string> {
  const sealed = await viaProvider(() => provider.wrap(context, version, material, standardPayloadAad(binding)), { invalidMaterial: 'INVALID_KEY_MATERIAL' });
  return sealed.toString('base64');
}

/** Open a sealed payload (INTEGRITY_FAILED if it is not this key version's); the caller zeroes the result. */
export async function openStandardPayload(
  provider: Sealing,
  context: InstanceContext,
  version: VersionMaterial,
  sealed: string,
  binding: StandardPayloadBinding,
): Promise<Buffer> {
  return viaProvider(() => provider.unwrap(context, version, Buffer.from(sealed, 'base64'), standardPayloadAad(binding)));
}

/** Wrap, unwrap, rewrap, rotate, rotation policies and registrations need a root key (Key Protect: KEY_ROOT_REQ_ERR, 400). */
export function requireRootKey(key: { readonly id: string; readonly extractable: boolean }, action: string): void {
  if (key.extractable) {
    throw new DomainError('KEY_ROOT_REQ_ERR', `Key ${key.id} is a standard key: ${action} needs a root key`);
  }
}
