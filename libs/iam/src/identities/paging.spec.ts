import { DomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, pageUrl, toPage } from './paging.js';

const rows = (count: number) => Array.from({ length: count }, (_, index) => ({ createdAt: 1000 + index, id: `r${index}` }));
const url = (pagetoken: string | undefined) => pageUrl('/v1/things', { pagesize: 2, pagetoken });

describe('page tokens', () => {
  it('round-trip a cursor', () => {
    const cursor = { offset: 40, createdAt: 1_767_225_600_000, id: 'ApiKey-0d7c' };
    const token = encodePageToken(cursor);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token)).toEqual(cursor);
    expect(decodePageToken(undefined)).toBeUndefined();
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['the wrong shape', Buffer.from(JSON.stringify({ offset: 1 })).toString('base64url')],
    ['a negative offset', Buffer.from(JSON.stringify([-1, 1, 'x'])).toString('base64url')],
  ])('refuse %s with VALIDATION_FAILED on pagetoken', (_what, token) => {
    let caught: unknown;
    try {
      decodePageToken(token);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect((caught as DomainError).code).toBe('VALIDATION_FAILED');
    expect((caught as DomainError).fields).toEqual([{ field: 'pagetoken', message: 'is not a page token of this list' }]);
  });
});

describe('pageUrl', () => {
  it('leaves out undefined parameters and encodes values', () => {
    expect(pageUrl('/v1/apikeys', { account_id: undefined, iam_id: 'iam-ServiceId-a b', pagesize: 20 })).toBe(
      '/v1/apikeys?iam_id=iam-ServiceId-a+b&pagesize=20',
    );
    expect(pageUrl('/v1/apikeys', {})).toBe('/v1/apikeys');
  });
});

describe('toPage', () => {
  it('gives next only when the extra row shows another page, pointing after the last row shown', () => {
    const page = toPage(rows(3), { cursor: undefined, pagesize: 2, idOf: (row) => row.id, url, map: (row) => row.id });
    expect(page.items).toEqual(['r0', 'r1']);
    expect(page.offset).toBe(0);
    expect(page.limit).toBe(2);
    expect(page.first).toBe('/v1/things?pagesize=2');
    const token = new URL(page.next ?? '', 'http://x').searchParams.get('pagetoken');
    expect(decodePageToken(token ?? undefined)).toEqual({ offset: 2, createdAt: 1001, id: 'r1' });
  });

  it('has no next on the last page, even when it is full', () => {
    const cursor = { offset: 2, createdAt: 1001, id: 'r1' };
    const page = toPage(rows(2), { cursor, pagesize: 2, idOf: (row) => row.id, url, map: (row) => row.id });
    expect(page.next).toBeUndefined();
    expect(page.offset).toBe(2);
    const empty = toPage<{ id: string; createdAt: number }, string>([], { cursor, pagesize: 2, idOf: (row) => row.id, url, map: (row) => row.id });
    expect(empty.next).toBeUndefined();
    expect(empty.items).toEqual([]);
  });
});
