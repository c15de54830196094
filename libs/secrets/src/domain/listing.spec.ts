import { randomInt, randomUUID } from 'node:crypto';
import { SecretsWire } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import {
  applyPlan,
  compareByPlan,
  lastPageOffset,
  matchesAllLabels,
  matchesFilters,
  pageLinks,
  planSecretList,
  secretListLinkQuery,
  secretOrderBy,
  type ListableSecret,
  type PageLinks,
} from './listing.js';

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

describe('matchesAllLabels', () => {
  it('needs every listed label', () => {
    expect(matchesAllLabels(['prod', 'eu', 'db'], ['prod', 'db'])).toBe(true);
    expect(matchesAllLabels(['prod', 'eu'], ['prod', 'db'])).toBe(false);
    expect(matchesAllLabels([], ['prod'])).toBe(false);
    expect(matchesAllLabels([], undefined)).toBe(true);
    expect(matchesAllLabels(['x'], [])).toBe(true);
  });

  it('matches labels exactly (case and whole label)', () => {
    expect(matchesAllLabels(['Prod'], ['prod'])).toBe(false);
    expect(matchesAllLabels(['production'], ['prod'])).toBe(false);
  });
});

function secret(overrides: Partial<ListableSecret> & { name: string }): ListableSecret {
  return {
    id: randomUUID(),
    labels: [],
    secret_type: 'arbitrary',
    secret_group_id: 'default',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('running a plan in memory', () => {
  const group = randomUUID();
  // Fixed ids: a random UUID could contain a searched text such as "db".
  const secrets = [
    secret({ id: '00000000-0000-4000-8000-000000000001', name: 'alpha', labels: ['prod', 'eu'], created_at: '2026-01-03T00:00:00.000Z', expiration_date: '2027-01-01T00:00:00.000Z' }),
    secret({ id: '00000000-0000-4000-8000-000000000002', name: 'beta', description: 'The DB password', secret_type: 'username_password', secret_group_id: group }),
    secret({ id: '00000000-0000-4000-8000-000000000003', name: 'gamma', labels: ['prod'], secret_type: 'kv', created_at: '2026-01-02T00:00:00.000Z', expiration_date: '2026-06-01T00:00:00.000Z' }),
    secret({ id: '00000000-0000-4000-8000-000000000004', name: 'delta', secret_type: 'kv', secret_group_id: group }),
  ];
  const names = (raw: Record<string, string>) => applyPlan(secrets, planSecretList(query(raw))).page.map((entry) => entry.name);

  it('filters by search (id, name, description, label, type; any case), groups, types and labels', () => {
    expect(names({ search: 'db' })).toEqual(['beta']);
    expect(names({ search: 'GAM' })).toEqual(['gamma']);
    expect(names({ search: 'password' })).toEqual(['beta']);
    expect(names({ search: 'eu' })).toEqual(['alpha']);
    expect(names({ search: '0000000004' })).toEqual(['delta']);
    expect(names({ groups: group, sort: 'name' })).toEqual(['beta', 'delta']);
    expect(names({ secret_types: 'kv', sort: 'name' })).toEqual(['delta', 'gamma']);
    expect(names({ match_all_labels: 'prod', sort: 'name' })).toEqual(['alpha', 'gamma']);
    expect(names({ match_all_labels: 'prod,eu' })).toEqual(['alpha']);
    expect(names({ groups: 'default', secret_types: 'kv' })).toEqual(['gamma']);
    expect(matchesFilters(secrets[0] as ListableSecret, {})).toBe(true);
  });

  it('puts secrets without a value last ascending and first descending', () => {
    expect(names({ sort: 'expiration_date' }).slice(0, 2)).toEqual(['gamma', 'alpha']);
    expect(names({ sort: '-expiration_date' }).slice(2)).toEqual(['alpha', 'gamma']);
    expect(names({ sort: '-name' })).toEqual(['gamma', 'delta', 'beta', 'alpha']);
  });

  /** A copy in a fresh random order: a database returns rows that tie in no particular order. */
  function shuffled<T>(rows: readonly T[]): T[] {
    const copy = [...rows];
    for (let index = copy.length - 1; index > 0; index -= 1) {
      const other = randomInt(index + 1);
      [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
    }
    return copy;
  }

  it('returns each secret exactly once across pages when many tie on the sort column, whatever order ties arrive in', () => {
    const many = Array.from({ length: 450 }, (_, index) => secret({ name: `s-${index % 7}` }));
    for (const sort of ['created_at', '-created_at', 'name', '-secret_type', 'expiration_date']) {
      const seen: string[] = [];
      let offset = 0;
      for (;;) {
        const plan = planSecretList(query({ sort, limit: '100', offset: String(offset) }));
        const { page, totalCount } = applyPlan(shuffled(many), plan);
        seen.push(...page.map((entry) => entry.id));
        const links = pageLinks({ path: PATH, query: {}, offset, limit: 100, totalCount });
        if (!links.next) break;
        offset = Number(params(links.next.href).offset);
      }
      expect(seen).toHaveLength(450);
      expect(new Set(seen).size).toBe(450);
    }
  });

  it('orders rows that tie everywhere but on id by id', () => {
    const [a, b] = [secret({ name: 'same', id: 'a' }), secret({ name: 'same', id: 'b' })];
    expect(compareByPlan(secretOrderBy('name'))(a, b)).toBeLessThan(0);
    expect(compareByPlan(secretOrderBy('-name'))(a, b)).toBeGreaterThan(0);
    expect(compareByPlan(secretOrderBy('name'))(a, a)).toBe(0);
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
