import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SealWire } from '@sealbox/contracts';
import { z } from 'zod';
import { DomainError, fieldIssuesOf, RateLimitedError, validationFailed } from '../errors/index.js';
import type { Clock } from '../time/index.js';
import { SEAL_KEY_BYTES, unwrapWithKey, wrapWithKey, type KeyProtector } from './aead.js';
import { durableFiles, removeStaleTempFiles, type DurableFiles } from './durable-files.js';
import type { UnsealSources } from './sources/index.js';
import { unsealFailed, type SealType, type UnsealSource } from './unseal-source.js';

export const SEAL_FILE = 'seal.json';
const SEAL_FORMAT = 'sealbox-seal';

const SealFile = z.object({
  format: z.literal(SEAL_FORMAT),
  version: z.literal(1),
  type: z.enum(SealWire.SealTypes),
  /** The source's public parameters (KDF salt and cost, share counts); bound to the wrapped root key. */
  params: z.unknown(),
  /** base64 of wrapWithKey(KEK, root key, rootKeyContext(type, params)). */
  rootKey: z.string().min(1),
  createdAt: z.string(),
  rekeyedAt: z.string().optional(),
});
type SealFile = z.infer<typeof SealFile>;

/** Where the key store stands, as `GET /v1/sys/seal-status` answers (Vault's names). */
export type SealStatus = SealWire.SealStatus;

/** Canonical JSON of the parameters (sorted keys, flat): the bytes bound to the root key. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
}

const rootKeyContext = (type: SealType, params: unknown) => `${SEAL_FORMAT}/v1/root-key\u0000${type}\u0000${canonical(params)}`;
const protectedContext = (purpose: string) => `${SEAL_FORMAT}/v1/protected\u0000${purpose}`;

export const sealedError = () => new DomainError('SEALED', 'Sealbox is sealed: unseal it first (sealbox operator unseal)');
export const notInitializedError = () =>
  new DomainError('SEAL_NOT_INITIALIZED', 'Sealbox is not initialised: initialise it first (sealbox operator init)');

export interface UnsealThrottleOptions {
  /** Failed unseal attempts allowed in `windowMs`; further attempts are RATE_LIMITED until the oldest leaves the window. */
  readonly maxFailures: number;
  readonly windowMs: number;
}
export const DEFAULT_UNSEAL_THROTTLE: UnsealThrottleOptions = { maxFailures: 5, windowMs: 60_000 };

export interface SealKeeperOptions {
  /** Directory of seal.json (the data directory). */
  readonly directory: string;
  readonly sources: UnsealSources;
  readonly clock: Clock;
  readonly files?: DurableFiles;
  readonly throttle?: UnsealThrottleOptions;
}

/**
 * The seal of the key store. A random root key, created at init, is stored in `seal.json` only
 * wrapped (AES-256-GCM, versioned) by a KEK that an unseal source derives from what operators hold;
 * the master keys on disk (soft HSM, iam) are in turn wrapped by the root key through `protector()`.
 * Sealed: no key in memory. Unsealed: the root key in memory until `seal()` zeroes it. Rekey
 * re-wraps the root key only, so no data is re-encrypted; seal.json is replaced atomically.
 */
export class SealKeeper {
  private file: SealFile | undefined;
  private rootKey: Buffer | undefined;
  private inputs: string[] = [];
  private failures: number[] = [];
  /** Why the last auto-unseal failed (code and message, no secret), shown by `status()` until one succeeds. */
  private autoError: SealWire.AutoUnsealError | undefined;
  private readonly files: DurableFiles;
  private readonly throttle: UnsealThrottleOptions;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: SealKeeperOptions) {
    this.files = options.files ?? durableFiles;
    this.throttle = options.throttle ?? DEFAULT_UNSEAL_THROTTLE;
  }

  get path(): string {
    return join(this.options.directory, SEAL_FILE);
  }

  /** Read seal.json (absent: not initialised). Throws if it is there but not a seal file. */
  static async open(options: SealKeeperOptions): Promise<SealKeeper> {
    const keeper = new SealKeeper(options);
    await removeStaleTempFiles(keeper.path);
    const raw = await keeper.files.read(keeper.path);
    if (raw) {
      let parsed: SealFile;
      try {
        parsed = SealFile.parse(JSON.parse(raw.toString('utf8')));
        keeper.source(parsed.type).paramsSchema.parse(parsed.params);
      } catch {
        throw new Error(`${keeper.path} is not a Sealbox seal file (restore it from a backup)`);
      }
      keeper.file = parsed;
    }
    return keeper;
  }

  get initialized(): boolean {
    return this.file !== undefined;
  }

  get sealed(): boolean {
    return this.rootKey === undefined;
  }

  get type(): SealType | undefined {
    return this.file?.type;
  }

  status(): SealStatus {
    const file = this.file;
    if (!file) return { initialized: false, sealed: true, t: 0, n: 0, progress: 0 };
    const source = this.source(file.type);
    const params = source.paramsSchema.parse(file.params);
    return {
      type: file.type,
      initialized: true,
      sealed: this.sealed,
      t: source.required(params),
      n: source.pieces(params),
      progress: this.inputs.length,
      ...(this.autoError && this.sealed ? { auto_unseal_error: this.autoError } : {}),
    };
  }

  /** Whether the store unseals by itself (its kind takes no operator input: a PKCS#11 token). */
  get autoUnseals(): boolean {
    return this.file !== undefined && this.source(this.file.type).auto === true;
  }

  /**
   * Unseal an auto-unseal store from its device (the token decrypts the KEK), without input. A
   * failure keeps the store sealed, is remembered for `status()` (`auto_unseal_error`) and thrown:
   * SEAL_TOKEN_KEY_NOT_FOUND, SEAL_TOKEN_UNAVAILABLE, SEAL_TOKEN_NOT_CONFIGURED or UNSEAL_FAILED.
   * A store of another kind is UNSEAL_FAILED (it needs its key, shares or passphrase).
   */
  autoUnseal(): Promise<SealStatus> {
    return this.exclusive(async () => {
      const file = this.file;
      if (!file) throw notInitializedError();
      if (!this.sealed) return this.status();
      const source = this.source(file.type);
      if (source.auto !== true) throw unsealFailed(`This key store is sealed by ${file.type}: give ${file.type === 'shamir' ? 'a share' : 'the secret'} (key)`);
      this.checkThrottle();
      const params = source.paramsSchema.parse(file.params);
      let kek: Buffer | undefined;
      try {
        kek = await source.derive(params, []);
        this.rootKey = unwrapWithKey(kek, Buffer.from(file.rootKey, 'base64'), rootKeyContext(file.type, file.params));
      } catch (error) {
        this.fail();
        const failure = error instanceof DomainError ? error : unsealFailed('The token key does not open this key store (seal.json was edited, or another key)');
        this.autoError = { code: failure.code, message: failure.message };
        throw failure;
      } finally {
        kek?.fill(0);
      }
      this.autoError = undefined;
      this.failures = [];
      return this.status();
    });
  }

  /**
   * First unseal secret of an empty store (CONFLICT once initialised). Leaves the store sealed, as
   * Vault does; returns what operators are handed once (shares or a generated key).
   */
  initialize(type: SealType, init: unknown): Promise<{ readonly handout: readonly string[] }> {
    return this.exclusive(async () => {
      if (this.file) throw new DomainError('CONFLICT', 'Sealbox is already initialised (rekey changes the unseal secret)');
      const rootKey = randomBytes(SEAL_KEY_BYTES);
      try {
        return await this.writeSecret(type, init, rootKey, undefined);
      } finally {
        rootKey.fill(0);
      }
    });
  }

  /**
   * One unseal input (a share, the passphrase, the key). Until `t` inputs are in, the progress grows;
   * the t-th derives the KEK and opens the root key. A wrong secret clears the progress and is
   * UNSEAL_FAILED; more than `maxFailures` failures in the window are RATE_LIMITED.
   */
  unseal(input: string): Promise<SealStatus> {
    return this.exclusive(async () => {
      const file = this.file;
      if (!file) throw notInitializedError();
      if (!this.sealed) return this.status();
      this.checkThrottle();
      const source = this.source(file.type);
      const params = source.paramsSchema.parse(file.params);
      try {
        source.accept(params, input, this.inputs);
      } catch (error) {
        this.fail();
        throw error;
      }
      this.inputs.push(input);
      if (this.inputs.length < source.required(params)) return this.status();
      const inputs = this.inputs;
      this.inputs = [];
      let kek: Buffer | undefined;
      try {
        kek = await source.derive(params, inputs);
        this.rootKey = unwrapWithKey(kek, Buffer.from(file.rootKey, 'base64'), rootKeyContext(file.type, file.params));
      } catch (error) {
        this.fail();
        if (error instanceof DomainError) throw error;
        // A wrong secret gives a wrong KEK (the root key does not authenticate) or shares that do not combine.
        throw unsealFailed('The unseal secret does not open this key store; the unseal progress was reset');
      } finally {
        kek?.fill(0);
      }
      this.failures = [];
      return this.status();
    });
  }

  /** Forget the inputs given so far. */
  resetProgress(): void {
    this.inputs = [];
  }

  /** Zero the root key: every protector lent stops working. Idempotent. */
  seal(): void {
    this.rootKey?.fill(0);
    this.rootKey = undefined;
    this.inputs = [];
    this.autoError = undefined;
  }

  /** A new unseal secret (any kind) for the same root key: nothing else is re-encrypted. Needs the store unsealed. */
  rekey(type: SealType, init: unknown): Promise<{ readonly handout: readonly string[] }> {
    return this.exclusive(async () => {
      if (!this.file) throw notInitializedError();
      if (!this.rootKey) throw sealedError();
      return this.writeSecret(type, init, this.rootKey, this.file.createdAt);
    });
  }

  /** Wraps and unwraps for one purpose under the root key; throws SEALED once sealed. */
  protector(): KeyProtector {
    const key = (): Buffer => {
      if (!this.rootKey) throw sealedError();
      return this.rootKey;
    };
    return {
      wrap: (plaintext, purpose) => wrapWithKey(key(), plaintext, protectedContext(purpose)),
      unwrap: (wrapped, purpose) => unwrapWithKey(key(), wrapped, protectedContext(purpose)),
    };
  }

  private async writeSecret(type: SealType, init: unknown, rootKey: Buffer, createdAt: string | undefined) {
    const source = this.source(type);
    const parsed = source.initSchema.safeParse(init ?? {});
    if (!parsed.success) throw validationFailed(fieldIssuesOf(parsed.error));
    const created = await source.create(parsed.data);
    try {
      const now = this.options.clock.now().toISOString();
      const file: SealFile = {
        format: SEAL_FORMAT,
        version: 1,
        type,
        params: created.params,
        rootKey: wrapWithKey(created.kek, rootKey, rootKeyContext(type, created.params)).toString('base64'),
        createdAt: createdAt ?? now,
        ...(createdAt ? { rekeyedAt: now } : {}),
      };
      await this.files.writeAtomic(this.path, Buffer.from(`${JSON.stringify(file, null, 2)}\n`, 'utf8'));
      this.file = file;
      this.inputs = [];
      return { handout: created.handout };
    } finally {
      created.kek.fill(0);
    }
  }

  private source(type: SealType): UnsealSource<unknown, unknown> {
    return this.options.sources[type];
  }

  private checkThrottle(): void {
    const now = this.options.clock.nowMs();
    this.failures = this.failures.filter((at) => now - at < this.throttle.windowMs);
    if (this.failures.length >= this.throttle.maxFailures) {
      const oldest = this.failures[0] ?? now;
      throw new RateLimitedError(Math.max(1, Math.ceil((oldest + this.throttle.windowMs - now) / 1000)));
    }
  }

  private fail(): void {
    this.inputs = [];
    this.failures.push(this.options.clock.nowMs());
  }

  /** One change at a time (two operators submitting shares at once must not lose one). */
  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.busy.then(run, run);
    this.busy = next.catch(() => undefined);
    return next;
  }
}
