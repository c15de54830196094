import type { Hsm } from '@sealbox/hsm';

/**
 * A KMS provider plugin: where a KMS instance's root keys live and how they protect data keys.
 * The kms service keeps instances, keys, versions, states and policies in its database; a provider
 * only handles key MATERIAL, as opaque strings the kms service stores (`InstanceState`,
 * `VersionMaterial`) and hands back on every call. ONE conformance suite (testing/) defines "works".
 *
 * Providers are stateless objects (one per kind, shared by every instance and request): everything
 * instance-specific comes in the `InstanceContext`. Their outputs are safe to store in an untrusted
 * database: nothing secret is in clear in an `InstanceState` or a `VersionMaterial`, and what comes
 * back from the database is checked (a tampered state or material fails with INTEGRITY, never opens
 * another instance's data).
 *
 * Every wrap binds the provider kind and the instance id next to the caller's AAD (see
 * `wrapAad`), so a ciphertext of one instance never opens in another, even when both imported the
 * same key material.
 *
 * The kms service serializes the calls that change an instance's state (`loadMasterKeyPart`,
 * `zeroizeMasterKey`) per instance and stores the state each returns before the next one.
 */

/** Provider-owned state of an instance (JSON-serializable; stored by kms, never secret in clear). */
export type InstanceState = Readonly<Record<string, unknown>>;

/** Provider-owned reference to the material of one root key version (a wrapped blob, an HSM label...). */
export type VersionMaterial = string;

export interface InstanceContext {
  readonly instanceId: string;
  readonly state: InstanceState;
}

export type MasterKeyStatus = 'not_applicable' | 'uninitialized' | 'pending' | 'active';

export interface MasterKeyInfo {
  readonly status: MasterKeyStatus;
  /** Parts loaded so far / needed (HPCS key ceremony). */
  readonly partsLoaded?: number;
  readonly threshold?: number;
  /** Keyed hash identifying the loaded master key, never the key (HPCS: see `masterKeyVerificationPattern`). */
  readonly verificationPattern?: string;
}

/** Largest data key a provider wraps. */
export const MAX_DEK_BYTES = 4096;
/** Imported root key material and HPCS master key parts: AES-256, exactly this many bytes. */
export const KEY_MATERIAL_BYTES = 32;

export interface KmsProvider {
  /** The plugin's kind (registry.ts: `ProviderKind`). */
  readonly kind: string;

  /** Set up a new instance; returns its state. `threshold` is the HPCS ceremony's number of parts (2..8). */
  createInstance(instanceId: string, options: { threshold?: number }): Promise<InstanceState>;
  /**
   * Remove everything the provider holds for the instance. `versions`: every version material
   * kms still stores for it (the HSM port cannot enumerate keys, and local-hsm keeps one token key
   * per version); destroying versions that are already gone is fine.
   */
  deleteInstance(context: InstanceContext, versions?: readonly VersionMaterial[]): Promise<void>;
  masterKey(context: InstanceContext): Promise<MasterKeyInfo>;
  /**
   * HPCS key ceremony: load one 32-byte part from `identity` (a distinct identity per part). When the
   * threshold is reached the master key (XOR of the parts) goes into the HSM and the parts are
   * discarded. Returns the new state. Other providers: NOT applicable (throws ProviderError).
   * The caller zeroes `part` afterwards. Errors: INVALID_PART (not 32 bytes, no identity, or parts
   * that cancel out), DUPLICATE_IDENTITY, NOT_APPLICABLE (master key already active: zeroize first).
   */
  loadMasterKeyPart(context: InstanceContext, identity: string, part: Buffer): Promise<{ state: InstanceState; info: MasterKeyInfo }>;
  /** HPCS: destroy the master key; every key of the instance becomes unusable at once. */
  zeroizeMasterKey(context: InstanceContext): Promise<InstanceState>;

  /**
   * A new root key version: generated in the HSM, or from exactly 32 bytes of imported material
   * (INVALID_MATERIAL otherwise; zeroed by the caller, the provider keeps no reference to it).
   */
  createVersion(context: InstanceContext, material?: Buffer): Promise<VersionMaterial>;
  /**
   * Destroy a version's material (purge). local-hsm destroys the token key, so the version stops
   * working at once; key-protect and hpcs versions are blobs wrapped under a master key, so their
   * material is destroyed when kms discards the blob (the provider drops what the HSM kept of it).
   */
  destroyVersion(context: InstanceContext, version: VersionMaterial): Promise<void>;

  /**
   * Drop what the provider or its HSM keeps in memory for these versions (a blob version unwrapped
   * into an HSM session object, kept for later calls), or when `versions` is absent, for every version
   * of the instance the provider can tell apart (hpcs: everything under the instance master key). The
   * versions keep working: they are unwrapped again on their next use. kms calls it when a key is
   * disabled or deleted, a master key zeroized, an instance deleted. Best effort: a material that is
   * not the provider's is skipped.
   */
  release(context: InstanceContext, versions?: readonly VersionMaterial[]): Promise<void>;

  /** Protect a data key (1 byte to 4 KiB, INVALID_MATERIAL otherwise) with a root key version, binding `aad`. */
  wrap(context: InstanceContext, version: VersionMaterial, dek: Buffer, aad: Buffer): Promise<Buffer>;
  /** Inverse of wrap: INTEGRITY if it does not authenticate. The caller zeroes the returned key. */
  unwrap(context: InstanceContext, version: VersionMaterial, wrapped: Buffer, aad: Buffer): Promise<Buffer>;
}

/**
 * - NOT_APPLICABLE: the operation does not exist for this provider (or not in this state: loading a
 *   part into an active master key);
 * - NOT_INITIALIZED: HPCS instance without an active master key (before the ceremony, after zeroize);
 * - INTEGRITY: a ciphertext, a version material or an instance state that does not authenticate
 *   (wrong AAD, other version or instance, flipped bit, destroyed version);
 * - UNAVAILABLE: the HSM cannot be reached (or lost the provider's own key): retry later;
 * - INVALID_PART / DUPLICATE_IDENTITY: HPCS key ceremony input;
 * - INVALID_MATERIAL: imported key material not 32 bytes, data key empty or over 4 KiB.
 */
export type ProviderErrorCode =
  | 'NOT_APPLICABLE'
  | 'NOT_INITIALIZED'
  | 'INTEGRITY'
  | 'UNAVAILABLE'
  | 'INVALID_PART'
  | 'DUPLICATE_IDENTITY'
  | 'INVALID_MATERIAL';

export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

export interface ProviderDependencies {
  readonly hsm: Hsm;
}
