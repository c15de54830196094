import type { ResponseOf } from '@sealbox/contracts';
import type { RpcClient } from '@sealbox/platform';

/** An envelope as the object store keeps it: opaque here (the storage contract's body). Ciphertext only. */
export type StoredEnvelope = ResponseOf<'storage.object.get'>['body'];

/** Where sealed versions are kept: the instance's bucket. Keys are opaque; bodies are envelopes, never plaintext. */
export abstract class EnvelopeStore {
  /** The stored body; the storage service's NOT_FOUND when there is none. */
  abstract get(instanceGuid: string, key: string): Promise<StoredEnvelope>;
  abstract put(instanceGuid: string, key: string, body: StoredEnvelope): Promise<void>;
  /** Absent: done. */
  abstract delete(instanceGuid: string, key: string): Promise<void>;
}

/** The storage service, over RPC. */
export class StorageEnvelopeStore extends EnvelopeStore {
  constructor(private readonly rpc: RpcClient) {
    super();
  }

  async get(instanceGuid: string, key: string): Promise<StoredEnvelope> {
    return (await this.rpc.send('storage.object.get', { instanceGuid, key })).body;
  }

  async put(instanceGuid: string, key: string, body: StoredEnvelope): Promise<void> {
    await this.rpc.send('storage.object.put', { instanceGuid, key, body });
  }

  async delete(instanceGuid: string, key: string): Promise<void> {
    await this.rpc.send('storage.object.delete', { instanceGuid, key });
  }
}

/** What one entry costs besides its body: the Map slot, the entry object, its key (bytes, rounded up). */
const ENTRY_OVERHEAD_BYTES = 128;

interface Entry {
  readonly instanceGuid: string;
  readonly body: StoredEnvelope;
  readonly bytes: number;
}

/**
 * A bounded LRU of stored envelopes in front of another EnvelopeStore (Vault's physical cache):
 * reads go through it, and every put or delete through it drops the key, before and after the
 * write (and a read that was in flight meanwhile does not put back what it fetched). Bounded in
 * bytes (`maxBytes`, 0: keeps nothing); one envelope larger than an eighth of it is never kept.
 *
 * A version's envelope never changes except when crypto rewraps it under a newer root key version
 * (stored back through here), so a hit is what the store holds or an older wrapping of it, which
 * opens the same. It is safe with several replicas because the metadata, read from the database on
 * every request, decides whether a version's data may be read at all: a deleted version or secret is
 * never looked up here, on any replica, whatever an entry says. It holds ciphertext only; opening,
 * and therefore the root key's state, is decided by crypto on every read.
 */
export class CachedEnvelopeStore extends EnvelopeStore {
  private readonly entries = new Map<string, Entry>();
  /** Reads in flight by key: one that was invalidated meanwhile does not fill the cache. */
  private readonly fetching = new Map<string, symbol>();
  private used = 0;
  private readonly largest: number;

  constructor(
    private readonly inner: EnvelopeStore,
    readonly maxBytes: number,
  ) {
    super();
    this.largest = Math.floor(maxBytes / 8);
  }

  /** Envelopes held. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held, by the cost `maxBytes` bounds. */
  get bytes(): number {
    return this.used;
  }

  /** Whether the key is held (without counting as a use). */
  has(instanceGuid: string, key: string): boolean {
    return this.entries.has(idOf(instanceGuid, key));
  }

  async get(instanceGuid: string, key: string): Promise<StoredEnvelope> {
    const id = idOf(instanceGuid, key);
    const hit = this.entries.get(id);
    if (hit) {
      // Most recently used last.
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit.body;
    }
    const token = Symbol(id);
    this.fetching.set(id, token);
    try {
      const body = await this.inner.get(instanceGuid, key);
      if (this.fetching.get(id) === token) this.admit(id, instanceGuid, body);
      return body;
    } finally {
      if (this.fetching.get(id) === token) this.fetching.delete(id);
    }
  }

  async put(instanceGuid: string, key: string, body: StoredEnvelope): Promise<void> {
    this.forget(instanceGuid, key);
    try {
      await this.inner.put(instanceGuid, key, body);
    } finally {
      this.forget(instanceGuid, key);
    }
  }

  async delete(instanceGuid: string, key: string): Promise<void> {
    this.forget(instanceGuid, key);
    try {
      await this.inner.delete(instanceGuid, key);
    } finally {
      this.forget(instanceGuid, key);
    }
  }

  /** Drop one key (e.g. an envelope that did not open under its context). */
  forget(instanceGuid: string, key: string): void {
    const id = idOf(instanceGuid, key);
    this.fetching.delete(id);
    this.drop(id);
  }

  /** Drop every key of an instance (its data is purged). */
  forgetInstance(instanceGuid: string): void {
    for (const [id, entry] of this.entries) if (entry.instanceGuid === instanceGuid) this.drop(id);
    for (const id of this.fetching.keys()) if (id.startsWith(`${instanceGuid}\n`)) this.fetching.delete(id);
  }

  private admit(id: string, instanceGuid: string, body: StoredEnvelope): void {
    const bytes = body.byteLength + id.length + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.largest) return;
    this.drop(id);
    this.entries.set(id, { instanceGuid, body, bytes });
    this.used += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.used -= entry.bytes;
    }
  }

  private drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.used -= entry.bytes;
  }
}

const idOf = (instanceGuid: string, key: string) => `${instanceGuid}\n${key}`;
