import type { RotateResponse, SealSecretRequest, SealSecretResponse, SealStatus, UnsealRequest } from './seal.wire.js';

/** The token of the SealControl of the process (standalone). */
export const SEAL_CONTROL = Symbol('sealbox:gateway:seal-control');

/**
 * What the seal endpoints ask of the process that holds the key store (standalone). Errors are
 * DomainErrors: SEALED, UNSEAL_FAILED, SEAL_NOT_INITIALIZED, CONFLICT, VALIDATION_FAILED, RATE_LIMITED,
 * and for the PKCS#11 auto-unseal SEAL_TOKEN_NOT_CONFIGURED, SEAL_TOKEN_KEY_NOT_FOUND, SEAL_TOKEN_UNAVAILABLE.
 */
export interface SealControl {
  status(): SealStatus;
  /** The first unseal secret of an empty store; the store stays sealed. */
  initialize(request: SealSecretRequest): Promise<SealSecretResponse>;
  /** One unseal input (none: an auto-unseal store asks its token); the answer once `t` inputs are in is `sealed: false` and the full API is up. */
  unseal(request: UnsealRequest): Promise<SealStatus>;
  /** Drop every key from memory and return to the sealed state (after this request is answered). */
  seal(): Promise<void>;
  /** A new unseal secret for the same root key (nothing is re-encrypted). */
  rekey(request: SealSecretRequest): Promise<SealSecretResponse>;
  /** A new soft HSM master key, every stored key re-wrapped under it. */
  rotateMasterKey(): Promise<RotateResponse>;
}
