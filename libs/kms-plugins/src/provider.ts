import type { Hsm } from '@sealbox/hsm';

/**
 * A KMS provider plugin: where a KMS instance's root keys live and how they protect data keys.
 * The kms service keeps instances, keys, versions, states and policies in its database; a provider
 * only handles key MATERIAL, as opaque strings the kms service stores (`InstanceState`,
 * `VersionMaterial`) and hands back on every call. ONE conformance suite (testing/) defines "works".
 */
export type ProviderKind = 'key-protect' | 'hpcs' | 'local-hsm';

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
  /** Keyed hash identifying the loaded master key, never the key. */
  readonly verificationPattern?: string;
}

export interface KmsProvider {
  readonly kind: ProviderKind;

  /** Set up a new instance; returns its state. `threshold` is the HPCS ceremony's number of parts. */
  createInstance(instanceId: string, options: { threshold?: number }): Promise<InstanceState>;
  /** Remove everything the provider holds for the instance. */
  deleteInstance(context: InstanceContext): Promise<void>;
  masterKey(context: InstanceContext): Promise<MasterKeyInfo>;
  /**
   * HPCS key ceremony: load one 32-byte part from `identity` (a distinct identity per part). When the
   * threshold is reached the master key (XOR of the parts) goes into the HSM and the parts are
   * discarded. Returns the new state. Other providers: NOT applicable (throws ProviderError).
   */
  loadMasterKeyPart(context: InstanceContext, identity: string, part: Buffer): Promise<{ state: InstanceState; info: MasterKeyInfo }>;
  /** HPCS: destroy the master key; every key of the instance becomes unusable at once. */
  zeroizeMasterKey(context: InstanceContext): Promise<InstanceState>;

  /** A new root key version: generated in the HSM, or from 32 bytes of imported material (zeroed by the caller). */
  createVersion(context: InstanceContext, material?: Buffer): Promise<VersionMaterial>;
  /** Destroy a version's material (purge). */
  destroyVersion(context: InstanceContext, version: VersionMaterial): Promise<void>;

  /** Protect a data key (up to 4 KiB) with a root key version, binding `aad`. */
  wrap(context: InstanceContext, version: VersionMaterial, dek: Buffer, aad: Buffer): Promise<Buffer>;
  /** Inverse of wrap: ProviderIntegrityError if it does not authenticate. */
  unwrap(context: InstanceContext, version: VersionMaterial, wrapped: Buffer, aad: Buffer): Promise<Buffer>;
}

export type ProviderErrorCode = 'NOT_APPLICABLE' | 'NOT_INITIALIZED' | 'INTEGRITY' | 'UNAVAILABLE' | 'INVALID_PART' | 'DUPLICATE_IDENTITY';

export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface ProviderDependencies {
  readonly hsm: Hsm;
}
