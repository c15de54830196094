import {
  AES_256_KEY_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  HsmIntegrityError,
  HsmInvalidArgumentError,
  MAX_LABEL_LENGTH,
  WRAPPED_KEY_BYTES,
  type KeyRef,
} from './hsm.js';

/** Checks shared by both backends, so they refuse the same inputs with the same errors. */

// Printable text without control characters: labels end up in files, logs and PKCS#11 attributes.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function checkLabel(label: string): void {
  if (typeof label !== 'string' || label.length === 0 || label.length > MAX_LABEL_LENGTH || CONTROL.test(label)) {
    throw new HsmInvalidArgumentError(`An HSM key label must be 1 to ${MAX_LABEL_LENGTH} printable characters`);
  }
}

export function checkMaterial(material: Buffer): void {
  if (!Buffer.isBuffer(material) || material.length !== AES_256_KEY_BYTES) {
    throw new HsmInvalidArgumentError(`Key material must be exactly ${AES_256_KEY_BYTES} bytes`);
  }
}

/** A wrapped key blob of the wrong size cannot be one of ours: refuse it before touching the HSM. */
export function checkBlob(blob: Buffer): void {
  if (!Buffer.isBuffer(blob) || blob.length !== WRAPPED_KEY_BYTES) {
    throw new HsmIntegrityError('The wrapped key is malformed');
  }
}

export function checkSealed(sealed: Buffer): void {
  if (!Buffer.isBuffer(sealed) || sealed.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) {
    throw new HsmIntegrityError('The ciphertext is malformed');
  }
}

export function checkKeyRef(key: KeyRef): void {
  if ('wrappedBy' in key) {
    checkLabel(key.wrappedBy);
    checkBlob(key.blob);
  } else {
    checkLabel(key.label);
  }
}
