import pkcs11js from 'pkcs11js';
import { KeyedLock } from '../internal/keyed-lock.js';
import { ckr, ModuleResetError } from './errors.js';

/** The PKCS#11 functions the backend uses (a typed fake can stand in for the native module). */
export type Pkcs11Module = Pick<
  pkcs11js.PKCS11,
  | 'load'
  | 'C_Initialize'
  | 'C_Finalize'
  | 'C_GetSlotList'
  | 'C_GetTokenInfo'
  | 'C_OpenSession'
  | 'C_CloseSession'
  | 'C_Login'
  | 'C_CreateObject'
  | 'C_DestroyObject'
  | 'C_FindObjectsInit'
  | 'C_FindObjects'
  | 'C_FindObjectsFinal'
  | 'C_EncryptInit'
  | 'C_EncryptAsync'
  | 'C_EncryptFinal'
  | 'C_DecryptInit'
  | 'C_DecryptAsync'
  | 'C_GenerateKeyAsync'
  | 'C_WrapKeyAsync'
  | 'C_UnwrapKeyAsync'
>;

/** Told to drop unwrapped keys of `wrappedBy` on token `tokenLabel` (the one `id`, or all). */
export type ForgetListener = (tokenLabel: string, wrappedBy: string, id?: string) => void;

/** Permission to call the module until `release`; `generation` changes with every re-initialization. */
export interface Lease {
  readonly module: Pkcs11Module;
  readonly generation: number;
}

/**
 * One PKCS#11 library as the whole process sees it. A library is initialized once per process
 * (a second C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED and a C_Finalize ends every
 * session of every user), so every backend on the same library shares this object: it counts the
 * calls in progress (leases) and, when a call reports a module/token failure, finalizes the module
 * once those calls are over and initializes it again on the next call. Session handles, object
 * handles and logins die with a generation.
 */
export class SharedModule {
  private module: Pkcs11Module | undefined;
  private initialized = false;
  private generationValue = 0;
  private leases = 0;
  private draining = false;
  private waiters: Array<() => void> = [];
  private users = 0;
  /** Handles of token keys (`<token label>\0<key label>`), valid for the current generation. */
  readonly handles = new Map<string, Buffer>();
  /** Serializes create/destroy of one label across every backend of the process. */
  readonly labels = new KeyedLock();
  /** Backends that keep unwrapped keys, told when a wrapping key or one wrapped key must be forgotten. */
  private readonly forgetListeners = new Set<ForgetListener>();

  constructor(
    readonly library: string,
    private readonly create: () => Pkcs11Module,
  ) {}

  get generation(): number {
    return this.generationValue;
  }

  addUser(): void {
    this.users += 1;
  }

  /** The last user gone: finalize once the calls in progress are over. */
  removeUser(): void {
    this.users -= 1;
    if (this.users === 0) this.invalidate(this.generationValue);
  }

  /** Listen to `forgetWrapped` calls of every backend of the process; returns the unsubscribe. */
  onForget(listener: ForgetListener): () => void {
    this.forgetListeners.add(listener);
    return () => this.forgetListeners.delete(listener);
  }

  /**
   * Every backend of the process drops the unwrapped keys it keeps for token `tokenLabel` under the
   * wrapping key `wrappedBy` (all of them, or the one whose cache id is `id`), synchronously: none is
   * used once this returns.
   */
  forgetWrapped(tokenLabel: string, wrappedBy: string, id?: string): void {
    for (const listener of this.forgetListeners) listener(tokenLabel, wrappedBy, id);
  }

  async acquire(): Promise<Lease> {
    while (this.draining) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.leases += 1;
    try {
      return { module: this.initialize(), generation: this.generationValue };
    } catch (error) {
      this.release();
      throw error;
    }
  }

  release(): void {
    this.leases -= 1;
    if (this.draining && this.leases === 0) this.finishDrain();
  }

  /** The module failed during `generation`: re-initialize it (once) when the calls in progress are over. */
  invalidate(generation: number): void {
    if (generation !== this.generationValue || this.draining) return;
    this.draining = true;
    if (this.leases === 0) this.finishDrain();
  }

  private initialize(): Pkcs11Module {
    if (!this.module) {
      const module = this.create();
      try {
        module.load(this.library);
      } catch (error) {
        throw new ModuleResetError(`The HSM is unavailable (cannot load ${this.library}: ${(error as Error).message})`);
      }
      this.module = module;
    }
    if (!this.initialized) {
      try {
        // OS locking: calls run on libuv threads, one session per call (toolchain pitfall 10).
        this.module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
      } catch (error) {
        if (ckr(error) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
          throw new ModuleResetError(`The HSM is unavailable (C_Initialize: ${(error as Error).message})`);
        }
      }
      this.initialized = true;
    }
    return this.module;
  }

  private finishDrain(): void {
    if (this.initialized && this.module) {
      try {
        this.module.C_Finalize();
      } catch {
        // Already finalized under us, or the module is gone: initialization starts afresh anyway.
      }
    }
    this.initialized = false;
    this.handles.clear();
    this.generationValue += 1;
    this.draining = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** The process-wide shared modules, one per library path. */
export class ModuleRegistry {
  private readonly modules = new Map<string, SharedModule>();

  constructor(private readonly create: () => Pkcs11Module = () => new pkcs11js.PKCS11()) {}

  get(library: string): SharedModule {
    let module = this.modules.get(library);
    if (!module) {
      module = new SharedModule(library, this.create);
      this.modules.set(library, module);
    }
    return module;
  }
}

/** The registry every Pkcs11Hsm of the process uses unless told otherwise. */
export const processModules = new ModuleRegistry();
