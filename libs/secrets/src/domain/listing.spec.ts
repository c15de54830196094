import { SecretsWire } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { lastPageOffset, pageLinks, planSecretList, secretListLinkQuery, secretOrderBy, type PageLinks } from './listing.js';

const query = (raw: Record<string, string>) => SecretsWire.ListSecretsQuery.parse(raw);
const PATH = '/api/v2/secrets';

function params(href: string | undefined): Record<string, string> {
  expect(href).toBeDefined();
  const url = new URL(href ?? '', 'http://relative.invalid');
  expect(url.pathname).toBe(PATH);
  return Object.fromEntries(url.searchParams);
}

describe('planSecretList', () => {
  it('applies the defaults: offset 0, limit 200, oldest first with id as tie-breaker, no filter', () => {
    expect(planSecretList(query({}))).toEqual({
      offset: 0,
      limit: 200,
      orderBy: [
        { column: 'created_at', direction: 'asc', nulls: 'last' },
        { column: 'id', direction: 'asc', nulls: 'last' },
      ],
      filters: {},
    });
  });

  it.each(SecretsWire.SecretSortFields.filter((field) => field !== 'id'))('sorts by %s, ascending and descending, tie-broken on id in the same direction', (field) => {
    expect(secretOrderBy(field)).toEqual([
      { column: field, direction: 'asc', nulls: 'last' },
      { column: 'id', direction: 'asc', nulls: 'last' },
    ]);
    expect(planSecretList(query({ sort: `-${field}` })).orderBy).toEqual([
      { column: field, direction: 'desc', nulls: 'first' },
      { column: 'id', direction: 'desc', nulls: 'first' },
    ]);
  });

  it('sorts by id alone (already unique)', () => {
    expect(secretOrderBy('id')).toEqual([{ column: 'id', direction: 'asc', nulls: 'last' }]);
    expect(secretOrderBy('-id')).toEqual([{ column: 'id', direction: 'desc', nulls: 'first' }]);
  });

  it('carries every filter, without duplicates', () => {
    const plan = planSecretList(
      query({ offset: '20', limit: '1000', search: 'db', groups: 'default,default', secret_types: 'kv,arbitrary', match_all_labels: 'prod,eu,prod' }),
    );
    expect(plan).toMatchObject({ offset: 20, limit: 1000 });
    expect(plan.filters).toEqual({ search: 'db', groups: ['default'], secretTypes: ['kv', 'arbitrary'], labels: ['prod', 'eu'] });
  });

  it('relies on the contract for limit bounds and sort fields', () => {
    expect(SecretsWire.ListSecretsQuery.safeParse({ limit: '0' }).success).toBe(false);
    expect(SecretsWire.ListSecretsQuery.safeParse({ limit: '1001' }).success).toBe(false);
    expect(SecretsWire.ListSecretsQuery.safeParse({ sort: 'colour' }).success).toBe(false);
    expect(planSecretList(query({ limit: '1' })).limit).toBe(1);
  });
});

describe('pageLinks', () => {
  const links = (offset: number, limit: number, totalCount: number, extra: Record<string, string | readonly string[]> = {}): PageLinks =>
    pageLinks({ path: PATH, query: extra, offset, limit, totalCount });

  it('links a middle page both ways and repeats the query in every link', () => {
    const page = links(100, 100, 450, { sort: '-name', groups: ['default', 'g2'] });
    expect(page).toMatchObject({ total_count: 450, limit: 100, offset: 100 });
    for (const link of [page.first, page.last, page.next, page.previous]) {
      expect(params(link?.href)).toMatchObject({ sort: '-name', groups: 'default,g2', limit: '100' });
    }
    expect(page.first.href).toBe(`${PATH}?sort=-name&groups=default%2Cg2&offset=0&limit=100`);
    expect(params(page.last.href).offset).toBe('400');
    expect(params(page.next?.href).offset).toBe('200');
    expect(params(page.previous?.href).offset).toBe('0');
  });

  it('has no previous on the first page and no next on the last', () => {
    const first = links(0, 100, 450);
    expect(first.previous).toBeUndefined();
    expect(params(first.next?.href).offset).toBe('100');
    const last = links(400, 100, 450);
    expect(last.next).toBeUndefined();
    expect(params(last.previous?.href).offset).toBe('300');
    const exact = links(300, 100, 400);
    expect(exact.next).toBeUndefined();
    expect(params(exact.last.href).offset).toBe('300');
  });

  it('has neither on a single page, nor for an empty list', () => {
    const single = links(0, 200, 3);
    expect(single.next).toBeUndefined();
    expect(single.previous).toBeUndefined();
    const empty = links(0, 200, 0);
    expect(empty).toMatchObject({ total_count: 0 });
    expect(empty.next).toBeUndefined();
    expect(empty.previous).toBeUndefined();
    expect(params(empty.last.href).offset).toBe('0');
  });

  it('points previous at the last page from an offset beyond the end, with no next', () => {
    const beyond = links(1000, 100, 450);
    expect(beyond.next).toBeUndefined();
    expect(params(beyond.previous?.href).offset).toBe('400');
    const beyondEmpty = links(50, 100, 0);
    expect(params(beyondEmpty.previous?.href).offset).toBe('0');
  });

  it('steps back to offset 0 from an unaligned offset under the limit', () => {
    expect(params(links(30, 100, 450).previous?.href).offset).toBe('0');
    expect(params(links(130, 100, 450).next?.href).offset).toBe('230');
  });

  it('overrides offset and limit given in the query, and leaves out undefined parameters', () => {
    const page = pageLinks({ path: PATH, query: { offset: '7', limit: '9', search: undefined, sort: 'name' }, offset: 0, limit: 10, totalCount: 5 });
    expect(page.first.href).toBe(`${PATH}?sort=name&offset=0&limit=10`);
  });

  it('rebuilds the links of a parsed query from its parameters', () => {
    const parsed = query({ sort: 'name', search: 'a b', secret_types: 'kv,arbitrary', match_all_labels: 'x1,y1', offset: '5', limit: '5' });
    const page = pageLinks({ path: PATH, query: secretListLinkQuery(parsed), offset: parsed.offset, limit: parsed.limit, totalCount: 20 });
    const next = params(page.next?.href);
    expect(next).toEqual({ sort: 'name', search: 'a b', secret_types: 'kv,arbitrary', match_all_labels: 'x1,y1', offset: '10', limit: '5' });
    expect(SecretsWire.ListSecretsQuery.parse(next)).toMatchObject({ offset: 10, limit: 5, secret_types: ['kv', 'arbitrary'] });
  });

  it('refuses a limit or offset no validated query has', () => {
    expect(() => links(0, 0, 10)).toThrow(RangeError);
    expect(() => links(-1, 10, 10)).toThrow(RangeError);
    expect(lastPageOffset(1001, 1000)).toBe(1000);
    expect(lastPageOffset(1000, 1000)).toBe(0);
  });
});
