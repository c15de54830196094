import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  AES_256_KEY_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  HsmIntegrityError,
  HsmInvalidArgumentError,
  HsmKeyExistsError,
  HsmKeyNotFoundError,
  HsmUnavailableError,
  type Hsm,
  type KeyRef,
} from '@sealbox/hsm';

/** RFC 5649 (AES key wrap with padding) of a 32-byte key, as the port specifies. */
const WRAPPED_KEY_BYTES = 40;
const KEY_WRAP_PAD_IV = Buffer.from('a65959a6', 'hex');
const MAX_LABEL_LENGTH = 128;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The token of the fake HSM: its keys, shared by every FakeHsm opened on it. */
export class FakeHsmStore {
  readonly keys = new Map<string, Buffer>();

  /** Zero and forget every key (the end of a test). */
  clear(): void {
    for (const key of this.keys.values()) key.fill(0);
    this.keys.clear();
  }
}

/**
 * A typed in-memory `Hsm` for the unit tier: the port's semantics on node:crypto. Token keys are
 * random or imported 32-byte keys in a store (copied, zeroed on destroy and store clear); wrapped keys are
 * RFC 5649 blobs (40 bytes) under their token key; encrypt/decrypt are AES-256-GCM with a random
 * 96-bit nonce, output `nonce || ciphertext || tag`. Errors are the port's: HsmKeyNotFoundError,
 * HsmKeyExistsError, HsmIntegrityError (also malformed input), HsmInvalidArgumentError (material not
 * 32 bytes, label empty, over 128 characters or with control characters), HsmUnavailableError (after
 * close, or during `setOutage(true)`).
 */
export class FakeHsm implements Hsm {
  private readonly keys: Map<string, Buffer>;
  private down = false;
  private closed = false;
  /** Every `forget` call, in order. */
  readonly forgotten: KeyRef[] = [];

  /** `store`: the token, shared by every FakeHsm given it (another process on the same HSM). */
  constructor(store: FakeHsmStore = new FakeHsmStore()) {
    this.keys = store.keys;
  }

  /** Simulate the module becoming unreachable (every call fails with HsmUnavailableError) or back. */
  setOutage(down: boolean): void {
    this.down = down;
  }

  /** Labels of the token keys held (test introspection). */
  labels(): string[] {
    return [...this.keys.keys()].sort();
  }

  async generateKey(label: string): Promise<void> {
    this.check();
    checkLabel(label);
    this.create(label, randomBytes(AES_256_KEY_BYTES));
  }

  async importKey(label: string, material: Buffer): Promise<void> {
    this.check();
    checkLabel(label);
    exactKey(material);
    this.create(label, Buffer.from(material));
  }

  async hasKey(label: string): Promise<boolean> {
    this.check();
    checkLabel(label);
    return this.keys.has(label);
  }

  async destroyKey(label: string): Promise<void> {
    this.check();
    this.token(label).fill(0);
    this.keys.delete(label);
  }

  async generateWrappedKey(wrappingLabel: string): Promise<Buffer> {
    this.check();
    const key = randomBytes(AES_256_KEY_BYTES);
    try {
      return keyWrap(this.token(wrappingLabel), key);
    } finally {
      key.fill(0);
    }
  }

  async importWrappedKey(wrappingLabel: string, material: Buffer): Promise<Buffer> {
    this.check();
    exactKey(material);
    return keyWrap(this.token(wrappingLabel), material);
  }

  /** Nothing is kept between calls here; the calls are recorded for tests. */
  async forget(key: KeyRef): Promise<void> {
    this.check();
    checkRef(key);
    this.forgotten.push(key);
  }

  async encrypt(key: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    this.check();
    return this.withKey(key, (bytes) => seal(bytes, plaintext, aad));
  }

  async decrypt(key: KeyRef, sealed: Buffer, aad?: Buffer): Promise<Buffer> {
    this.check();
    return this.withKey(key, (bytes) => open(bytes, sealed, aad));
  }

  /** This handle stops answering; the keys stay in the store, as in a real token. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new HsmUnavailableError('The HSM was closed');
    if (this.down) throw new HsmUnavailableError();
  }

  private create(label: string, key: Buffer): void {
    if (this.keys.has(label)) {
      key.fill(0);
      throw new HsmKeyExistsError(label);
    }
    this.keys.set(label, key);
  }

  private token(label: string): Buffer {
    checkLabel(label);
    const key = this.keys.get(label);
    if (!key) throw new HsmKeyNotFoundError(label);
    return key;
  }

  /** A token key as is, or a wrapped key opened into a transient buffer zeroed after use. */
  private withKey<T>(ref: KeyRef, use: (key: Buffer) => T): T {
    if ('label' in ref) return use(this.token(ref.label));
    const key = keyUnwrap(this.token(ref.wrappedBy), ref.blob);
    try {
      return use(key);
    } finally {
      key.fill(0);
    }
  }
}

function checkLabel(label: string): void {
  if (typeof label !== 'string' || label.length === 0 || label.length > MAX_LABEL_LENGTH || CONTROL.test(label)) {
    throw new HsmInvalidArgumentError(`An HSM key label must be 1 to ${MAX_LABEL_LENGTH} printable characters`);
  }
}

function checkRef(ref: KeyRef): void {
  if ('label' in ref) {
    checkLabel(ref.label);
    return;
  }
  checkLabel(ref.wrappedBy);
  if (!Buffer.isBuffer(ref.blob) || ref.blob.length !== WRAPPED_KEY_BYTES) throw new HsmIntegrityError('The wrapped key is malformed');
}

function exactKey(material: Buffer): void {
  if (!Buffer.isBuffer(material) || material.length !== AES_256_KEY_BYTES) {
    throw new HsmInvalidArgumentError(`Key material must be exactly ${AES_256_KEY_BYTES} bytes`);
  }
}

function keyWrap(kek: Buffer, key: Buffer): Buffer {
  const cipher = createCipheriv('id-aes256-wrap-pad', kek, KEY_WRAP_PAD_IV);
  return Buffer.concat([cipher.update(key), cipher.final()]);
}

function keyUnwrap(kek: Buffer, blob: Buffer): Buffer {
  if (!Buffer.isBuffer(blob) || blob.length !== WRAPPED_KEY_BYTES) throw new HsmIntegrityError('The wrapped key is malformed');
  const decipher = createDecipheriv('id-aes256-wrap-pad', kek, KEY_WRAP_PAD_IV);
  let body: Buffer | undefined;
  try {
    body = decipher.update(blob);
    const key = Buffer.concat([body, decipher.final()]);
    if (key.length !== AES_256_KEY_BYTES) {
      key.fill(0);
      throw new HsmIntegrityError('The wrapped key is not an AES-256 key');
    }
    return key;
  } catch (error) {
    if (error instanceof HsmIntegrityError) throw error;
    throw new HsmIntegrityError('The wrapped key does not authenticate');
  } finally {
    body?.fill(0);
  }
}

function seal(key: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  if (aad) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad?: Buffer): Buffer {
  if (sealed.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) throw new HsmIntegrityError();
  const nonce = sealed.subarray(0, GCM_NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - GCM_TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAuthTag(tag);
  if (aad) decipher.setAAD(aad);
  const body = decipher.update(sealed.subarray(GCM_NONCE_BYTES, sealed.length - GCM_TAG_BYTES));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    throw new HsmIntegrityError();
  } finally {
    body.fill(0);
  }
}
