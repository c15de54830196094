import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The one wrapping format of the seal: AES-256-GCM, a random 96-bit nonce and a version header,
 * `version (1 byte) || nonce (12) || ciphertext || tag (16)`. The version byte is authenticated too
 * (it is part of the AAD), so a blob cannot be replayed as another format version.
 */
export const SEAL_WRAP_VERSION = 1;
export const SEAL_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SealIntegrityError extends Error {
  constructor(message = 'The wrapped key does not open under this key (wrong unseal secret, or the file was edited)') {
    super(message);
    this.name = 'SealIntegrityError';
  }
}

function aadOf(context: string): Buffer {
  return Buffer.concat([Buffer.of(SEAL_WRAP_VERSION), Buffer.from(context, 'utf8')]);
}

export function wrapWithKey(key: Buffer, plaintext: Buffer, context: string): Buffer {
  if (key.length !== SEAL_KEY_BYTES) throw new Error(`A wrapping key is ${SEAL_KEY_BYTES} bytes`);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadOf(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(SEAL_WRAP_VERSION), nonce, body, cipher.getAuthTag()]);
}

/** The plaintext of `wrapWithKey(key, plaintext, context)`; SealIntegrityError for anything else. The caller zeroes it. */
export function unwrapWithKey(key: Buffer, wrapped: Buffer, context: string): Buffer {
  if (key.length !== SEAL_KEY_BYTES) throw new Error(`A wrapping key is ${SEAL_KEY_BYTES} bytes`);
  if (wrapped.length < 1 + NONCE_BYTES + TAG_BYTES || wrapped[0] !== SEAL_WRAP_VERSION) {
    throw new SealIntegrityError('The wrapped key is malformed or of an unknown version');
  }
  const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aadOf(context));
  decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
  const plaintext = decipher.update(wrapped.subarray(1 + NONCE_BYTES, wrapped.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw new SealIntegrityError();
  }
  return plaintext;
}

/**
 * What the unsealed key store lends to the components that keep a master key on disk (the soft
 * HSM, iam): they store it only as `wrap(masterKey, purpose)` and read it back with `unwrap`. Both
 * throw once the store is sealed again. `purpose` is bound as AAD: a blob opens only for its purpose.
 */
export interface KeyProtector {
  wrap(plaintext: Buffer, purpose: string): Buffer;
  /** The caller zeroes the result. SealIntegrityError when `wrapped` does not open for `purpose`. */
  unwrap(wrapped: Buffer, purpose: string): Buffer;
}
