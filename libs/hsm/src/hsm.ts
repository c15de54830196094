/**
 * The HSM port: the few operations Sealbox needs from a hardware security module. Keys are AES-256,
 * never extractable in clear. Two kinds of key:
 *
 * - token keys: persistent objects found by label (a provider master key, an HPCS instance master
 *   key, a local-hsm root key);
 * - wrapped keys: key material kept OUTSIDE the HSM (in a database) as a blob wrapped under a token
 *   key (AES key wrap with padding, RFC 5649). To use one, the HSM unwraps it into a transient,
 *   non-extractable session object, uses it and destroys it: the material is never in clear outside.
 *
 * Data keys (DEKs) are protected with AES-256-GCM inside the HSM: `encrypt` returns
 * `nonce (12 bytes) || ciphertext || tag (16 bytes)` and binds the optional AAD.
 *
 * Errors: `HsmKeyNotFoundError` for an unknown label, `HsmIntegrityError` when a ciphertext or a
 * wrapped key does not authenticate (wrong key, flipped bit, other AAD), `HsmUnavailableError` when
 * the module cannot be reached. Implementations are safe under concurrent calls.
 */
export type KeyRef =
  | { readonly label: string }
  | { readonly wrappedBy: string; readonly blob: Buffer };

export interface Hsm {
  /** Generate a token key under `label` (CONFLICT-style HsmKeyExistsError if the label is taken). */
  generateKey(label: string): Promise<void>;
  /** Import 32 bytes of key material as a token key; the caller zeroes `material` afterwards. */
  importKey(label: string, material: Buffer): Promise<void>;
  hasKey(label: string): Promise<boolean>;
  /** Destroy a token key: every blob wrapped under it and every ciphertext under it become unusable. */
  destroyKey(label: string): Promise<void>;

  /** Generate a key inside the HSM and return it wrapped under the token key `wrappingLabel`. */
  generateWrappedKey(wrappingLabel: string): Promise<Buffer>;
  /** Wrap 32 bytes of imported key material under `wrappingLabel` (the caller zeroes `material`). */
  importWrappedKey(wrappingLabel: string, material: Buffer): Promise<Buffer>;

  /** AES-256-GCM with the key `key`; output `nonce || ciphertext || tag`. */
  encrypt(key: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<Buffer>;
  /** Inverse of `encrypt`; HsmIntegrityError if it does not authenticate. */
  decrypt(key: KeyRef, sealed: Buffer, aad?: Buffer): Promise<Buffer>;

  close(): Promise<void>;
}

export class HsmError extends Error {}
export class HsmKeyNotFoundError extends HsmError {
  constructor(label: string) {
    super(`No HSM key labelled ${label}`);
    this.name = 'HsmKeyNotFoundError';
  }
}
export class HsmKeyExistsError extends HsmError {
  constructor(label: string) {
    super(`An HSM key labelled ${label} already exists`);
    this.name = 'HsmKeyExistsError';
  }
}
export class HsmIntegrityError extends HsmError {
  constructor(message = 'The data does not authenticate under this key') {
    super(message);
    this.name = 'HsmIntegrityError';
  }
}
export class HsmUnavailableError extends HsmError {
  constructor(message = 'The HSM is unavailable') {
    super(message);
    this.name = 'HsmUnavailableError';
  }
}

export const AES_256_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
