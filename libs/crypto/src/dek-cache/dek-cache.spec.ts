import { InProcessEventBus, ManualClock, type EventSubscriber } from '@sealbox/platform';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudEvent } from '../testing/envelope-fixture.js';
import { DEFAULT_DEK_CACHE_OPTIONS, DekCache, INSTANCE_PURGE_SUBJECTS, KEY_PURGE_SUBJECTS, type DekCacheOptions, type DekScope } from './dek-cache.js';

const scope: DekScope = { kmsInstanceId: 'kp-1', keyId: 'root-1', serviceInstance: 'sm-1' };
const isZero = (buffer: Buffer) => buffer.every((byte) => byte === 0);
const caches: DekCache[] = [];

function setup(options: Partial<DekCacheOptions> = {}, withEvents = true) {
  const clock = new ManualClock();
  const events = new InProcessEventBus();
  const cache = new DekCache({ ...DEFAULT_DEK_CACHE_OPTIONS, ...options }, clock, withEvents ? events : null);
  caches.push(cache);
  /** Put a fresh DEK; returns the Buffer the cache now owns. */
  const fill = (fingerprint: string, entryScope: DekScope = scope): Buffer => {
    const dek = randomBytes(32);
    cache.put(fingerprint, entryScope, dek, {}, cache.ticket());
    return dek;
  };
  return { clock, events, cache, fill };
}

afterEach(() => {
  for (const cache of caches.splice(0)) cache.close();
});

describe('DekCache entries', () => {
  it('hands out copies: the caller zeroing its copy leaves the entry intact', () => {
    const { cache, fill } = setup();
    const owned = fill('f1');
    const expected = Buffer.from(owned);
    const first = cache.get('f1');
    expect(first?.dek.equals(expected)).toBe(true);
    first?.dek.fill(0);
    expect(cache.get('f1')?.dek.equals(expected)).toBe(true);
    expect(cache.get('other')).toBeUndefined();
  });

  it('keeps kms\'s rewrap facts with the entry', () => {
    const { cache } = setup();
    const rewrapped = { ciphertext: 'AAAA', keyVersion: { id: 'v2' } };
    cache.put('f1', scope, randomBytes(32), { rewrapped }, cache.ticket());
    expect(cache.get('f1')?.rewrapped).toEqual(rewrapped);
  });

  it('zeroes the DEK of an entry that expires, and does not serve it', () => {
    const { clock, cache, fill } = setup({ ttlMs: 1000 });
    const owned = fill('f1');
    clock.advance(999);
    expect(cache.get('f1')).toBeDefined();
    clock.advance(1);
    expect(cache.get('f1')).toBeUndefined();
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
    const { cache, fill } = setup({ maxUses: 2 });
    const owned = fill('f1');
    expect(cache.get('f1')).toBeDefined();
    expect(isZero(owned)).toBe(false);
    expect(cache.get('f1')).toBeDefined();
    expect(isZero(owned)).toBe(true);
    expect(cache.get('f1')).toBeUndefined();
  });

  it('holds at most maxEntries, evicting (and zeroing) the oldest first', () => {
    const { cache, fill } = setup({ maxEntries: 2 });
    const first = fill('f1');
    const second = fill('f2');
    const third = fill('f3');
    expect(cache.size).toBe(2);
    expect(isZero(first)).toBe(true);
    expect(isZero(second) || isZero(third)).toBe(false);
    expect(cache.get('f1')).toBeUndefined();
    expect(cache.get('f3')).toBeDefined();
  });

  it('zeroes the DEK an entry held when it is replaced', () => {
    const { cache, fill } = setup();
    const first = fill('f1');
    const second = fill('f1');
    expect(isZero(first)).toBe(true);
    expect(isZero(second)).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('stores nothing and zeroes what it is given when turned off (maxEntries 0)', () => {
    const { cache, fill } = setup({ maxEntries: 0 });
    const owned = fill('f1');
    expect(isZero(owned)).toBe(true);
    expect(cache.get('f1')).toBeUndefined();
  });

  it('refuses (and zeroes) a fill whose ticket predates a purge', () => {
    const { cache } = setup();
    const ticket = cache.ticket();
    cache.purgeKey('unrelated', 'key');
    const dek = randomBytes(32);
    cache.put('f1', scope, dek, {}, ticket);
    expect(isZero(dek)).toBe(true);
    expect(cache.get('f1')).toBeUndefined();
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
    const { cache, fill, clock } = setup({ ttlMs: 10 }, false);
    fill('a');
    expect(cache.get('a')).toBeDefined();
    clock.advance(10);
    expect(cache.get('a')).toBeUndefined();
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
    const dek = randomBytes(32);
    cache.put('late', scope, dek, {}, cache.ticket());
    expect(isZero(dek)).toBe(true);
    expect(cache.size).toBe(0);
  });
});
