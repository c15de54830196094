import { InProcessEventBus, ManualClock, type EventSubscriber } from '@sealbox/platform';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudEvent } from '../testing/envelope-fixture.js';
import { DEFAULT_DEK_CACHE_OPTIONS, DekCache, INSTANCE_PURGE_SUBJECTS, KEY_PURGE_SUBJECTS, type DekBinding, type DekCacheOptions, type DekScope } from './dek-cache.js';

const scope: DekScope = { kmsInstanceId: 'kp-1', keyId: 'root-1', serviceInstance: 'sm-1' };
const binding: DekBinding = ['acct-1', 'kp-1', 'root-1', 'acct-1', 'secrets-manager', 'sm-1', 'crn', 'secret-1', 'version-1'];
/** Fresh keys for an entry. */
const keysOf = (encryptionKey = randomBytes(32)) => ({ encryptionKey, commitment: randomBytes(32), context: Buffer.from('context') });
const isZero = (buffer: Buffer) => buffer.every((byte) => byte === 0);
const caches: DekCache[] = [];

function setup(options: Partial<DekCacheOptions> = {}, withEvents = true) {
  const clock = new ManualClock();
  const events = new InProcessEventBus();
  const cache = new DekCache({ ...DEFAULT_DEK_CACHE_OPTIONS, ...options }, clock, withEvents ? events : null);
  caches.push(cache);
  /** Put fresh keys; returns K_enc, which the cache now owns. */
  const fill = (wrappedDek: string, entryScope: DekScope = scope): Buffer => {
    const keys = keysOf();
    cache.put(wrappedDek, binding, entryScope, keys, cache.ticket());
    return keys.encryptionKey;
  };
  /** A copy of an entry's K_enc (counting one use), undefined on a miss. */
  const get = (wrappedDek: string): Buffer | undefined => cache.use(wrappedDek, binding, (entry) => Buffer.from(entry.encryptionKey));
  return { clock, events, cache, fill, get };
}

afterEach(() => {
  for (const cache of caches.splice(0)) cache.close();
});

describe('DekCache entries', () => {
  it('lends an entry for one synchronous read and returns what the reader returns', () => {
    const { cache, fill, get } = setup();
    const owned = fill('f1');
    const expected = Buffer.from(owned);
    expect(get('f1')?.equals(expected)).toBe(true);
    expect(cache.use('f1', binding, (entry) => entry.commitment.length)).toBe(32);
    expect(get('other')).toBeUndefined();
  });

  it('serves an entry only to the exact binding it was unwrapped for', () => {
    const { cache, fill, get } = setup();
    fill('f1');
    for (let index = 0; index < binding.length; index++) {
      const other = binding.map((part, at) => (at === index ? `${part}x` : part));
      expect(cache.use('f1', other, () => 'served'), `part ${index}`).toBeUndefined();
    }
    expect(cache.use('f1', binding.slice(0, -1), () => 'served')).toBeUndefined();
    expect(get('f1')).toBeDefined();
  });

  it('counts a read that throws as a use, and drops the entry at maxUses all the same', () => {
    const { cache, fill, get } = setup({ maxUses: 2 });
    const owned = fill('f1');
    expect(() =>
      cache.use('f1', binding, () => {
        throw new Error('integrity');
      }),
    ).toThrow('integrity');
    expect(get('f1')).toBeDefined();
    expect(isZero(owned)).toBe(true);
    expect(get('f1')).toBeUndefined();
  });

  it('keeps kms\'s rewrap facts with the entry', () => {
    const { cache } = setup();
    const rewrapped = { wrappedDek: 'AAAA', keyVersionId: 'v2' };
    cache.put('f1', binding, scope, { ...keysOf(), rewrapped }, cache.ticket());
    expect(cache.use('f1', binding, (entry) => entry.rewrapped)).toEqual(rewrapped);
  });

  it('zeroes K_enc and the commitment of an entry that leaves', () => {
    const { cache } = setup();
    const entry = keysOf();
    cache.put('f1', binding, scope, entry, cache.ticket());
    cache.purgeKey(scope.kmsInstanceId, scope.keyId);
    expect(isZero(entry.encryptionKey) && isZero(entry.commitment)).toBe(true);
  });

  it('zeroes the keys of an entry that expires, and does not serve it', () => {
    const { clock, cache, fill, get } = setup({ ttlMs: 1000 });
    const owned = fill('f1');
    clock.advance(999);
    expect(get('f1')).toBeDefined();
    clock.advance(1);
    expect(get('f1')).toBeUndefined();
    expect(isZero(owned)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('zeroes expired entries on a sweep, without being asked for them', () => {
    const { clock, cache, fill } = setup({ ttlMs: 1000 });
    const old = fill('old');
    clock.advance(500);
    const young = fill('young');
    clock.advance(500);
    cache.sweep();
    expect(isZero(old)).toBe(true);
    expect(isZero(young)).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('serves an entry maxUses times, then zeroes it', () => {
    const { fill, get } = setup({ maxUses: 2 });
    const owned = fill('f1');
    expect(get('f1')).toBeDefined();
    expect(isZero(owned)).toBe(false);
    expect(get('f1')).toBeDefined();
    expect(isZero(owned)).toBe(true);
    expect(get('f1')).toBeUndefined();
  });

  it('holds at most maxEntries, evicting (and zeroing) the oldest first', () => {
    const { cache, fill, get } = setup({ maxEntries: 2 });
    const first = fill('f1');
    const second = fill('f2');
    const third = fill('f3');
    expect(cache.size).toBe(2);
    expect(isZero(first)).toBe(true);
    expect(isZero(second) || isZero(third)).toBe(false);
    expect(get('f1')).toBeUndefined();
    expect(get('f3')).toBeDefined();
  });

  it('zeroes the keys an entry held when it is replaced', () => {
    const { cache, fill } = setup();
    const first = fill('f1');
    const second = fill('f1');
    expect(isZero(first)).toBe(true);
    expect(isZero(second)).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('stores nothing and zeroes what it is given when turned off (maxEntries 0)', () => {
    const { fill, get } = setup({ maxEntries: 0 });
    const owned = fill('f1');
    expect(isZero(owned)).toBe(true);
    expect(get('f1')).toBeUndefined();
  });

  it('refuses (and zeroes) a fill whose ticket predates a purge', () => {
    const { cache } = setup();
    const ticket = cache.ticket();
    cache.purgeKey('unrelated', 'key');
    const encryptionKey = randomBytes(32);
    cache.put('f1', binding, scope, keysOf(encryptionKey), ticket);
    expect(isZero(encryptionKey)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('zeroes everything when closed (module shutdown)', () => {
    const { cache, fill } = setup();
    const owned = [fill('f1'), fill('f2')];
    cache.close();
    expect(owned.every(isZero)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it.each<[string, Partial<DekCacheOptions>]>([
    ['a TTL above 5 minutes', { ttlMs: 300_001 }],
    ['a negative TTL', { ttlMs: -1 }],
    ['maxUses 0', { maxUses: 0 }],
    ['a fractional maxEntries', { maxEntries: 1.5 }],
  ])('refuses %s', (_what, options) => {
    expect(() => new DekCache({ ...DEFAULT_DEK_CACHE_OPTIONS, ...options }, new ManualClock(), null)).toThrow(/DEK cache/);
  });
});

describe('DekCache purges', () => {
  const otherKey: DekScope = { ...scope, keyId: 'root-2' };
  const otherInstance: DekScope = { kmsInstanceId: 'kp-2', keyId: 'root-1', serviceInstance: 'sm-2' };

  it.each(KEY_PURGE_SUBJECTS)('%s drops every entry of that key, and only those', async (subject) => {
    const { events, cache, fill } = setup();
    const mine = [fill('a'), fill('b')];
    const others = [fill('c', otherKey), fill('d', otherInstance)];
    await events.publish(subject, cloudEvent(subject, { accountId: 'acct', instanceId: 'kp-1', keyId: 'root-1' }));
    await expect.poll(() => cache.size).toBe(2);
    expect(mine.every(isZero)).toBe(true);
    expect(others.some(isZero)).toBe(false);
  });

  it.each(INSTANCE_PURGE_SUBJECTS)('%s drops every entry of that KMS instance', async (subject) => {
    const { events, cache, fill } = setup();
    const mine = [fill('a'), fill('b', otherKey)];
    const other = fill('c', otherInstance);
    await events.publish(subject, cloudEvent(subject, { accountId: 'acct', instanceId: 'kp-1' }));
    await expect.poll(() => cache.size).toBe(1);
    expect(mine.every(isZero)).toBe(true);
    expect(isZero(other)).toBe(false);
  });

  it('an instance deletion drops the entries unwrapped for that service instance', async () => {
    const { events, cache, fill } = setup();
    const mine = fill('a');
    const other = fill('b', otherInstance);
    await events.publish('events.lifecycle.instance.deleted', cloudEvent('lifecycle.instance.deleted', { accountId: 'acct', instanceId: 'sm-1' }));
    await expect.poll(() => cache.size).toBe(1);
    expect(isZero(mine)).toBe(true);
    expect(isZero(other)).toBe(false);
  });

  it('reads event data defensively: a key event without instanceId purges the key id anywhere, one naming nothing purges all', async () => {
    const { events, cache, fill } = setup();
    fill('a');
    fill('b', { ...otherInstance, keyId: 'root-1' });
    fill('c', otherKey);
    await events.publish('events.kms.key.disabled', cloudEvent('kms.key.disabled', { keyId: 'root-1' }));
    await expect.poll(() => cache.size).toBe(1);
    await events.publish('events.kms.key.deleted', cloudEvent('kms.key.deleted', { instanceId: 42, keyId: null }));
    await expect.poll(() => cache.size).toBe(0);
    fill('d');
    await events.publish('events.kms.instance.master-key-zeroized', cloudEvent('kms.instance.master-key-zeroized', 'not an object'));
    await expect.poll(() => cache.size).toBe(0);
  });

  it('an authorization policy change drops everything (kms might now refuse); an access policy change does not', async () => {
    const { events, cache, fill } = setup();
    fill('a');
    await events.publish('events.iam.policy.updated', cloudEvent('iam.policy.updated', { accountId: 'acct', policyId: 'p', type: 'access' }));
    await events.publish('events.iam.policy.deleted', cloudEvent('iam.policy.deleted', { accountId: 'acct', policyId: 'p', type: 'authorization' }));
    await expect.poll(() => cache.size).toBe(0);
    fill('b');
    await events.publish('events.iam.policy.updated', cloudEvent('iam.policy.updated', { accountId: 'acct', policyId: 'p', type: 'access' }));
    await events.publish('events.kms.key.enabled', cloudEvent('kms.key.enabled', { accountId: 'acct', instanceId: 'kp-1', keyId: 'root-1' }));
    // A marker event published last: once it is handled, the two before it were too.
    await events.publish('events.kms.key.disabled', cloudEvent('kms.key.disabled', { instanceId: 'kp-9', keyId: 'k' }));
    await expect.poll(() => cache.ticket()).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('works without an event subscriber: entries still end by TTL and uses', () => {
    const { fill, get, clock } = setup({ ttlMs: 10 }, false);
    fill('a');
    expect(get('a')).toBeDefined();
    clock.advance(10);
    expect(get('a')).toBeUndefined();
  });

  it('stops listening and stores nothing more once closed', () => {
    const subscribed: string[] = [];
    let unsubscribed = 0;
    const events: EventSubscriber = {
      subscribe(pattern) {
        subscribed.push(pattern);
        return () => {
          unsubscribed += 1;
        };
      },
    };
    const cache = new DekCache(DEFAULT_DEK_CACHE_OPTIONS, new ManualClock(), events);
    expect(subscribed).toEqual(expect.arrayContaining([...KEY_PURGE_SUBJECTS, ...INSTANCE_PURGE_SUBJECTS]));
    cache.close();
    expect(unsubscribed).toBe(subscribed.length);
    const encryptionKey = randomBytes(32);
    cache.put('late', binding, scope, keysOf(encryptionKey), cache.ticket());
    expect(isZero(encryptionKey)).toBe(true);
    expect(cache.size).toBe(0);
  });
});
