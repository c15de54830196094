import { DomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { CachedEnvelopeStore, EnvelopeStore, type StoredEnvelope } from './envelopes.js';

/** The object store in memory; counts reads; `hold` keeps the next read in flight until released. */
class MemoryStore extends EnvelopeStore {
  readonly objects = new Map<string, StoredEnvelope>();
  reads = 0;
  private held: Promise<void> | undefined;
  private release = () => {};

  hold(): () => void {
    this.held = new Promise<void>((resolve) => (this.release = resolve));
    return () => {
      this.held = undefined;
      this.release();
    };
  }

  async get(instanceGuid: string, key: string): Promise<StoredEnvelope> {
    this.reads += 1;
    const body = this.objects.get(`${instanceGuid}/${key}`);
    await this.held;
    if (body === undefined) throw new DomainError('NOT_FOUND', `Object ${key}`);
    return body;
  }
  async put(instanceGuid: string, key: string, body: StoredEnvelope): Promise<void> {
    this.objects.set(`${instanceGuid}/${key}`, body);
  }
  async delete(instanceGuid: string, key: string): Promise<void> {
    this.objects.delete(`${instanceGuid}/${key}`);
  }
}

const body = (fill: string, length = 1000) => Buffer.from(fill.repeat(length));

async function cached(store: CachedEnvelopeStore, inner: MemoryStore, instanceGuid: string, key: string): Promise<boolean> {
  const before = inner.reads;
  await store.get(instanceGuid, key);
  return inner.reads === before;
}

describe('CachedEnvelopeStore', () => {
  it('reads through: the first read goes to the store, the next ones are served from memory', async () => {
    const inner = new MemoryStore();
    const store = new CachedEnvelopeStore(inner, 1 << 20);
    await inner.put('i1', 'k1', body('a'));
    expect(await store.get('i1', 'k1')).toEqual(body('a'));
    expect(await store.get('i1', 'k1')).toEqual(body('a'));
    expect(inner.reads).toBe(1);
    expect(store.size).toBe(1);
  });

  it('stays within its bytes, dropping the least recently used first, and never keeps one envelope over an eighth of it', async () => {
    const inner = new MemoryStore();
    // An entry costs its body (100 bytes), its key ("i\nk1": 4) and 128 of overhead: room for eight, not nine.
    const store = new CachedEnvelopeStore(inner, 8 * 232 + 100);
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'];
    for (const key of keys) await inner.put('i', key, body(key.slice(1), 100));
    await inner.put('i', 'big', body('b', 200));
    for (const key of keys.slice(0, 8)) await store.get('i', key);
    expect(store.size).toBe(8);
    await store.get('i', 'k1'); // k1 most recently used: k2 goes next
    await store.get('i', 'k9');
    expect(store.size).toBe(8);
    expect(store.bytes).toBeLessThanOrEqual(store.maxBytes);
    expect(await cached(store, inner, 'i', 'k1')).toBe(true);
    expect(await cached(store, inner, 'i', 'k9')).toBe(true);
    expect(await cached(store, inner, 'i', 'k2')).toBe(false);
    // 200 + 5 + 128 bytes: over an eighth of the cache.
    await store.get('i', 'big');
    expect(await cached(store, inner, 'i', 'big')).toBe(false);
    expect(store.bytes).toBeLessThanOrEqual(store.maxBytes);
  });

  it('keeps nothing with 0 bytes, and no failed read', async () => {
    const inner = new MemoryStore();
    const off = new CachedEnvelopeStore(inner, 0);
    await inner.put('i', 'k', body('a'));
    await off.get('i', 'k');
    expect(off.size).toBe(0);
    const store = new CachedEnvelopeStore(inner, 1 << 20);
    await expect(store.get('i', 'missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(store.size).toBe(0);
  });

  it('drops a key on every put and delete through it (a rewrapped envelope is read anew), and on forget', async () => {
    const inner = new MemoryStore();
    const store = new CachedEnvelopeStore(inner, 1 << 20);
    await store.put('i', 'k', body('a'));
    expect(store.size).toBe(0);
    await store.get('i', 'k');
    await store.put('i', 'k', body('b'));
    expect(await store.get('i', 'k')).toEqual(body('b'));
    await store.delete('i', 'k');
    await expect(store.get('i', 'k')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.put('i', 'k', body('c'));
    await store.get('i', 'k');
    store.forget('i', 'k');
    expect(await cached(store, inner, 'i', 'k')).toBe(false);
  });

  it("drops every key of an instance on forgetInstance, and only that instance's", async () => {
    const inner = new MemoryStore();
    const store = new CachedEnvelopeStore(inner, 1 << 20);
    for (const [instance, key] of [['i1', 'a'], ['i1', 'b'], ['i2', 'a']] as const) {
      await inner.put(instance, key, body(key));
      await store.get(instance, key);
    }
    store.forgetInstance('i1');
    expect(store.size).toBe(1);
    expect(await cached(store, inner, 'i2', 'a')).toBe(true);
    expect(await cached(store, inner, 'i1', 'a')).toBe(false);
  });

  it('does not keep what a read fetched while the key was written or dropped', async () => {
    const inner = new MemoryStore();
    const store = new CachedEnvelopeStore(inner, 1 << 20);
    await inner.put('i', 'k', body('old'));
    for (const change of [() => store.put('i', 'k', body('new')), () => store.delete('i', 'k'), async () => store.forgetInstance('i')]) {
      const release = inner.hold();
      const reading = store.get('i', 'k').catch(() => undefined);
      await change();
      release();
      await reading;
      expect(store.size).toBe(0);
      await inner.put('i', 'k', body('old'));
    }
  });
});
