type Handle = Buffer;

/** How many unwrapped keys a session keeps, and for how long. */
export interface SessionKeyLimits {
  /** Most unwrapped keys one session holds; the least recently used goes first (0: none kept). */
  readonly maxPerSession: number;
  /** Longest an unwrapped key is kept after its C_UnwrapKey, whatever its use. */
  readonly maxAgeMs: number;
}

interface Entry {
  readonly handle: Handle;
  readonly wrappedBy: string;
  readonly createdAt: number;
  /** Forgotten (its wrapping key destroyed, or `forget`): never used again, destroyed at the next purge. */
  dropped: boolean;
}

/** Destroys one session object of the session these keys belong to (errors ignored: it may be gone). */
export type DestroyObject = (handle: Handle) => void;

/**
 * The wrapped keys one PKCS#11 session has unwrapped (`C_UnwrapKey` of an RFC 5649 blob into a
 * non-extractable, sensitive session object), kept for the next calls on that session instead of
 * being unwrapped and destroyed every time. The key material never leaves the token: what is kept
 * here is the object handle. Bounded by count (LRU) and age; an entry can be dropped at once
 * (`drop`), after which it is never used again and its object is destroyed at the next `purge`,
 * which runs whenever the session is idle. Session objects also die with their session.
 */
export class SessionKeys {
  private readonly entries = new Map<string, Entry>();
  private oldest = Number.POSITIVE_INFINITY;
  private anyDropped = false;

  constructor(private readonly limits: SessionKeyLimits) {}

  get size(): number {
    return this.entries.size;
  }

  /** The handle of the key `id` if this session holds it, usable (neither dropped nor too old). */
  take(id: string, now: number, destroy: DestroyObject): Handle | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (entry.dropped || now - entry.createdAt >= this.limits.maxAgeMs) {
      destroy(entry.handle);
      return undefined;
    }
    // Most recently used last.
    this.entries.set(id, entry);
    return entry.handle;
  }

  /** Keep `handle` as the key `id`; false (the caller destroys it) when the session keeps none. */
  add(id: string, wrappedBy: string, handle: Handle, now: number, destroy: DestroyObject): boolean {
    if (this.limits.maxPerSession <= 0) return false;
    const previous = this.entries.get(id);
    if (previous) {
      this.entries.delete(id);
      destroy(previous.handle);
    }
    this.entries.set(id, { handle, wrappedBy, createdAt: now, dropped: false });
    this.oldest = Math.min(this.oldest, now);
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.limits.maxPerSession) break;
      this.entries.delete(key);
      destroy(entry.handle);
    }
    return true;
  }

  /** Forget (not the session's) a key whose object is already gone, e.g. after a handle error. */
  discard(id: string): void {
    this.entries.delete(id);
  }

  /** Mark the keys `matches` selects as dropped: from now on they are never used. */
  drop(matches: (id: string, wrappedBy: string) => boolean): void {
    for (const [id, entry] of this.entries) {
      if (!entry.dropped && matches(id, entry.wrappedBy)) {
        entry.dropped = true;
        this.anyDropped = true;
      }
    }
  }

  /** Whether a `purge` at `now` would destroy anything. */
  needsPurge(now: number): boolean {
    return this.anyDropped || now - this.oldest >= this.limits.maxAgeMs;
  }

  /** Destroy the objects of dropped and expired keys. */
  purge(now: number, destroy: DestroyObject): void {
    if (!this.needsPurge(now)) return;
    this.oldest = Number.POSITIVE_INFINITY;
    for (const [id, entry] of this.entries) {
      if (entry.dropped || now - entry.createdAt >= this.limits.maxAgeMs) {
        this.entries.delete(id);
        destroy(entry.handle);
      } else {
        this.oldest = Math.min(this.oldest, entry.createdAt);
      }
    }
    this.anyDropped = false;
  }

  /** The session is gone (closed, or its module finalized): its objects went with it. */
  clear(): void {
    this.entries.clear();
    this.oldest = Number.POSITIVE_INFINITY;
    this.anyDropped = false;
  }
}

/** The cache id of a wrapped key: its wrapping key's label and its blob (labels hold no control characters). */
export function wrappedKeyId(wrappedBy: string, blob: Buffer): string {
  return `${wrappedBy}\u0000${blob.toString('base64')}`;
}
