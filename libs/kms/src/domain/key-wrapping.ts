import type { InstanceContext, KmsProvider, VersionMaterial } from '@sealbox/kms-plugins';
import { zero } from './binary.js';
import { encodeCiphertext, integrityFailed, parseCiphertext, wrapAadOf } from './ciphertext.js';
import { viaProvider } from './provider-errors.js';

export interface VersionRef {
  readonly id: string;
  readonly material: VersionMaterial;
}

/** One root key as wrapping sees it: its provider, instance context and versions. */
export interface WrappingKey {
  readonly instanceId: string;
  readonly keyId: string;
  readonly provider: Pick<KmsProvider, 'wrap' | 'unwrap'>;
  readonly context: InstanceContext;
  /** The version new ciphertexts are made with. */
  readonly current: VersionRef;
  /** A version of THIS key by id (undefined for any other id). */
  version(id: string): Promise<VersionRef | undefined>;
}

/** A data key wrapped by a version of a key: the ciphertext (format v1, bytes) and that version. */
export interface WrappedDek {
  readonly ciphertext: Buffer;
  readonly keyVersionId: string;
}

/** Wrap a data key with a version of the key (the current one by default), binding the caller's AAD. */
export async function wrapDek(key: WrappingKey, dek: Buffer, aad: readonly string[], version: VersionRef = key.current): Promise<WrappedDek> {
  const binding = wrapAadOf({ instanceId: key.instanceId, keyId: key.keyId, keyVersionId: version.id, aad });
  const wrapped = await viaProvider(() => key.provider.wrap(key.context, version.material, dek, binding), { invalidMaterial: 'INVALID_PLAINTEXT' });
  return { ciphertext: encodeCiphertext(version.id, wrapped), keyVersionId: version.id };
}

/**
 * Unwrap a ciphertext of this key: INVALID_CIPHERTEXT when it cannot be one of ours, INTEGRITY_FAILED
 * when it is another key's or instance's, altered, or bound to another AAD. The caller zeroes `dek`.
 */
export async function unwrapDek(key: WrappingKey, ciphertext: Buffer, aad: readonly string[]): Promise<{ dek: Buffer; version: VersionRef }> {
  const parsed = parseCiphertext(ciphertext);
  const version = await key.version(parsed.keyVersionId);
  // A version id this key never had: the ciphertext is another key's (or altered).
  if (!version) throw integrityFailed();
  const binding = wrapAadOf({ instanceId: key.instanceId, keyId: key.keyId, keyVersionId: version.id, aad });
  const dek = await viaProvider(() => key.provider.unwrap(key.context, version.material, parsed.wrapped, binding));
  return { dek, version };
}

/** The data key of `ciphertext` under the current version: `from` is the version it was made with. */
export async function rewrapDek(key: WrappingKey, ciphertext: Buffer, aad: readonly string[]): Promise<WrappedDek & { readonly from: string }> {
  const { dek, version } = await unwrapDek(key, ciphertext, aad);
  try {
    const wrapped = await wrapDek(key, dek, aad);
    return { ciphertext: wrapped.ciphertext, from: version.id, keyVersionId: wrapped.keyVersionId };
  } finally {
    zero(dek);
  }
}
