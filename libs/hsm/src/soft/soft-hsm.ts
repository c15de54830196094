import { batchedRandomBytes, type DurableFiles, type KeyProtector } from '@sealbox/platform';
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
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
import {
  ensurePrivateDirectory,
  loadOrCreateMasterKey,
  MASTER_KEY_FILE,
  readFileIfExists,
  readMasterKey,
  removeFileDurably,
  removeStaleTemps,
  writeFileAtomic,
} from './files.js';
import { SerialQueue } from '../internal/serial-queue.js';

export interface SoftHsmOptions {
  /** Directory holding `keys.json` (and, without a protector, `master.key`), created with mode 0700. */
  readonly directory: string;
  /**
   * The unsealed key store (libs/platform seal): the master key is then kept only wrapped by it,
   * inside keys.json (version 2), never in clear on disk; a clear `master.key` of an older version
   * is migrated on open. Without one (tests, tools), the master key is the clear `master.key` file.
   */
  readonly protector?: KeyProtector;
  /** How keys.json is replaced (tests inject a failing step to simulate a crash). */
  readonly files?: Pick<DurableFiles, 'writeAtomic'>;
}

const KEYS_FILE = 'keys.json';
const KEYS_FORMAT = 'sealbox-soft-hsm';
/** RFC 5649 alternative initial value: node's `id-aes256-wrap-pad` takes its 4-byte prefix. */
const KEY_WRAP_PAD_IV = Buffer.from('a65959a6', 'hex');

/** `sealed` = base64(nonce || AES-256-GCM(master key, material, AAD = entryAad(label)) || tag) */
const KeyEntries = z.array(z.object({ label: z.string(), sealed: z.string() }));
const KeysFile = z.discriminatedUnion('version', [
  /** The master key in clear in `master.key` beside this file. */
  z.object({ format: z.literal(KEYS_FORMAT), version: z.literal(1), keys: KeyEntries }),
  /** The master key wrapped by the key store's root key (`protector`), in this file: one atomic write rotates it. */
  z.object({ format: z.literal(KEYS_FORMAT), version: z.literal(2), masterKey: z.string().min(1), keys: KeyEntries }),
]);
type KeysFile = z.infer<typeof KeysFile>;
/** The purpose the soft HSM's master key is wrapped for by the key store. */
export const SOFT_HSM_MASTER_KEY_PURPOSE = 'soft-hsm/master-key';

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
  masterKey: Buffer;
  /** The master key as wrapped by the protector (version 2), written with every change. */
  wrappedMasterKey: string | undefined;
  /** label → key material in clear (this is the emulator's "inside of the HSM"). */
  readonly keys: Map<string, Buffer>;
  /** label → the same material sealed under the master key, as persisted. */
  sealed: Map<string, string>;
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

  constructor(
    readonly directory: string,
    private readonly protector: KeyProtector | undefined,
    private readonly files: Pick<DurableFiles, 'writeAtomic'> | undefined,
  ) {}

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
        await this.persist(new Map(state.sealed).set(label, entry), state.wrappedMasterKey);
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
      await this.persist(next, state.wrappedMasterKey);
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

  /**
   * A new master key: every key re-sealed under it and keys.json replaced in one atomic write (the
   * new wrapped master key is in the same file), so a crash leaves the old or the new set, both
   * whole. Needs the protector. Returns how many keys were re-sealed.
   */
  async rotateMasterKey(): Promise<number> {
    const protector = this.protector;
    if (!protector) throw new HsmError('Rotating the master key needs the sealed key store (a protector)');
    const state = await this.state();
    return this.writes.run(async () => {
      const fresh = randomBytes(AES_256_KEY_BYTES);
      try {
        const sealed = new Map<string, string>();
        for (const [label, material] of state.keys) sealed.set(label, seal(fresh, material, entryAad(label)).toString('base64'));
        const wrapped = protector.wrap(fresh, SOFT_HSM_MASTER_KEY_PURPOSE).toString('base64');
        await this.persist(sealed, wrapped);
        state.masterKey.fill(0);
        state.masterKey = fresh;
        state.wrappedMasterKey = wrapped;
        state.sealed = sealed;
        return sealed.size;
      } catch (error) {
        fresh.fill(0);
        throw error;
      }
    });
  }

  private async load(): Promise<State> {
    const directory = this.directory;
    await ensurePrivateDirectory(directory);
    await removeStaleTemps(directory, KEYS_FILE);
    const raw = await readFileIfExists(join(directory, KEYS_FILE));
    let file: KeysFile | undefined;
    if (raw) {
      const parsed = KeysFile.safeParse(JSON.parse(raw.toString('utf8')));
      if (!parsed.success) throw new Error(`${KEYS_FILE} is not a soft HSM key file`);
      file = parsed.data;
    }
    const { masterKey, wrappedMasterKey, migrateFrom } = await this.masterKeyOf(file);
    const keys = new Map<string, Buffer>();
    const sealed = new Map<string, string>();
    try {
      for (const { label, sealed: entry } of file?.keys ?? []) {
        if (keys.has(label)) throw new Error(`${KEYS_FILE} holds the key ${label} twice`);
        try {
          keys.set(label, open(masterKey, Buffer.from(entry, 'base64'), entryAad(label)));
        } catch {
          throw new Error(`the key ${label} in ${KEYS_FILE} does not open under the master key (wrong master key or edited file)`);
        }
        sealed.set(label, entry);
      }
      if (migrateFrom !== undefined) {
        // Clear master key of an older version: keys.json (version 2) takes it wrapped first, then
        // the clear file goes; a crash in between is finished by the next open (see masterKeyOf).
        await this.persist(sealed, wrappedMasterKey);
        if (migrateFrom) await removeFileDurably(directory, MASTER_KEY_FILE);
      }
    } catch (error) {
      for (const material of keys.values()) material.fill(0);
      masterKey.fill(0);
      throw error;
    }
    return { masterKey, wrappedMasterKey, keys, sealed };
  }

  /** The master key of `file`; `migrateFrom` set when keys.json must be rewritten as version 2 (true: a clear master.key to delete after). */
  private async masterKeyOf(file: KeysFile | undefined): Promise<{ masterKey: Buffer; wrappedMasterKey: string | undefined; migrateFrom?: boolean }> {
    const protector = this.protector;
    if (!protector) {
      if (file?.version === 2) throw new Error(`${KEYS_FILE} is sealed: the soft HSM needs the unsealed key store`);
      return { masterKey: await loadOrCreateMasterKey(this.directory), wrappedMasterKey: undefined };
    }
    const clear = await readMasterKey(join(this.directory, MASTER_KEY_FILE));
    if (file?.version === 2) {
      let masterKey: Buffer;
      try {
        masterKey = protector.unwrap(Buffer.from(file.masterKey, 'base64'), SOFT_HSM_MASTER_KEY_PURPOSE);
      } catch (error) {
        clear?.fill(0);
        throw error;
      }
      if (clear) {
        const same = timingSafeEqual(clear, masterKey);
        clear.fill(0);
        if (!same) {
          masterKey.fill(0);
          throw new Error(`${MASTER_KEY_FILE} is not the master key of ${KEYS_FILE}: remove the one that is wrong`);
        }
        await removeFileDurably(this.directory, MASTER_KEY_FILE);
      }
      return { masterKey, wrappedMasterKey: file.masterKey };
    }
    const masterKey = clear ?? randomBytes(AES_256_KEY_BYTES);
    return {
      masterKey,
      wrappedMasterKey: protector.wrap(masterKey, SOFT_HSM_MASTER_KEY_PURPOSE).toString('base64'),
      migrateFrom: clear !== undefined,
    };
  }

  private async persist(sealed: ReadonlyMap<string, string>, wrappedMasterKey: string | undefined): Promise<void> {
    const keys = [...sealed].map(([label, entry]) => ({ label, sealed: entry }));
    const body: z.input<typeof KeysFile> = wrappedMasterKey
      ? { format: KEYS_FORMAT, version: 2, masterKey: wrappedMasterKey, keys }
      : { format: KEYS_FORMAT, version: 1, keys };
    const data = Buffer.from(JSON.stringify(body), 'utf8');
    if (this.files) await this.files.writeAtomic(join(this.directory, KEYS_FILE), data);
    else await writeFileAtomic(this.directory, KEYS_FILE, data);
  }
}

/** The process's key stores, one per directory (resolved path). */
const stores = new Map<string, SoftKeyStore>();

function acquireStore(options: SoftHsmOptions): SoftKeyStore {
  const path = resolve(options.directory);
  let store = stores.get(path);
  if (!store) {
    store = new SoftKeyStore(path, options.protector, options.files);
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
 * `<directory>/keys.json`, each sealed with AES-256-GCM under the master key (32 random bytes) and
 * bound to its label. The master key is kept wrapped by the key store's root key inside keys.json
 * when a protector is given (standalone), else in `<directory>/master.key` (mode 0600).
 * Wrapped keys are RFC 5649 blobs (the same kind as on PKCS#11); data is AES-256-GCM
 * `nonce || ciphertext || tag`. Writes are atomic (temp + fsync + rename) and serialized; every
 * instance of the process on one directory shares its keys. Two PROCESSES must not share a directory.
 */
export class SoftHsm implements Hsm {
  readonly backend = 'soft';
  private readonly store: SoftKeyStore;
  private closed = false;

  constructor(options: SoftHsmOptions) {
    this.store = acquireStore(options);
  }

  /** Load (or create) the master key and the keys now instead of on the first call. */
  async open(): Promise<void> {
    await this.state();
  }

  /** See SoftKeyStore.rotateMasterKey: every key re-sealed under a new master key, crash-safely. */
  async rotateMasterKey(): Promise<number> {
    this.assertOpen();
    return this.store.rotateMasterKey();
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
