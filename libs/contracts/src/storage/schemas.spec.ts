import { describe, expect, it } from 'vitest';
import { Subjects } from '../subjects.js';
import {
  BucketRequest,
  compareKeys,
  ListObjectsRequest,
  MAX_KEY_BYTES,
  MAX_KEY_CHARS,
  MAX_LIST_LIMIT,
  MAX_OBJECT_BYTES,
  ObjectRequest,
  objectKeyProblem,
  PutObjectRequest,
} from './schemas.js';

const instanceGuid = '9b2f0c1e-7d3a-4e5b-8c6d-1f2e3a4b5c6d';
const fieldsOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((issue) => issue.path.join('.')) ?? [];

describe('object keys', () => {
  it.each(['a', 'a/b/c', 'ünïcødé/秘密/🔑', ' padded ', 'a..b', '.hidden/x', 'x/.y', 'back\\slash', 'k'.repeat(MAX_KEY_CHARS), '秘'.repeat(341) + 'x'])(
    'accepts %j',
    (key) => {
      expect(objectKeyProblem(key)).toBeUndefined();
    },
  );

  it.each([
    ['', 'empty'],
    ['/a', 'start with "/"'],
    ['a/../b', '".." segments'],
    ['..', '".." segments'],
    ['./a', '"." or'],
    ['a//b', 'empty segments'],
    ['a/', 'empty segments'],
    ['a\u0000', 'control'],
    ['a\u009f', 'control'],
    ['a\ud83d', 'lone surrogates'],
    ['k'.repeat(MAX_KEY_CHARS + 1), `${MAX_KEY_CHARS} characters`],
    ['秘'.repeat(341) + 'xx', `${MAX_KEY_BYTES} bytes`],
  ])('refuses %j (%s)', (key, reason) => {
    expect(objectKeyProblem(key)).toContain(reason);
  });

  it('counts characters as code points: 512 emoji are too many bytes, not too many characters', () => {
    expect(objectKeyProblem('🔑'.repeat(256))).toBeUndefined();
    expect(objectKeyProblem('🔑'.repeat(257))).toContain('bytes');
  });

  it('orders keys by their UTF-8 bytes, as S3 lists them', () => {
    const keys = ['\u{1F511}', '\uFF61', 'b', 'a/b', 'a-b', 'a'];
    expect([...keys].sort(compareKeys)).toEqual(['a', 'a-b', 'a/b', 'b', '\uFF61', '\u{1F511}']);
  });
});

describe('storage wire schemas', () => {
  it('are the schemas of the storage subjects', () => {
    expect(Subjects['storage.bucket.create'].request).toBe(BucketRequest);
    expect(Subjects['storage.object.put'].request).toBe(PutObjectRequest);
    expect(Subjects['storage.object.get'].request).toBe(ObjectRequest);
    expect(Subjects['storage.object.list'].request).toBe(ListObjectsRequest);
  });

  it('name instances, never buckets', () => {
    expect(BucketRequest.parse({ instanceGuid })).toEqual({ instanceGuid });
    expect(BucketRequest.parse({ instanceGuid: instanceGuid.toUpperCase() })).toEqual({ instanceGuid: instanceGuid.toUpperCase() });
    expect(fieldsOf(BucketRequest.safeParse({ instanceGuid, bucket: 'mine' }))).toEqual(['']);
    expect(BucketRequest.safeParse({ instanceGuid, bucket: 'mine' }).error?.issues[0]?.code).toBe('unrecognized_keys');
    expect(fieldsOf(BucketRequest.safeParse({ instanceGuid: 'sbx-9b2f0c1e7d3a4e5b8c6d1f2e3a4b5c6d' }))).toEqual(['instanceGuid']);
    expect(fieldsOf(ObjectRequest.safeParse({ instanceGuid, key: '../x' }))).toEqual(['key']);
  });

  it('take a body of bytes of at most 2 MiB, empty included; nothing else', () => {
    const body = (value: unknown) => PutObjectRequest.safeParse({ instanceGuid, key: 'k', body: value });
    expect(body(Buffer.alloc(0)).success).toBe(true);
    expect(body(new Uint8Array([0, 1, 2])).success).toBe(true);
    expect(body(Buffer.alloc(MAX_OBJECT_BYTES)).success).toBe(true);
    for (const bad of ['AAEC', [0, 1, 2], null, Buffer.alloc(MAX_OBJECT_BYTES + 1)]) {
      expect(fieldsOf(body(bad)), String(bad).slice(0, 12)).toEqual(['body']);
    }
  });

  it('default a listing to the largest page and bound its options', () => {
    expect(ListObjectsRequest.parse({ instanceGuid })).toEqual({ instanceGuid, limit: MAX_LIST_LIMIT });
    expect(ListObjectsRequest.parse({ instanceGuid, prefix: '', startAfter: 'page/1', limit: 1 })).toEqual({ instanceGuid, prefix: '', startAfter: 'page/1', limit: 1 });
    expect(fieldsOf(ListObjectsRequest.safeParse({ instanceGuid, limit: 0 }))).toEqual(['limit']);
    expect(fieldsOf(ListObjectsRequest.safeParse({ instanceGuid, limit: MAX_LIST_LIMIT + 1 }))).toEqual(['limit']);
    expect(fieldsOf(ListObjectsRequest.safeParse({ instanceGuid, prefix: 'a\tb' }))).toEqual(['prefix']);
    expect(fieldsOf(ListObjectsRequest.safeParse({ instanceGuid, startAfter: 'x'.repeat(MAX_KEY_BYTES + 1) }))).toEqual(['startAfter']);
  });
});
