import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The platform master key: seals small secrets (the token signing keys) so the database only ever
 * holds authenticated ciphertext bound to its context (`aad`). Async because the HSM port of the KMS
 * issue will replace the file implementation with one that never exposes the key.
 */
export abstract class MasterKey {
  abstract seal(plaintext: Buffer, aad: Buffer): Promise<Buffer>;
  /** The plaintext of `seal(plaintext, aad)`; throws if `sealed` or `aad` were changed. */
  abstract open(sealed: Buffer, aad: Buffer): Promise<Buffer>;
}

export const MASTER_KEY_BYTES = 32;
/** The purpose the iam master key is wrapped for by the key store. */
export const IAM_MASTER_KEY_PURPOSE = 'iam/master-key';
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM with a 96-bit random nonce: `version(1) || nonce(12) || ciphertext || tag(16)`. */
export class AesGcmMasterKey extends MasterKey {
  private readonly key: KeyObject;

  /** Takes ownership of `key` (exactly 32 bytes): it is copied into a KeyObject and zeroed. */
  constructor(key: Buffer) {
    super();
    try {
      if (key.length !== MASTER_KEY_BYTES) throw new Error(`The master key must be exactly ${MASTER_KEY_BYTES} bytes, not ${key.length}`);
      this.key = createSecretKey(key);
    } finally {
      key.fill(0);
    }
  }

  async seal(plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), nonce, ciphertext, cipher.getAuthTag()]);
  }

  async open(sealed: Buffer, aad: Buffer): Promise<Buffer> {
    if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
      throw new Error('Sealed data is malformed or of an unknown version');
    }
    const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
    const ciphertext = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plaintext = decipher.update(ciphertext);
    try {
      return Buffer.concat([plaintext, decipher.final()]);
    } catch {
      throw new Error('Sealed data failed authentication (wrong master key, or data or context changed)');
    } finally {
      plaintext.fill(0);
    }
  }
}

export class MasterKeyFileError extends Error {
  constructor(path: string, problem: string) {
    super(`Master key file ${path}: ${problem}`);
    this.name = 'MasterKeyFileError';
  }
}

const errorCode = (error: unknown) => (error instanceof Error && 'code' in error ? error.code : undefined);

/**
 * Write 32 random bytes to `path` unless it exists. The bytes go to a private temporary file first
 * (flag `wx`, mode 0600, fsynced) that is then hard-linked into place: `link` fails if the target
 * exists, so a replica starting at the same moment never sees a partly written key and the first
 * one to link wins; the loser reads the winner's key.
 */
function createIfMissing(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const key = randomBytes(MASTER_KEY_BYTES);
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      fchmodSync(fd, 0o600);
      writeSync(fd, key);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temporary, path);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  } finally {
    key.fill(0);
    try {
      unlinkSync(temporary);
    } catch {
      // never created
    }
  }
}

/**
 * The master key kept in a file (standalone and until the HSM port exists): created with 32 random
 * bytes and mode 0600 if missing; refused if it is not a regular file of exactly 32 bytes or if group
 * or others have any permission on it.
 */
export function loadMasterKeyFile(path: string): AesGcmMasterKey {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw new MasterKeyFileError(path, `cannot be opened (${String(errorCode(error))})`);
    createIfMissing(path);
    fd = openSync(path, 'r');
  }
  const key = Buffer.alloc(MASTER_KEY_BYTES + 1);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new MasterKeyFileError(path, 'is not a regular file');
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new MasterKeyFileError(path, `is accessible by group or others (mode 0${mode.toString(8)}); it must be 0600 (chmod 600)`);
    }
    // One byte more than a key, so a longer file is noticed even if its size changes while reading.
    const read = readSync(fd, key, 0, key.length, 0);
    if (read !== MASTER_KEY_BYTES) throw new MasterKeyFileError(path, `must hold exactly ${MASTER_KEY_BYTES} bytes, it holds ${stat.size}`);
    return new AesGcmMasterKey(Buffer.from(key.subarray(0, MASTER_KEY_BYTES)));
  } finally {
    key.fill(0);
    closeSync(fd);
  }
}
