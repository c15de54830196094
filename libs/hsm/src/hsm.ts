/**
 * The HSM port: the few operations Sealbox needs from a hardware security module. Keys are AES-256
 * (exactly 32 bytes), never extractable in clear. Two kinds of key:
 *
 * - token keys: persistent objects found by label (a provider master key, an HPCS instance master
 *   key, a local-hsm root key);
 * - wrapped keys: key material kept OUTSIDE the HSM (in a database) as a blob wrapped under a token
 *   key (AES key wrap with padding, RFC 5649: 40 bytes for a 32-byte key). To use one, the HSM
 *   unwraps it into a transient, non-extractable session object: the material is never in clear
 *   outside. A backend may keep such objects for later calls, bounded in number and age, and drops
 *   them on `forget`, on `destroyKey` of their wrapping key and on `close`.
 *
 * Data keys (DEKs) are protected with AES-256-GCM inside the HSM: `encrypt` returns
 * `nonce (12 random bytes) || ciphertext || tag (16 bytes)` and binds the optional AAD (no AAD and an
 * empty AAD are the same). Nonces are random, so one key should seal well under 2^32 messages.
 *
 * Errors (each has a stable `code`): `HsmKeyNotFoundError` for an unknown label (also a wrapped key
 * whose wrapping key was destroyed), `HsmKeyExistsError` for a label already taken,
 * `HsmIntegrityError` when a ciphertext or a wrapped key does not authenticate (wrong key, flipped
 * bit, other AAD, malformed input), `HsmInvalidArgumentError` for key material that is not 32 bytes or
 * an unusable label, `HsmUnavailableError` when the module cannot be reached (the backend recovers by
 * itself once it is back: the next call reconnects). Implementations are safe under concurrent calls.
 *
 * Backends: `Pkcs11Hsm` (any PKCS#11 module, SoftHSM2 in dev/CI) and `SoftHsm` (pure node:crypto,
 * the standalone emulator); ONE conformance suite (testing/hsm-conformance.ts) defines "works".
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
  /**
   * Destroy a token key: every blob wrapped under it and every ciphertext under it become unusable.
   * HsmKeyNotFoundError if there is no such key (an idempotent caller catches it).
   */
  destroyKey(label: string): Promise<void>;

  /** Generate a key inside the HSM and return it wrapped under the token key `wrappingLabel` (40 bytes). */
  generateWrappedKey(wrappingLabel: string): Promise<Buffer>;
  /** Wrap 32 bytes of imported key material under `wrappingLabel` (the caller zeroes `material`). */
  importWrappedKey(wrappingLabel: string, material: Buffer): Promise<Buffer>;

  /** AES-256-GCM with the key `key` (a token key, or a wrapped key and its wrapping key's label); output `nonce || ciphertext || tag`. */
  encrypt(key: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<Buffer>;
  /** Inverse of `encrypt`; HsmIntegrityError if it (or the wrapped key's blob) does not authenticate. The caller zeroes the result. */
  decrypt(key: KeyRef, sealed: Buffer, aad?: Buffer): Promise<Buffer>;

  /**
   * Drop what the backend keeps in memory for `key` — for a wrapped key, the unwrapped session object
   * it may keep for later calls; for a token key label, that of every key wrapped under it — so none
   * of it is used again (the key still works: it is unwrapped again on its next use). For a root key
   * version that was disabled or deleted, or a master key being zeroized. `destroyKey` does it itself.
   */
  forget(key: KeyRef): Promise<void>;

  /** Release sessions/memory (every kept unwrapped key with them); later calls fail with HsmUnavailableError. */
  close(): Promise<void>;
}

export type HsmErrorCode = 'KEY_NOT_FOUND' | 'KEY_EXISTS' | 'INTEGRITY' | 'INVALID_ARGUMENT' | 'UNAVAILABLE' | 'FAILED';

/** Base class; an HsmError that is none of the subclasses (code FAILED) is an unexpected module error. */
export class HsmError extends Error {
  constructor(
    message: string,
    readonly code: HsmErrorCode = 'FAILED',
  ) {
    super(message);
    this.name = 'HsmError';
  }
}
export class HsmKeyNotFoundError extends HsmError {
  constructor(label: string) {
    super(`No HSM key labelled ${label}`, 'KEY_NOT_FOUND');
    this.name = 'HsmKeyNotFoundError';
  }
}
export class HsmKeyExistsError extends HsmError {
  constructor(label: string) {
    super(`An HSM key labelled ${label} already exists`, 'KEY_EXISTS');
    this.name = 'HsmKeyExistsError';
  }
}
export class HsmIntegrityError extends HsmError {
  constructor(message = 'The data does not authenticate under this key') {
    super(message, 'INTEGRITY');
    this.name = 'HsmIntegrityError';
  }
}
/** Key material that is not exactly 32 bytes, or a label that is empty, too long or not text. */
export class HsmInvalidArgumentError extends HsmError {
  constructor(message: string) {
    super(message, 'INVALID_ARGUMENT');
    this.name = 'HsmInvalidArgumentError';
  }
}
export class HsmUnavailableError extends HsmError {
  constructor(message = 'The HSM is unavailable') {
    super(message, 'UNAVAILABLE');
    this.name = 'HsmUnavailableError';
  }
}

export const AES_256_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
/** RFC 5649 (AES key wrap with padding) of a 32-byte key: 8-byte integrity block + 32 bytes. */
export const WRAPPED_KEY_BYTES = 40;
/** Longest label accepted (PKCS#11 tokens store CKA_LABEL as bytes; 128 is plenty and portable). */
export const MAX_LABEL_LENGTH = 128;
