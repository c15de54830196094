import { validationFailed } from '@sealbox/platform';
import { Brackets, type SelectQueryBuilder } from 'typeorm';
import { z } from 'zod';

/**
 * Keyset paging over (created_at, id): a page token names the last row of the previous page and the
 * offset of the next one, so rows added or removed meanwhile never make a row appear twice.
 */
export interface PageCursor {
  /** Rows before the page this token opens (the wire `offset`). */
  readonly offset: number;
  readonly createdAt: number;
  readonly id: string;
}

const CursorTuple = z.tuple([z.number().int().min(0), z.number().int().min(0), z.string().min(1).max(120)]);

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.offset, cursor.createdAt, cursor.id])).toString('base64url');
}

/** The cursor of a page token; VALIDATION_FAILED (field `pagetoken`) for anything this service did not issue. */
export function decodePageToken(token: string | undefined): PageCursor | undefined {
  if (token === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = /^[A-Za-z0-9_-]+$/.test(token) ? JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) : undefined;
  } catch {
    decoded = undefined;
  }
  const parsed = CursorTuple.safeParse(decoded);
  if (!parsed.success) throw validationFailed([{ field: 'pagetoken', message: 'is not a page token of this list' }]);
  const [offset, createdAt, id] = parsed.data;
  return { offset, createdAt, id };
}

/** `path?query` with the defined parameters, in the given order. */
export function pageUrl(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface Page<T> {
  readonly offset: number;
  readonly limit: number;
  readonly first: string;
  readonly next?: string;
  readonly items: T[];
}

/**
 * Cut `rows` (fetched with one row more than `pagesize`) into a page. `next` is present only when
 * that extra row proved another page exists.
 */
export function toPage<Row extends { createdAt: number }, T>(
  rows: readonly Row[],
  options: {
    readonly cursor: PageCursor | undefined;
    readonly pagesize: number;
    readonly idOf: (row: Row) => string;
    readonly url: (pagetoken: string | undefined) => string;
    readonly map: (row: Row) => T;
  },
): Page<T> {
  const offset = options.cursor?.offset ?? 0;
  const pageRows = rows.slice(0, options.pagesize);
  const last = pageRows.at(-1);
  const hasMore = rows.length > options.pagesize && last !== undefined;
  return {
    offset,
    limit: options.pagesize,
    first: options.url(undefined),
    ...(hasMore
      ? {
          next: options.url(
            encodePageToken({ offset: offset + pageRows.length, createdAt: last.createdAt, id: options.idOf(last) }),
          ),
        }
      : {}),
    items: pageRows.map(options.map),
  };
}

/**
 * One page plus one row (so `toPage` knows whether another exists) of `query` (alias `row`), in
 * (created_at, id) order after `cursor`.
 */
export function keysetPage<Row extends { createdAt: number }>(
  query: SelectQueryBuilder<Row>,
  idColumn: string,
  cursor: PageCursor | undefined,
  pagesize: number,
): Promise<Row[]> {
  if (cursor) {
    query.andWhere(
      new Brackets((after) =>
        after
          .where('row.createdAt > :afterCreatedAt', { afterCreatedAt: cursor.createdAt })
          .orWhere(`(row.createdAt = :afterCreatedAt AND row.${idColumn} > :afterId)`, { afterId: cursor.id }),
      ),
    );
  }
  return query
    .orderBy('row.createdAt', 'ASC')
    .addOrderBy(`row.${idColumn}`, 'ASC')
    .limit(pagesize + 1)
    .getMany();
}
