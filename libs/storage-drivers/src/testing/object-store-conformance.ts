/**
 * ONE conformance suite for the object storage port: a driver is "done" when it passes it. Run
 * against the filesystem driver (unit tier: a temp directory is its own storage) and against the
 * minio driver on s3rver (medium tier). Every test works in buckets of its own, so the tests share
 * one store.
 *
 * Listing tests use keys whose order s3rver gets right: it walks its folders, so a key followed by
 * a character below `/` (`k` and `k-1`, or `k/x` and `k-1`) comes back out of order there (real S3
 * and MinIO sort). The filesystem driver's own tests cover those orders.
 *
 * Lives under src/testing/ so the library build never ships it.
 */
import { DomainError } from '@sealbox/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketNameFor } from '../bucket-names.js';
import { MAX_LIST_LIMIT, MAX_OBJECT_BYTES, type ObjectStore } from '../object-store.js';

/** What a driver provides to the suite. */
export interface ObjectStoreUnderTest {
  readonly store: ObjectStore;
  /** Release the storage (temp directory, server) once the suite is done. */
  cleanup(): Promise<void>;
}

export type ObjectStoreFactory = () => ObjectStoreUnderTest | Promise<ObjectStoreUnderTest>;

/** The DomainError a call fails with; fails the test when it resolves or throws something else. */
export async function storeErrorOf(promise: Promise<unknown>): Promise<DomainError> {
  let outcome: unknown;
  try {
    await promise;
  } catch (error) {
    outcome = error;
  }
  if (outcome === undefined) throw new Error('expected the call to fail, but it succeeded');
  expect(outcome).toBeInstanceOf(DomainError);
  return outcome as DomainError;
}

async function expectCode(promise: Promise<unknown>, code: DomainError['code'], field?: string): Promise<void> {
  const error = await storeErrorOf(promise);
  expect(error.code).toBe(code);
  if (field !== undefined) expect(error.fields?.map((issue) => issue.field)).toEqual([field]);
}

/** Compare bytes with Buffer.equals (a deep equality over megabytes is slow), reporting where they differ. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  const length = Math.min(a.length, b.length);
  let index = 0;
  while (index < length && a[index] === b[index]) index++;
  expect({ length: a.length, firstDifference: index }).toEqual({ length: b.length, firstDifference: b.length });
}

/** Every byte value, in order, then again reversed. */
export const ALL_BYTES = Buffer.from([...Array.from({ length: 256 }, (_, index) => index), ...Array.from({ length: 256 }, (_, index) => 255 - index)]);

/** Keys that are valid: slashes, unicode, characters URLs, XML and XML parsers treat specially. */
export const UNUSUAL_KEYS = [
  'a/b/c',
  'secrets/3f1c5a8e-0000-4000-8000-000000000001/versions/1',
  'ünïcødé/秘密/🔑',
  'MixedCase/Key.BIN',
  'with space/and+plus%20percent',
  `xml&<>"'chars`,
  '001',
  '0x10',
  ' padded ',
  'back\\slash',
  '~tilde!*()',
  'ﬀ/\u200b/zero-width',
];

/** A valid key of exactly 512 characters, in segments s3rver can store as file names. */
export const LONGEST_KEY = Array.from({ length: 5 }, (_, index) => String(index).repeat(99)).join('/') + '/' + 'z'.repeat(12);
/** A valid key of exactly 1024 bytes of UTF-8 (three-byte characters), in segments s3rver can store. */
export const WIDEST_KEY = Array.from({ length: 4 }, () => '秘'.repeat(70)).join('/') + '/' + '秘'.repeat(60);

export const INVALID_KEYS: readonly (readonly [string, string])[] = [
  ['empty', ''],
  ['leading slash', '/a'],
  ['.. segment', 'a/../b'],
  ['.. alone', '..'],
  ['. segment', 'a/./b'],
  ['empty segment', 'a//b'],
  ['trailing slash', 'a/'],
  ['NUL', 'a\u0000b'],
  ['tab', 'a\tb'],
  ['newline', 'a\nb'],
  ['DEL', 'a\u007fb'],
  ['C1 control', 'a\u0085b'],
  ['lone surrogate', 'a\ud800b'],
  ['513 characters', 'k'.repeat(513)],
  ['1025 bytes', '秘'.repeat(341) + 'xx'],
];

export const INVALID_BUCKETS: readonly string[] = ['ab', 'x'.repeat(64), 'UPPER-case', 'under_score', '-dash', 'dash-', 'a..b', '192.168.1.10', 'xn--abc', 'abc-s3alias', '../etc', 'a/b', ''];

const bytesOf = (text: string) => Buffer.from(text, 'utf8');
const byUtf8 = (a: string, b: string) => Buffer.compare(bytesOf(a), bytesOf(b));

export function describeObjectStoreConformance(name: string, factory: ObjectStoreFactory): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let target: ObjectStoreUnderTest;
    let store: ObjectStore;
    const buckets: string[] = [];

    beforeAll(async () => {
      target = await factory();
      store = target.store;
    });

    afterAll(async () => {
      if (!target) return;
      try {
        for (const bucket of buckets) await store.removeBucket(bucket);
      } finally {
        await target.cleanup();
      }
    });

    /** A bucket name of the test's own (created unless `create` is false). */
    const bucketOfTest = async (create = true): Promise<string> => {
      const bucket = bucketNameFor(randomUUID());
      buckets.push(bucket);
      if (create) await store.createBucket(bucket);
      return bucket;
    };

    /** Put many objects, a few at a time. */
    const putAll = async (bucket: string, keys: readonly string[], body: (key: string) => Buffer = bytesOf): Promise<void> => {
      for (let start = 0; start < keys.length; start += 25) {
        await Promise.all(keys.slice(start, start + 25).map((key) => store.put(bucket, key, body(key))));
      }
    };

    /** Every key of a bucket (or under a prefix), page by page; checks each page's shape. */
    const listAll = async (bucket: string, limit: number, prefix?: string): Promise<{ keys: string[]; pages: number[] }> => {
      const keys: string[] = [];
      const pages: number[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = await store.list(bucket, { limit, ...(prefix !== undefined ? { prefix } : {}), ...(startAfter !== undefined ? { startAfter } : {}) });
        expect(page.keys.length).toBeLessThanOrEqual(limit);
        keys.push(...page.keys);
        pages.push(page.keys.length);
        if (page.nextStartAfter === undefined) return { keys, pages };
        expect(page.nextStartAfter).toBe(page.keys[page.keys.length - 1]);
        startAfter = page.nextStartAfter;
        expect(pages.length).toBeLessThan(100);
      }
    };

    describe('buckets', () => {
      it('creates a bucket, idempotently, and tells which buckets exist', async () => {
        const bucket = await bucketOfTest(false);
        expect(await store.bucketExists(bucket)).toBe(false);
        await store.createBucket(bucket);
        expect(await store.bucketExists(bucket)).toBe(true);
        await store.put(bucket, 'kept', bytesOf('still here'));
        await store.createBucket(bucket);
        expect(await store.bucketExists(bucket)).toBe(true);
        expect(await store.get(bucket, 'kept')).toEqual(bytesOf('still here'));
      });

      it('creates one bucket from concurrent calls', async () => {
        const bucket = await bucketOfTest(false);
        await Promise.all(Array.from({ length: 4 }, () => store.createBucket(bucket)));
        expect(await store.bucketExists(bucket)).toBe(true);
      });

      it('removes a bucket with every object in it; removing an absent bucket is fine', async () => {
        const bucket = await bucketOfTest();
        const keys = ['top', 'nested/deeper/object', LONGEST_KEY, WIDEST_KEY, ...Array.from({ length: 30 }, (_, index) => `many/${String(index).padStart(2, '0')}`)];
        await putAll(bucket, keys);
        await store.removeBucket(bucket);
        expect(await store.bucketExists(bucket)).toBe(false);
        await expectCode(store.get(bucket, 'top'), 'NOT_FOUND');
        await store.removeBucket(bucket);
        await store.removeBucket(await bucketOfTest(false));
        // A new bucket of the same name starts empty.
        await store.createBucket(bucket);
        expect(await store.list(bucket, { limit: 10 })).toEqual({ keys: [] });
        await expectCode(store.get(bucket, LONGEST_KEY), 'NOT_FOUND');
      });

      it('removes a bucket of more objects than one listing page', async () => {
        const bucket = await bucketOfTest();
        await putAll(bucket, Array.from({ length: MAX_LIST_LIMIT + 5 }, (_, index) => `bulk/${String(index).padStart(4, '0')}`), () => Buffer.alloc(1));
        await store.removeBucket(bucket);
        expect(await store.bucketExists(bucket)).toBe(false);
      }, 60_000);

      it('rejects bucket names that break the S3 naming rules, naming the field', async () => {
        for (const bucket of INVALID_BUCKETS) {
          await expectCode(store.createBucket(bucket), 'VALIDATION_FAILED', 'bucket');
          await expectCode(store.bucketExists(bucket), 'VALIDATION_FAILED', 'bucket');
          await expectCode(store.removeBucket(bucket), 'VALIDATION_FAILED', 'bucket');
          await expectCode(store.put(bucket, 'k', bytesOf('v')), 'VALIDATION_FAILED', 'bucket');
          await expectCode(store.get(bucket, 'k'), 'VALIDATION_FAILED', 'bucket');
          await expectCode(store.head(bucket, 'k'), 'VALIDATION_FAILED', 'bucket');
          await expectCode(store.delete(bucket, 'k'), 'VALIDATION_FAILED', 'bucket');
          await expectCode(store.list(bucket, { limit: 1 }), 'VALIDATION_FAILED', 'bucket');
        }
      });

      it('keeps buckets apart: same key, separate objects, listings and removal', async () => {
        const first = await bucketOfTest();
        const second = await bucketOfTest();
        await store.put(first, 'shared/key', bytesOf('first'));
        await store.put(second, 'shared/key', bytesOf('second'));
        await store.put(first, 'only/first', bytesOf('1'));
        expect(await store.get(first, 'shared/key')).toEqual(bytesOf('first'));
        expect(await store.get(second, 'shared/key')).toEqual(bytesOf('second'));
        expect((await store.list(second, { limit: 10 })).keys).toEqual(['shared/key']);
        await store.delete(first, 'shared/key');
        expect(await store.get(second, 'shared/key')).toEqual(bytesOf('second'));
        await store.removeBucket(first);
        expect(await store.bucketExists(second)).toBe(true);
        expect(await store.get(second, 'shared/key')).toEqual(bytesOf('second'));
        await expectCode(store.get(second, 'only/first'), 'NOT_FOUND');
      });
    });

    describe('objects', () => {
      it('stores, reads, heads and deletes an object', async () => {
        const bucket = await bucketOfTest();
        const body = randomBytes(4096);
        await store.put(bucket, 'secrets/s1/versions/v1', body);
        expect(await store.get(bucket, 'secrets/s1/versions/v1')).toEqual(body);
        const info = await store.head(bucket, 'secrets/s1/versions/v1');
        expect(info.size).toBe(body.length);
        if (info.etag !== undefined) expect(info.etag).not.toBe('');
        await store.delete(bucket, 'secrets/s1/versions/v1');
        await expectCode(store.get(bucket, 'secrets/s1/versions/v1'), 'NOT_FOUND');
        await expectCode(store.head(bucket, 'secrets/s1/versions/v1'), 'NOT_FOUND');
        expect(await store.list(bucket, { limit: 10 })).toEqual({ keys: [] });
      });

      it('overwrites an object with shorter and longer bytes', async () => {
        const bucket = await bucketOfTest();
        const long = randomBytes(10_000);
        const short = bytesOf('short');
        await store.put(bucket, 'key', long);
        await store.put(bucket, 'key', short);
        expect(await store.get(bucket, 'key')).toEqual(short);
        expect((await store.head(bucket, 'key')).size).toBe(short.length);
        await store.put(bucket, 'key', long);
        expect(await store.get(bucket, 'key')).toEqual(long);
        expect((await store.list(bucket, { limit: 10 })).keys).toEqual(['key']);
      });

      it('deletes idempotently: an absent object, an absent bucket', async () => {
        const bucket = await bucketOfTest();
        await store.put(bucket, 'once', bytesOf('x'));
        await store.delete(bucket, 'once');
        await store.delete(bucket, 'once');
        await store.delete(bucket, 'never/there');
        await store.delete(await bucketOfTest(false), 'anything');
        await expectCode(store.get(bucket, 'once'), 'NOT_FOUND');
      });

      it('answers NOT_FOUND for a missing object, and for get/head/put/list in an absent bucket', async () => {
        const bucket = await bucketOfTest();
        await store.put(bucket, 'present', bytesOf('x'));
        await expectCode(store.get(bucket, 'absent'), 'NOT_FOUND');
        await expectCode(store.head(bucket, 'absent'), 'NOT_FOUND');
        await expectCode(store.get(bucket, 'present/child'), 'NOT_FOUND');
        await expectCode(store.get(bucket, 'pres'), 'NOT_FOUND');
        const absent = await bucketOfTest(false);
        await expectCode(store.get(absent, 'present'), 'NOT_FOUND');
        await expectCode(store.head(absent, 'present'), 'NOT_FOUND');
        await expectCode(store.put(absent, 'present', bytesOf('x')), 'NOT_FOUND');
        await expectCode(store.put(absent, 'nested/deeper/key', bytesOf('x')), 'NOT_FOUND');
        await expectCode(store.list(absent, { limit: 1 }), 'NOT_FOUND');
        // A put never creates the bucket.
        expect(await store.bucketExists(absent)).toBe(false);
      });

      it('keeps bytes exactly: every byte value, an empty object', async () => {
        const bucket = await bucketOfTest();
        await store.put(bucket, 'binary', ALL_BYTES);
        await store.put(bucket, 'empty', Buffer.alloc(0));
        await store.put(bucket, 'view', new Uint8Array(ALL_BYTES.buffer, ALL_BYTES.byteOffset + 10, 20));
        expect(await store.get(bucket, 'binary')).toEqual(ALL_BYTES);
        expect((await store.head(bucket, 'binary')).size).toBe(512);
        expect(await store.get(bucket, 'empty')).toEqual(Buffer.alloc(0));
        expect((await store.head(bucket, 'empty')).size).toBe(0);
        expect(await store.get(bucket, 'view')).toEqual(ALL_BYTES.subarray(10, 30));
      });

      it('takes keys with slashes, unicode and characters that URLs and XML escape, and lists them back', async () => {
        const bucket = await bucketOfTest();
        await putAll(bucket, UNUSUAL_KEYS);
        for (const key of UNUSUAL_KEYS) {
          expect(await store.get(bucket, key)).toEqual(bytesOf(key));
          expect((await store.head(bucket, key)).size).toBe(bytesOf(key).length);
        }
        expect((await store.list(bucket, { limit: 100 })).keys).toEqual([...UNUSUAL_KEYS].sort(byUtf8));
        expect((await store.list(bucket, { limit: 100, prefix: 'ünïcødé/' })).keys).toEqual(['ünïcødé/秘密/🔑']);
        expect((await store.list(bucket, { limit: 100, prefix: 'with space/and+' })).keys).toEqual(['with space/and+plus%20percent']);
        for (const key of UNUSUAL_KEYS) await store.delete(bucket, key);
        expect((await store.list(bucket, { limit: 100 })).keys).toEqual([]);
      });

      it('takes the longest keys: 512 characters, 1024 bytes', async () => {
        expect([...LONGEST_KEY]).toHaveLength(512);
        expect(bytesOf(WIDEST_KEY)).toHaveLength(1024);
        const bucket = await bucketOfTest();
        await store.put(bucket, LONGEST_KEY, bytesOf('long'));
        await store.put(bucket, WIDEST_KEY, bytesOf('wide'));
        expect(await store.get(bucket, LONGEST_KEY)).toEqual(bytesOf('long'));
        expect(await store.get(bucket, WIDEST_KEY)).toEqual(bytesOf('wide'));
        expect((await store.list(bucket, { limit: 10 })).keys).toEqual([LONGEST_KEY, WIDEST_KEY].sort(byUtf8));
        await store.delete(bucket, LONGEST_KEY);
        await store.delete(bucket, WIDEST_KEY);
        expect((await store.list(bucket, { limit: 10 })).keys).toEqual([]);
      });

      it.each(INVALID_KEYS)('rejects an invalid key (%s) on every object call, naming the field', async (_label, key) => {
        const bucket = await bucketOfTest();
        await expectCode(store.put(bucket, key, bytesOf('v')), 'VALIDATION_FAILED', 'key');
        await expectCode(store.get(bucket, key), 'VALIDATION_FAILED', 'key');
        await expectCode(store.head(bucket, key), 'VALIDATION_FAILED', 'key');
        await expectCode(store.delete(bucket, key), 'VALIDATION_FAILED', 'key');
        expect((await store.list(bucket, { limit: 10 })).keys).toEqual([]);
      });

      it('stores objects of 1 MiB and of the maximum size, and refuses larger ones', async () => {
        const bucket = await bucketOfTest();
        const mebibyte = randomBytes(1024 * 1024);
        const largest = randomBytes(MAX_OBJECT_BYTES);
        await store.put(bucket, 'one-mib', mebibyte);
        await store.put(bucket, 'largest', largest);
        expectSameBytes(await store.get(bucket, 'one-mib'), mebibyte);
        expectSameBytes(await store.get(bucket, 'largest'), largest);
        expect((await store.head(bucket, 'largest')).size).toBe(MAX_OBJECT_BYTES);
        await expectCode(store.put(bucket, 'too-large', Buffer.alloc(MAX_OBJECT_BYTES + 1)), 'PAYLOAD_TOO_LARGE');
        await expectCode(store.get(bucket, 'too-large'), 'NOT_FOUND');
      });

      it('takes concurrent puts: distinct keys all land, one key ends with one whole value', async () => {
        const bucket = await bucketOfTest();
        const keys = Array.from({ length: 40 }, (_, index) => `concurrent/${String(index).padStart(2, '0')}`);
        await Promise.all(keys.map((key) => store.put(bucket, key, bytesOf(key))));
        for (const key of keys) expect(await store.get(bucket, key)).toEqual(bytesOf(key));
        // One length: s3rver overwrites in place, so values of different lengths could leave a tail.
        const candidates = Array.from({ length: 12 }, (_, index) => Buffer.alloc(50_000, index + 1));
        await Promise.all(candidates.map((body) => store.put(bucket, 'contended', body)));
        const final = await store.get(bucket, 'contended');
        expect(candidates.some((body) => body.equals(final))).toBe(true);
        expect((await store.list(bucket, { limit: 100 })).keys).toEqual([...keys, 'contended'].sort(byUtf8));
      });
    });

    describe('listing', () => {
      const PAGED = Array.from({ length: 250 }, (_, index) => `page/${String(index).padStart(3, '0')}`);
      const OUTSIDE = ['pag', 'pagf', 'other/page/000', 'other/x'];

      it('lists by prefix in UTF-8 byte order, a page at a time, each key once', async () => {
        const bucket = await bucketOfTest();
        // Put in a scrambled order: the listing order is the store's, not the insertion's.
        await putAll(bucket, [...PAGED].reverse().concat(OUTSIDE), () => Buffer.alloc(0));
        const { keys, pages } = await listAll(bucket, 100, 'page/');
        expect(pages).toEqual([100, 100, 50]);
        expect(keys).toEqual(PAGED);
        const everything = await listAll(bucket, 100);
        expect(everything.keys).toEqual([...PAGED, ...OUTSIDE].sort(byUtf8));
        expect(new Set(everything.keys).size).toBe(PAGED.length + OUTSIDE.length);
        expect((await store.list(bucket, { limit: 10, prefix: 'other/' })).keys).toEqual(['other/page/000', 'other/x']);
      });

      it('ends paging exactly at the last key, and starts after any string', async () => {
        const bucket = await bucketOfTest();
        await putAll(bucket, PAGED, () => Buffer.alloc(0));
        expect((await listAll(bucket, 125, 'page/')).pages).toEqual([125, 125]);
        expect((await listAll(bucket, MAX_LIST_LIMIT, 'page/')).pages).toEqual([250]);
        const middle = await store.list(bucket, { prefix: 'page/', startAfter: 'page/1235', limit: 3 });
        expect(middle).toEqual({ keys: ['page/124', 'page/125', 'page/126'], nextStartAfter: 'page/126' });
        const tail = await store.list(bucket, { prefix: 'page/', startAfter: 'page/247', limit: 5 });
        expect(tail).toEqual({ keys: ['page/248', 'page/249'] });
        expect(await store.list(bucket, { prefix: 'page/', startAfter: 'page/249', limit: 5 })).toEqual({ keys: [] });
        expect(await store.list(bucket, { prefix: 'page/', startAfter: 'page0', limit: 5 })).toEqual({ keys: [] });
        expect(await store.list(bucket, { prefix: 'nothing/', limit: 5 })).toEqual({ keys: [] });
        expect((await store.list(bucket, { startAfter: 'a', limit: 1 })).keys).toEqual(['page/000']);
      });

      it('lists an empty bucket as no keys', async () => {
        const bucket = await bucketOfTest();
        expect(await store.list(bucket, { limit: 1 })).toEqual({ keys: [] });
      });

      it('rejects invalid list options, naming the field', async () => {
        const bucket = await bucketOfTest();
        await expectCode(store.list(bucket, { limit: 0 }), 'VALIDATION_FAILED', 'limit');
        await expectCode(store.list(bucket, { limit: MAX_LIST_LIMIT + 1 }), 'VALIDATION_FAILED', 'limit');
        await expectCode(store.list(bucket, { limit: 1.5 }), 'VALIDATION_FAILED', 'limit');
        await expectCode(store.list(bucket, { limit: 1, prefix: 'a\u0000' }), 'VALIDATION_FAILED', 'prefix');
        await expectCode(store.list(bucket, { limit: 1, prefix: 'x'.repeat(1025) }), 'VALIDATION_FAILED', 'prefix');
        await expectCode(store.list(bucket, { limit: 1, startAfter: '\ud800' }), 'VALIDATION_FAILED', 'startAfter');
      });
    });
  });
}
