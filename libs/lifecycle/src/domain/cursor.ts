import { validationFailed } from '@sealbox/platform';

/** Where a page of instances starts: just after this row in (created_at, guid) order. */
export interface InstanceCursor {
  readonly createdAt: number;
  readonly guid: string;
}

/** An opaque `start` value: base64url of `[createdAt, guid]`. */
export function encodeCursor(cursor: InstanceCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.guid])).toString('base64url');
}

/** The cursor of a `start` value; VALIDATION_FAILED naming `start` when it is not one of ours. */
export function decodeCursor(start: string): InstanceCursor {
  const invalid = () => validationFailed([{ field: 'start', message: 'is not a paging token from next_url' }]);
  if (!/^[A-Za-z0-9_-]+$/.test(start)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(start, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [createdAt, guid] = value as unknown[];
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || typeof guid !== 'string' || guid.length === 0 || guid.length > 64) throw invalid();
  return { createdAt, guid };
}

/** `next_url`: the list's path with the request's filters, `start` and `limit`. */
export function nextUrl(path: string, filters: Record<string, string | number | undefined>, start: string, limit: number): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined) query.set(name, String(value));
  query.set('start', start);
  query.set('limit', String(limit));
  return `${path}?${query.toString()}`;
}
