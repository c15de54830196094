import { batchedRandomBytes, Clock, SystemClock } from '@sealbox/platform';
import pkcs11js from 'pkcs11js';
import {
  AES_256_KEY_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  HsmError,
  HsmIntegrityError,
  HsmKeyExistsError,
  HsmKeyNotFoundError,
  HsmUnavailableError,
  WRAPPED_KEY_BYTES,
  type Hsm,
  type KeyRef,
} from '../hsm.js';
import { Semaphore } from '../internal/semaphore.js';
import { checkKeyRef, checkLabel, checkMaterial, checkSealed } from '../validation.js';
import {
  ckr,
  DATA_INVALID,
  HANDLE_INVALID,
  LOGIN_REFUSED,
  ModuleResetError,
  toHsmError,
  WRAPPED_INVALID,
} from './errors.js';
import { SessionKeys, wrappedKeyId, type SessionKeyLimits } from './session-keys.js';
import { processModules, type Lease, type ModuleRegistry, type Pkcs11Module, type SharedModule } from './shared-module.js';

type Handle = Buffer;

export interface Pkcs11HsmOptions {
  /** Path of the PKCS#11 module (default: SoftHSM2 from Debian's `softhsm2`). */
  readonly library?: string;
  /** Label of the token holding the keys (slot ids change when a token is initialized). */
  readonly tokenLabel: string;
  /** User PIN of the token. */
  readonly pin: string;
  /** Sessions kept open for concurrent calls (default 4); each call borrows one exclusively. */
  readonly maxSessions?: number;
  /** Unwrapped keys each session keeps (default 32; 0: unwrap and destroy on every call). */
  readonly unwrappedKeysPerSession?: number;
  /** Longest an unwrapped key is kept, in ms (default 30 000). */
  readonly unwrappedKeyMaxAgeMs?: number;
  /** Time of the unwrapped keys' age (default: the system clock). */
  readonly clock?: Clock;
}

export const DEFAULT_PKCS11_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
export const DEFAULT_PKCS11_SESSIONS = 4;
export const DEFAULT_UNWRAPPED_KEYS_PER_SESSION = 32;
export const DEFAULT_UNWRAPPED_KEY_MAX_AGE_MS = 30_000;

/** Key attributes shared by every AES-256 key the backend makes. */
const AES_SECRET_KEY: pkcs11js.Template = [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
];

/** A persistent, private, non-extractable token key that can encrypt, decrypt, wrap and unwrap. */
function tokenKeyTemplate(label: string): pkcs11js.Template {
  return [
    ...AES_SECRET_KEY,
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_MODIFIABLE, value: false },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
  ];
}

/** A transient key that only exists to be wrapped (extractable, but never readable in clear). */
const WRAPPABLE_SESSION_KEY: pkcs11js.Template = [
  ...AES_SECRET_KEY,
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  { type: pkcs11js.CKA_ENCRYPT, value: true },
  { type: pkcs11js.CKA_DECRYPT, value: true },
];

/** What a wrapped key becomes while it is used: a non-extractable session object. */
const UNWRAPPED_SESSION_KEY: pkcs11js.Template = [
  ...AES_SECRET_KEY,
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_ENCRYPT, value: true },
  { type: pkcs11js.CKA_DECRYPT, value: true },
];

const KEY_GEN: pkcs11js.Mechanism = { mechanism: pkcs11js.CKM_AES_KEY_GEN };
const KEY_WRAP_PAD: pkcs11js.Mechanism = { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD };

/** CKM_AES_GCM: 96-bit IV, 128-bit tag. CK_PARAMS_GCM fills every field of CK_GCM_PARAMS (ulIvBits too). */
function gcm(nonce: Buffer, aad: Buffer | undefined): pkcs11js.Mechanism {
  const parameter: pkcs11js.GcmParams = {
    type: pkcs11js.CK_PARAMS_GCM,
    iv: nonce,
    ivBits: GCM_NONCE_BYTES * 8,
    tagBits: GCM_TAG_BYTES * 8,
    ...(aad && aad.length > 0 ? { aad } : {}),
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

interface PooledSession {
  readonly handle: Handle;
  readonly generation: number;
  /** The wrapped keys this session has unwrapped and keeps. */
  readonly keys: SessionKeys;
}

/** What an operation runs with: the module, one session of its own and the token's slot. */
interface Call {
  readonly module: Pkcs11Module;
  readonly session: Handle;
  readonly pooled: PooledSession;
  readonly slot: Handle;
  readonly generation: number;
}

/**
 * The HSM port on any PKCS#11 module (SoftHSM2 in dev/CI). Keys stay in the token: token keys are
 * non-extractable, sensitive objects found by label; wrapped keys are unwrapped
 * (CKM_AES_KEY_WRAP_PAD) into non-extractable, sensitive session objects, which each session keeps
 * for its next calls (`SessionKeys`: at most `unwrappedKeysPerSession` per session, least recently
 * used first out, none older than `unwrappedKeyMaxAgeMs`); data is sealed with CKM_AES_GCM (random
 * 96-bit nonce from node:crypto, 128-bit tag). `forget` and `destroyKey` (by any backend of the
 * process) drop the kept keys at once: they are never used again, and their objects are destroyed as
 * soon as their session is idle (or with it: a closed session, a re-initialized module, `close`).
 *
 * Concurrency: up to `maxSessions` sessions (logged in as CKU_USER), each call borrows one
 * exclusively; crypto calls run on libuv threads (`C_*Async`), so the event loop never waits on
 * the token. Recovery: a module/token/session failure answers HsmUnavailableError, and the module is
 * initialized again (sessions reopened, slot found again by label) on a later call.
 */
export class Pkcs11Hsm implements Hsm {
  readonly backend = 'pkcs11';
  private readonly shared: SharedModule;
  private readonly permits: Semaphore;
  private idle: PooledSession[] = [];
  /**
   * A session that only holds the login: closing the application's last session logs the user out,
   * and SoftHSM2 then drops every handle of a private object (the handle cache would go stale).
   */
  private anchor: PooledSession | undefined;
  private slot: { readonly handle: Handle; readonly generation: number } | undefined;
  private loginRefused: string | undefined;
  private closed = false;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  /** Operation sessions lent to a call right now (the idle ones are in `idle`). */
  private readonly borrowed = new Set<PooledSession>();
  private readonly keyLimits: SessionKeyLimits;
  private readonly clock: Clock;
  private readonly stopForgetting: () => void;
  /** Destroys expired unwrapped keys of idle sessions; runs while any session keeps keys. */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: Pkcs11HsmOptions,
    modules: ModuleRegistry = processModules,
  ) {
    this.shared = modules.get(options.library ?? DEFAULT_PKCS11_LIBRARY);
    this.shared.addUser();
    this.permits = new Semaphore(options.maxSessions ?? DEFAULT_PKCS11_SESSIONS);
    this.keyLimits = {
      maxPerSession: options.unwrappedKeysPerSession ?? DEFAULT_UNWRAPPED_KEYS_PER_SESSION,
      maxAgeMs: options.unwrappedKeyMaxAgeMs ?? DEFAULT_UNWRAPPED_KEY_MAX_AGE_MS,
    };
    this.clock = options.clock ?? new SystemClock();
    this.stopForgetting = this.shared.onForget((tokenLabel, wrappedBy, id) => {
      if (tokenLabel === this.options.tokenLabel) this.drop(wrappedBy, id);
    });
  }

  /** Connect now (module, token, login) and check the token answers; also a health probe. */
  async open(): Promise<void> {
    await this.withSession('check the token', async (call) => {
      this.assertTokenPresent(call);
    });
  }

  async generateKey(label: string): Promise<void> {
    checkLabel(label);
    await this.shared.labels.run(this.cacheKey(label), () =>
      this.withSession('generate a key', async (call) => {
        if (this.find(call, label)) throw new HsmKeyExistsError(label);
        const handle = await call.module.C_GenerateKeyAsync(call.session, KEY_GEN, [
          ...tokenKeyTemplate(label),
          { type: pkcs11js.CKA_VALUE_LEN, value: AES_256_KEY_BYTES },
        ]);
        this.remember(call, label, handle);
      }),
    );
  }

  async importKey(label: string, material: Buffer): Promise<void> {
    checkLabel(label);
    checkMaterial(material);
    await this.shared.labels.run(this.cacheKey(label), () =>
      this.withSession('import a key', async (call) => {
        if (this.find(call, label)) throw new HsmKeyExistsError(label);
        const handle = call.module.C_CreateObject(call.session, [
          ...tokenKeyTemplate(label),
          { type: pkcs11js.CKA_VALUE, value: material },
        ]);
        this.remember(call, label, handle);
      }),
    );
  }

  async hasKey(label: string): Promise<boolean> {
    checkLabel(label);
    return this.withSession('find a key', async (call) => {
      const handle = this.find(call, label);
      if (handle) {
        this.remember(call, label, handle);
        return true;
      }
      this.assertTokenPresent(call);
      return false;
    });
  }

  async destroyKey(label: string): Promise<void> {
    checkLabel(label);
    await this.shared.labels.run(this.cacheKey(label), () =>
      this.withSession('destroy a key', async (call) => {
        this.forgetHandle(label);
        // Every key unwrapped under it, in every backend of the process, stops being used now.
        this.shared.forgetWrapped(this.options.tokenLabel, label);
        const handle = this.find(call, label);
        if (!handle) {
          this.assertTokenPresent(call);
          throw new HsmKeyNotFoundError(label);
        }
        call.module.C_DestroyObject(call.session, handle);
      }),
    );
  }

  async generateWrappedKey(wrappingLabel: string): Promise<Buffer> {
    checkLabel(wrappingLabel);
    return this.withSession('generate a wrapped key', (call) =>
      this.withTokenKey(call, wrappingLabel, async (kek) => {
        const key = await call.module.C_GenerateKeyAsync(call.session, KEY_GEN, [
          ...WRAPPABLE_SESSION_KEY,
          { type: pkcs11js.CKA_VALUE_LEN, value: AES_256_KEY_BYTES },
        ]);
        return this.wrapAndDestroy(call, kek, key);
      }),
    );
  }

  async importWrappedKey(wrappingLabel: string, material: Buffer): Promise<Buffer> {
    checkLabel(wrappingLabel);
    checkMaterial(material);
    return this.withSession('wrap a key', (call) =>
      this.withTokenKey(call, wrappingLabel, async (kek) => {
        const key = call.module.C_CreateObject(call.session, [
          ...WRAPPABLE_SESSION_KEY,
          { type: pkcs11js.CKA_VALUE, value: material },
        ]);
        return this.wrapAndDestroy(call, kek, key);
      }),
    );
  }

  async encrypt(key: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
    checkKeyRef(key);
    return this.withSession('encrypt', (call) =>
      this.withKey(call, key, async (handle) => {
        const nonce = batchedRandomBytes(GCM_NONCE_BYTES);
        const sealed = Buffer.alloc(GCM_NONCE_BYTES + plaintext.length + GCM_TAG_BYTES);
        nonce.copy(sealed);
        call.module.C_EncryptInit(call.session, gcm(nonce, aad), handle);
        // An empty input is refused by C_Encrypt (CKR_ARGUMENTS_BAD); C_EncryptFinal alone gives the tag.
        const out =
          plaintext.length === 0
            ? call.module.C_EncryptFinal(call.session, sealed.subarray(GCM_NONCE_BYTES))
            : await call.module.C_EncryptAsync(call.session, plaintext, sealed.subarray(GCM_NONCE_BYTES));
        if (out.length !== plaintext.length + GCM_TAG_BYTES) throw new HsmError('The HSM returned a ciphertext of an unexpected size');
        return sealed;
      }),
    );
  }

  async decrypt(key: KeyRef, sealed: Buffer, aad?: Buffer): Promise<Buffer> {
    checkKeyRef(key);
    checkSealed(sealed);
    return this.withSession('decrypt', (call) =>
      this.withKey(call, key, async (handle) => {
        const nonce = sealed.subarray(0, GCM_NONCE_BYTES);
        const body = sealed.subarray(GCM_NONCE_BYTES);
        const out = Buffer.alloc(body.length);
        call.module.C_DecryptInit(call.session, gcm(nonce, aad), handle);
        let plaintext: Buffer;
        try {
          plaintext = await call.module.C_DecryptAsync(call.session, body, out);
        } catch (error) {
          out.fill(0);
          throw this.integrityOr(call, error, DATA_INVALID, 'The data does not authenticate under this key');
        }
        if (plaintext.length !== body.length - GCM_TAG_BYTES) {
          out.fill(0);
          throw new HsmError('The HSM returned a plaintext of an unexpected size');
        }
        return plaintext;
      }),
    );
  }

  /**
   * Drop the unwrapped keys kept for `key`: a wrapped key's blob, or every key wrapped under the token
   * key `label`, in every backend of the process. None is used once this returns (the next call
   * unwraps again); their objects are destroyed now in idle sessions, else when their call ends.
   */
  async forget(key: KeyRef): Promise<void> {
    checkKeyRef(key);
    if ('label' in key) this.shared.forgetWrapped(this.options.tokenLabel, key.label);
    else this.shared.forgetWrapped(this.options.tokenLabel, key.wrappedBy, wrappedKeyId(key.wrappedBy, key.blob));
    await this.purgeIdle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopForgetting();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    const idle = this.idle;
    this.idle = [];
    if (this.anchor) idle.push(this.anchor);
    this.anchor = undefined;
    if (idle.length > 0) {
      try {
        const lease = await this.shared.acquire();
        try {
          for (const session of idle) this.closeSession(lease, session);
        } finally {
          this.shared.release();
        }
      } catch {
        // The module is gone: its sessions went with it.
      }
    }
    this.shared.removeUser();
  }

  // --- sessions -------------------------------------------------------------------------------

  /**
   * Run `operation` with a session of its own. PKCS#11 failures become HsmErrors; a failed session
   * is closed (an operation may still be active on it), and a module failure re-initializes the module.
   */
  private async withSession<T>(action: string, operation: (call: Call) => Promise<T>): Promise<T> {
    if (this.closed) throw new HsmUnavailableError('The HSM backend is closed');
    if (this.loginRefused) throw new HsmUnavailableError(this.loginRefused);
    this.inFlight += 1;
    await this.permits.acquire();
    try {
      const { lease, slot } = await this.connect();
      let session: PooledSession | undefined;
      try {
        session = this.borrow(lease, slot);
        const result = await operation({ module: lease.module, session: session.handle, pooled: session, slot, generation: lease.generation });
        this.giveBack(lease, session);
        return result;
      } catch (error) {
        const failure = toHsmError(error, action);
        if (failure instanceof ModuleResetError) {
          this.shared.invalidate(lease.generation);
        } else if (session && !(failure instanceof HsmKeyNotFoundError || failure instanceof HsmKeyExistsError)) {
          this.closeSession(lease, session);
        } else if (session) {
          this.giveBack(lease, session);
        }
        throw failure;
      } finally {
        this.shared.release();
      }
    } finally {
      this.permits.release();
      this.inFlight -= 1;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  /**
   * A lease on the module and the token's slot in this generation, found by label. A token the
   * module does not list may be new or back: SoftHSM2 only sees it after a new C_Initialize, so the
   * module is re-initialized and the token looked up once more before answering "unavailable".
   */
  private async connect(): Promise<{ lease: Lease; slot: Handle }> {
    for (let attempt = 1; ; attempt += 1) {
      const lease = await this.shared.acquire();
      if (this.slot?.generation === lease.generation && this.anchor?.generation === lease.generation) {
        return { lease, slot: this.slot.handle };
      }
      let failure: HsmError;
      try {
        const handle = this.slot?.generation === lease.generation ? this.slot.handle : this.findSlot(lease.module);
        if (handle) {
          this.slot = { handle, generation: lease.generation };
          this.logIn(lease, handle);
          return { lease, slot: handle };
        }
        failure = new ModuleResetError(`The HSM is unavailable (no token labelled ${this.options.tokenLabel})`);
      } catch (error) {
        failure = toHsmError(error, 'find the token');
      }
      if (failure instanceof ModuleResetError) this.shared.invalidate(lease.generation);
      this.shared.release();
      if (attempt > 1 || !(failure instanceof ModuleResetError)) throw failure;
    }
  }

  private findSlot(module: Pkcs11Module): Handle | undefined {
    for (const slot of module.C_GetSlotList(true)) {
      if (module.C_GetTokenInfo(slot).label.trim() === this.options.tokenLabel) return slot;
    }
    return undefined;
  }

  /** Open this generation's anchor session and log the user in (once per token and application). */
  private logIn(lease: Lease, slot: Handle): void {
    if (this.anchor?.generation === lease.generation) return;
    const handle = lease.module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      lease.module.C_Login(handle, pkcs11js.CKU_USER, this.options.pin);
    } catch (error) {
      const code = ckr(error);
      if (code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        this.closeSession(lease, { handle, generation: lease.generation, keys: new SessionKeys(this.keyLimits) });
        if (code !== undefined && LOGIN_REFUSED.has(code)) this.loginRefused = toHsmError(error, 'log in').message;
        throw error;
      }
    }
    this.anchor = { handle, generation: lease.generation, keys: new SessionKeys({ maxPerSession: 0, maxAgeMs: 0 }) };
  }

  private borrow(lease: Lease, slot: Handle): PooledSession {
    // Sessions of an earlier generation died with C_Finalize (their objects too).
    for (const session of this.idle) if (session.generation !== lease.generation) session.keys.clear();
    this.idle = this.idle.filter((session) => session.generation === lease.generation);
    const session = this.idle.pop() ?? this.openSession(lease, slot);
    this.borrowed.add(session);
    return session;
  }

  private openSession(lease: Lease, slot: Handle): PooledSession {
    const handle = lease.module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    return { handle, generation: lease.generation, keys: new SessionKeys(this.keyLimits) };
  }

  private giveBack(lease: Lease, session: PooledSession): void {
    this.borrowed.delete(session);
    if (this.closed || session.generation !== lease.generation) {
      this.closeSession(lease, session);
      return;
    }
    session.keys.purge(this.clock.nowMs(), this.destroyer(lease, session));
    this.idle.push(session);
  }

  private closeSession(lease: Lease, session: PooledSession): void {
    this.borrowed.delete(session);
    // Session objects die with their session.
    session.keys.clear();
    if (session.generation !== lease.generation) return;
    try {
      lease.module.C_CloseSession(session.handle);
    } catch {
      // Closed already; nothing else to release.
    }
  }

  /** C_DestroyObject on `session`, ignoring failures (the object or the session may be gone). */
  private destroyer(lease: Lease, session: PooledSession): (handle: Handle) => void {
    return (handle) => {
      if (session.generation !== lease.generation) return;
      try {
        lease.module.C_DestroyObject(session.handle, handle);
      } catch {
        // Gone already (with its session, or the module).
      }
    };
  }

  // --- unwrapped keys ------------------------------------------------------------------------

  /** Mark the kept keys of `wrappedBy` (only `id`, or all) dropped, in every session, then destroy what idle sessions hold. */
  private drop(wrappedBy: string, id?: string): void {
    const matches = (entryId: string, entryWrappedBy: string) => entryWrappedBy === wrappedBy && (id === undefined || entryId === id);
    for (const session of [...this.idle, ...this.borrowed]) session.keys.drop(matches);
    void this.purgeIdle();
  }

  /** Destroy the objects of dropped and expired keys in the idle sessions (the borrowed ones do it when given back). */
  private async purgeIdle(): Promise<void> {
    const now = this.clock.nowMs();
    if (this.closed || !this.idle.some((session) => session.keys.needsPurge(now))) return;
    let lease: Lease;
    try {
      lease = await this.shared.acquire();
    } catch {
      // The module is gone: its sessions and their objects went with it.
      return;
    }
    try {
      for (const session of this.idle) session.keys.purge(this.clock.nowMs(), this.destroyer(lease, session));
    } finally {
      this.shared.release();
    }
  }

  /** While sessions keep keys, destroy the expired ones of idle sessions even when no call comes. */
  private startSweeper(): void {
    if (this.sweeper || this.closed) return;
    this.sweeper = setInterval(() => void this.purgeIdle(), Math.max(1000, Math.min(this.keyLimits.maxAgeMs, 10_000)));
    this.sweeper.unref();
  }

  // --- keys -----------------------------------------------------------------------------------

  private cacheKey(label: string): string {
    return `${this.options.tokenLabel}\u0000${label}`;
  }

  private remember(call: Call, label: string, handle: Handle): void {
    if (call.generation === this.shared.generation) this.shared.handles.set(this.cacheKey(label), handle);
  }

  private forgetHandle(label: string): void {
    this.shared.handles.delete(this.cacheKey(label));
  }

  /** The token key labelled `label`, searched in the token (not the cache). */
  private find(call: Call, label: string): Handle | undefined {
    call.module.C_FindObjectsInit(call.session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    try {
      return call.module.C_FindObjects(call.session, 1)[0];
    } finally {
      call.module.C_FindObjectsFinal(call.session);
    }
  }

  /**
   * A token lists no objects once it is gone (SoftHSM2 when its directory disappears): before
   * answering "no such key", make sure the token still answers.
   */
  private assertTokenPresent(call: Call): void {
    call.module.C_GetTokenInfo(call.slot);
  }

  /**
   * Run `use` with the handle of a token key. Handles are cached per process; a cached handle that
   * no longer names an object (destroyed by another backend or process) is looked up once more.
   */
  private async withTokenKey<T>(call: Call, label: string, use: (handle: Handle) => Promise<T>): Promise<T> {
    const cached = this.shared.handles.get(this.cacheKey(label));
    if (cached) {
      const done = await withRemembered(cached, use, () => this.shared.handles.delete(this.cacheKey(label)));
      if (done) return done.result;
    }
    const handle = this.find(call, label);
    if (!handle) {
      this.assertTokenPresent(call);
      throw new HsmKeyNotFoundError(label);
    }
    this.remember(call, label, handle);
    return use(handle);
  }

  /**
   * Run `use` with the handle of the key `key`: a token key, or a wrapped key — the session's kept
   * object when it has one, else unwrapped now (and kept, within the session's limits).
   */
  private async withKey<T>(call: Call, key: KeyRef, use: (handle: Handle) => Promise<T>): Promise<T> {
    if ('label' in key) return this.withTokenKey(call, key.label, use);
    const keys = call.pooled.keys;
    const id = wrappedKeyId(key.wrappedBy, key.blob);
    const destroy = (handle: Handle) => this.destroyObject(call, handle);
    const kept = keys.take(id, this.clock.nowMs(), destroy);
    if (kept) {
      // An object that went away under us is unwrapped again below.
      const done = await withRemembered(kept, use, () => keys.discard(id));
      if (done) return done.result;
    }
    return this.withTokenKey(call, key.wrappedBy, async (kek) => {
      let unwrapped: Handle;
      try {
        unwrapped = await call.module.C_UnwrapKeyAsync(call.session, KEY_WRAP_PAD, kek, key.blob, UNWRAPPED_SESSION_KEY);
      } catch (error) {
        const code = ckr(error);
        if (code !== undefined && HANDLE_INVALID.has(code)) throw error;
        throw this.integrityOr(call, error, WRAPPED_INVALID, 'The wrapped key does not authenticate under this wrapping key');
      }
      if (keys.add(id, key.wrappedBy, unwrapped, this.clock.nowMs(), destroy)) {
        this.startSweeper();
        return use(unwrapped);
      }
      try {
        return await use(unwrapped);
      } finally {
        this.destroyObject(call, unwrapped);
      }
    });
  }

  private destroyObject(call: Call, handle: Handle): void {
    try {
      call.module.C_DestroyObject(call.session, handle);
    } catch {
      // Gone already.
    }
  }

  private async wrapAndDestroy(call: Call, kek: Handle, key: Handle): Promise<Buffer> {
    try {
      const blob = await call.module.C_WrapKeyAsync(call.session, KEY_WRAP_PAD, kek, key, Buffer.alloc(WRAPPED_KEY_BYTES + 16));
      if (blob.length !== WRAPPED_KEY_BYTES) throw new HsmError('The HSM returned a wrapped key of an unexpected size');
      return Buffer.from(blob);
    } finally {
      call.module.C_DestroyObject(call.session, key);
    }
  }

  /**
   * A decrypt/unwrap failure with one of `codes` means the input does not authenticate, provided the
   * token still answers (SoftHSM2 reports a bad tag as CKR_GENERAL_ERROR, like a broken token).
   */
  private integrityOr(call: Call, error: unknown, codes: ReadonlySet<number>, message: string): unknown {
    const code = ckr(error);
    if (code === undefined || !codes.has(code)) return error;
    try {
      this.assertTokenPresent(call);
    } catch (presence) {
      return presence;
    }
    return new HsmIntegrityError(message);
  }
}

/**
 * Run `use` with a remembered handle. When the handle no longer names an object (destroyed by another
 * backend or process, or gone with its session), `forget` it and answer undefined: the caller looks
 * the key up again. Any other failure is the call's.
 */
async function withRemembered<T>(handle: Handle, use: (handle: Handle) => Promise<T>, forget: () => void): Promise<{ result: T } | undefined> {
  try {
    return { result: await use(handle) };
  } catch (error) {
    const code = ckr(error);
    if (code === undefined || !HANDLE_INVALID.has(code)) throw error;
    forget();
    return undefined;
  }
}
