import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { batchedRandomBytes } from '@sealbox/platform';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  AES_256_KEY_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  HsmError,
  HsmIntegrityError,
  HsmKeyExistsError,
  HsmKeyNotFoundError,
  HsmUnavailableError,
  type Hsm,
  type KeyRef,
} from '../hsm.js';
import { checkBlob, checkKeyRef, checkLabel, checkMaterial, checkSealed } from '../validation.js';
import { ensurePrivateDirectory, loadOrCreateMasterKey, readFileIfExists, removeStaleTemps, writeFileAtomic } from './files.js';
import { SerialQueue } from '../internal/serial-queue.js';

export interface SoftHsmOptions {
  /** Directory holding `master.key` and `keys.json` (created with mode 0700). */
  readonly directory: string;
}

const KEYS_FILE = 'keys.json';
const KEYS_FORMAT = 'sealbox-soft-hsm';
/** RFC 5649 alternative initial value: node's `id-aes256-wrap-pad` takes its 4-byte prefix. */
const KEY_WRAP_PAD_IV = Buffer.from('a65959a6', 'hex');

const KeysFile = z.object({
  format: z.literal(KEYS_FORMAT),
  version: z.literal(1),
  /** `sealed` = base64(nonce || AES-256-GCM(master key, material, AAD = entryAad(label)) || tag) */
  keys: z.array(z.object({ label: z.string(), sealed: z.string() })),
});

function entryAad(label: string): Buffer {
  return Buffer.from(`${KEYS_FORMAT}/v1/key\u0000${label}`, 'utf8');
}

/** AES-256-GCM with a random 96-bit nonce; `nonce || ciphertext || tag`. */
function seal(key: Buffer, plaintext: Buffer, aad: Buffer | undefined): Buffer {
  const nonce = batchedRandomBytes(GCM_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  if (aad) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer | undefined): Buffer {
  checkSealed(sealed);
  const nonce = sealed.subarray(0, GCM_NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - GCM_TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAuthTag(tag);
  if (aad) decipher.setAAD(aad);
  const plaintext = decipher.update(sealed.subarray(GCM_NONCE_BYTES, sealed.length - GCM_TAG_BYTES));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw new HsmIntegrityError();
  }
  return plaintext;
}

/** RFC 5649 wrap of a 32-byte key under `kek` (40 bytes out). */
function wrapKey(kek: Buffer, material: Buffer): Buffer {
  const cipher = createCipheriv('id-aes256-wrap-pad', kek, KEY_WRAP_PAD_IV);
  return Buffer.concat([cipher.update(material), cipher.final()]);
}

function unwrapKey(kek: Buffer, blob: Buffer): Buffer {
  checkBlob(blob);
  let parts: Buffer[] = [];
  try {
    const decipher = createDecipheriv('id-aes256-wrap-pad', kek, KEY_WRAP_PAD_IV);
    parts = [decipher.update(blob), decipher.final()];
  } catch {
    for (const part of parts) part.fill(0);
    throw new HsmIntegrityError('The wrapped key does not authenticate under this wrapping key');
  }
  const material = Buffer.concat(parts);
  for (const part of parts) part.fill(0);
  if (material.length !== AES_256_KEY_BYTES) {
    material.fill(0);
    throw new HsmIntegrityError('The wrapped key is not an AES-256 key');
  }
  return material;
}

interface State {
  readonly masterKey: Buffer;
  /** label → key material in clear (this is the emulator's "inside of the HSM"). */
  readonly keys: Map<string, Buffer>;
  /** label → the same material sealed under the master key, as persisted. */
  readonly sealed: Map<string, string>;
}

/**
 * The keys of one directory, shared by every SoftHsm of the process on that directory (so two
 * instances never overwrite each other's changes). Loaded on first use; a failed load is retried by
 * the next call. Writes are serialized.
 */
class SoftKeyStore {
  private readonly writes = new SerialQueue();
  private ready: Promise<State> | undefined;
  users = 0;

  constructor(readonly directory: string) {}

  state(): Promise<State> {
    this.ready ??= this.load().catch((error: unknown) => {
      this.ready = undefined;
      throw error instanceof HsmError ? error : new HsmUnavailableError(`The soft HSM cannot open: ${(error as Error).message}`);
    });
    return this.ready;
  }

  /** Add a token key; the store takes ownership of `material` (zeroed if refused). */
  async add(label: string, material: Buffer): Promise<void> {
    let state: State;
    try {
      state = await this.state();
    } catch (error) {
      material.fill(0);
      throw error;
    }
    await this.writes.run(async () => {
      try {
        if (state.keys.has(label)) throw new HsmKeyExistsError(label);
        const entry = seal(state.masterKey, material, entryAad(label)).toString('base64');
        await this.persist(new Map(state.sealed).set(label, entry));
        state.sealed.set(label, entry);
        state.keys.set(label, material);
      } catch (error) {
        material.fill(0);
        throw error;
      }
    });
  }

  async remove(label: string): Promise<void> {
    const state = await this.state();
    await this.writes.run(async () => {
      const material = state.keys.get(label);
      if (!material) throw new HsmKeyNotFoundError(label);
      const next = new Map(state.sealed);
      next.delete(label);
      await this.persist(next);
      state.sealed.delete(label);
      state.keys.delete(label);
      material.fill(0);
    });
  }

  /** Zero everything once the writes in progress are done. */
  async wipe(): Promise<void> {
    await this.writes.drain();
    const ready = this.ready;
    this.ready = undefined;
    const state = await ready?.catch(() => undefined);
    if (!state) return;
    for (const material of state.keys.values()) material.fill(0);
    state.keys.clear();
    state.sealed.clear();
    state.masterKey.fill(0);
  }

  private async load(): Promise<State> {
    const directory = this.directory;
    await ensurePrivateDirectory(directory);
    await removeStaleTemps(directory, KEYS_FILE);
    const masterKey = await loadOrCreateMasterKey(directory);
    const keys = new Map<string, Buffer>();
    const sealed = new Map<string, string>();
    try {
      const raw = await readFileIfExists(join(directory, KEYS_FILE));
      if (raw) {
        const parsed = KeysFile.safeParse(JSON.parse(raw.toString('utf8')));
        if (!parsed.success) throw new Error(`${KEYS_FILE} is not a soft HSM key file`);
        for (const { label, sealed: entry } of parsed.data.keys) {
          if (keys.has(label)) throw new Error(`${KEYS_FILE} holds the key ${label} twice`);
          try {
            keys.set(label, open(masterKey, Buffer.from(entry, 'base64'), entryAad(label)));
          } catch {
            throw new Error(`the key ${label} in ${KEYS_FILE} does not open under master.key (wrong master key or edited file)`);
          }
          sealed.set(label, entry);
        }
      }
    } catch (error) {
      for (const material of keys.values()) material.fill(0);
      masterKey.fill(0);
      throw error;
    }
    return { masterKey, keys, sealed };
  }

  private async persist(sealed: ReadonlyMap<string, string>): Promise<void> {
    const keys = [...sealed].map(([label, entry]) => ({ label, sealed: entry }));
    const body = { format: KEYS_FORMAT, version: 1, keys } satisfies z.input<typeof KeysFile>;
    await writeFileAtomic(this.directory, KEYS_FILE, Buffer.from(JSON.stringify(body), 'utf8'));
  }
}

/** The process's key stores, one per directory (resolved path). */
const stores = new Map<string, SoftKeyStore>();

function acquireStore(directory: string): SoftKeyStore {
  const path = resolve(directory);
  let store = stores.get(path);
  if (!store) {
    store = new SoftKeyStore(path);
    stores.set(path, store);
  }
  store.users += 1;
  return store;
}

async function releaseStore(store: SoftKeyStore): Promise<void> {
  store.users -= 1;
  if (store.users > 0) return;
  stores.delete(store.directory);
  await store.wipe();
}

/**
 * The local HSM emulator (pure node:crypto), what `npm start` uses. Keys live in memory and in
 * `<directory>/keys.json`, each sealed with AES-256-GCM under the master key of
 * `<directory>/master.key` (32 random bytes, mode 0600, created on first use) and bound to its label.
 * Wrapped keys are RFC 5649 blobs (the same kind as on PKCS#11); data is AES-256-GCM
 * `nonce || ciphertext || tag`. Writes are atomic (temp + fsync + rename) and serialized; every
 * instance of the process on one directory shares its keys. Two PROCESSES must not share a directory.
 */
export class SoftHsm implements Hsm {
  readonly backend = 'soft';
  private readonly store: SoftKeyStore;
  private closed = false;

  constructor(options: SoftHsmOptions) {
    this.store = acquireStore(options.directory);
  }

  /** Load (or create) the master key and the keys now instead of on the first call. */
  async open(): Promise<void> {
    await this.state();
  }

  async generateKey(label: string): Promise<void> {
    checkLabel(label);
    this.assertOpen();
    await this.store.add(label, randomBytes(AES_256_KEY_BYTES));
  }

  async importKey(label: string, material: Buffer): Promise<void> {
    checkLabel(label);
    checkMaterial(material);
    this.assertOpen();
    await this.store.add(label, Buffer.from(material));
  }

  async hasKey(label: string): Promise<boolean> {
    checkLabel(label);
    return (await this.state()).keys.has(label);
  }

  async destroyKey(label: string): Promise<void> {
    checkLabel(label);
    this.assertOpen();
    await this.store.remove(label);
  }

  async generateWrappedKey(wrappingLabel: string): Promise<Buffer> {
    checkLabel(wrappingLabel);
    const kek = key(await this.state(), wrappingLabel);
    const material = randomBytes(AES_256_KEY_BYTES);
    try {
      return wrapKey(kek, material);
    } finally {
      material.fill(0);
    }
  }

  async importWrappedKey(wrappingLabel: string, material: Buffer): Promise<Buffer> {
    checkLabel(wrappingLabel);
    checkMaterial(material);
    return wrapKey(key(await this.state(), wrappingLabel), material);
  }

  async encrypt(ref: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    checkKeyRef(ref);
    return withKey(await this.state(), ref, (material) => seal(material, plaintext, aad));
  }

  async decrypt(ref: KeyRef, sealed: Buffer, aad?: Buffer): Promise<Buffer> {
    checkKeyRef(ref);
    checkSealed(sealed);
    return withKey(await this.state(), ref, (material) => open(material, sealed, aad));
  }

  /** Nothing to drop: a wrapped key is unwrapped for each call and zeroed right after it. */
  async forget(ref: KeyRef): Promise<void> {
    checkKeyRef(ref);
    this.assertOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releaseStore(this.store);
  }

  private assertOpen(): void {
    if (this.closed) throw new HsmUnavailableError('The soft HSM is closed');
  }

  private async state(): Promise<State> {
    this.assertOpen();
    return this.store.state();
  }
}

function key(state: State, label: string): Buffer {
  const material = state.keys.get(label);
  if (!material) throw new HsmKeyNotFoundError(label);
  return material;
}

/** Run `use` with the key's material; an unwrapped key is zeroed afterwards. */
function withKey<T>(state: State, ref: KeyRef, use: (material: Buffer) => T): T {
  if ('label' in ref) return use(key(state, ref.label));
  const material = unwrapKey(key(state, ref.wrappedBy), ref.blob);
  try {
    return use(material);
  } finally {
    material.fill(0);
  }
}
