import { DomainError } from '@sealbox/platform';

/** A JSON/form body as a plain object (an empty body is an empty object). */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new DomainError('INVALID_BODY', 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
