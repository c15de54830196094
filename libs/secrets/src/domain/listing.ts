/**
 * Listing secrets: a validated `listSecrets` query (SecretsWire.ListSecretsQuery) becomes a plan the
 * SQL store runs (SecretStore.list, tested in secrets/listing.medium.spec.ts), and a page becomes its
 * IBM links.
 *
 * The order always ends on `id` in the direction of the sort, so rows that tie on the sort column
 * keep one order between requests and offset pagination returns each secret exactly once. A missing
 * value (`expiration_date`, `retrieved_at`) sorts as "never": after every date ascending, before them
 * descending (PostgreSQL's default for NULL).
 */
import type { SecretsWire } from '@sealbox/contracts';

type ListSecretsQuery = SecretsWire.ListSecretsQuery;
export type SortColumn = SecretsWire.SecretSortField;
export type SortDirection = 'asc' | 'desc';

export interface OrderBy {
  readonly column: SortColumn;
  readonly direction: SortDirection;
  /** Where rows without a value go. */
  readonly nulls: 'first' | 'last';
}

/** What to select. Every present filter must hold (AND); absent ones do not filter. */
export interface SecretListFilters {
  /** Case-insensitive substring of the id, name, description, a label or the secret type. */
  readonly search?: string;
  /** The secret's group id is one of these (`default` included as written). */
  readonly groups?: readonly string[];
  /** The secret's type is one of these. */
  readonly secretTypes?: readonly SecretsWire.IbmSecretType[];
  /** The secret carries every one of these labels. */
  readonly labels?: readonly string[];
}

export interface SecretListPlan {
  readonly offset: number;
  readonly limit: number;
  readonly orderBy: readonly OrderBy[];
  readonly filters: SecretListFilters;
}

/** The order when the query names none: oldest first. */
export const DEFAULT_SECRET_SORT: SecretsWire.SecretSort = 'created_at';

function orderEntry(column: SortColumn, direction: SortDirection): OrderBy {
  return { column, direction, nulls: direction === 'asc' ? 'last' : 'first' };
}

/** The ORDER BY of a `sort` value (`name`, `-created_at`, …), always ending on `id`. */
export function secretOrderBy(sort: SecretsWire.SecretSort = DEFAULT_SECRET_SORT): OrderBy[] {
  const direction: SortDirection = sort.startsWith('-') ? 'desc' : 'asc';
  const column = (sort.startsWith('-') ? sort.slice(1) : sort) as SortColumn;
  return column === 'id' ? [orderEntry('id', direction)] : [orderEntry(column, direction), orderEntry('id', direction)];
}

/** The storage plan of a validated list query. */
export function planSecretList(query: ListSecretsQuery): SecretListPlan {
  const filters: SecretListFilters = {
    ...(query.search === undefined ? {} : { search: query.search }),
    ...(query.groups === undefined ? {} : { groups: [...new Set(query.groups)] }),
    ...(query.secret_types === undefined ? {} : { secretTypes: [...new Set(query.secret_types)] }),
    ...(query.match_all_labels === undefined ? {} : { labels: [...new Set(query.match_all_labels)] }),
  };
  return { offset: query.offset, limit: query.limit, orderBy: secretOrderBy(query.sort), filters };
}

// ---------- page links ----------

export interface Href {
  readonly href: string;
}

export interface PageLinks {
  readonly total_count: number;
  readonly limit: number;
  readonly offset: number;
  readonly first: Href;
  readonly last: Href;
  /** Absent on the last page (and beyond it): the IBM pagers stop there. */
  readonly next?: Href;
  /** Absent on the first page. */
  readonly previous?: Href;
}

/** A query parameter value; undefined ones are left out, arrays comma-joined (as the IBM SDKs send them). */
export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface PageRequest {
  /** The path of the list (`/api/v2/secrets`, possibly absolute or with the instance prefix). */
  readonly path: string;
  /** The other parameters of the request, repeated in every link (`offset` and `limit` are set here). */
  readonly query: Readonly<Record<string, QueryValue>>;
  readonly offset: number;
  readonly limit: number;
  readonly totalCount: number;
}

/** The offset of the last page: pages start at multiples of `limit`; 0 when nothing matched. */
export function lastPageOffset(totalCount: number, limit: number): number {
  return totalCount === 0 ? 0 : Math.floor((totalCount - 1) / limit) * limit;
}

function hrefOf(request: PageRequest, offset: number): Href {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query)) {
    if (value === undefined || name === 'offset' || name === 'limit') continue;
    params.set(name, typeof value === 'object' ? value.join(',') : String(value));
  }
  params.set('offset', String(offset));
  params.set('limit', String(request.limit));
  return { href: `${request.path}?${params.toString()}` };
}

/**
 * `first`, `last`, `next`, `previous` and the counts of one page. `next` is present only when rows follow
 * the page; `previous` only when the page does not start at 0 — from beyond the end it points at the
 * last page, otherwise at `offset - limit` (at least 0).
 */
export function pageLinks(request: PageRequest): PageLinks {
  const { offset, limit, totalCount } = request;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
  const last = lastPageOffset(totalCount, limit);
  const previousOffset = offset >= totalCount ? last : Math.max(0, offset - limit);
  return {
    total_count: totalCount,
    limit,
    offset,
    first: hrefOf(request, 0),
    last: hrefOf(request, last),
    ...(offset + limit < totalCount ? { next: hrefOf(request, offset + limit) } : {}),
    ...(offset > 0 ? { previous: hrefOf(request, previousOffset) } : {}),
  };
}

/** The parameters of a list query to repeat in its links (everything but offset and limit). */
export function secretListLinkQuery(query: ListSecretsQuery): Record<string, QueryValue> {
  return { sort: query.sort, search: query.search, groups: query.groups, secret_types: query.secret_types, match_all_labels: query.match_all_labels };
}
