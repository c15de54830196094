import { Subjects, type FieldIssue, type RequestOf, type Subject } from '@sealbox/contracts';
import { DomainError, fieldIssuesOf, validationFailed } from '@sealbox/platform';
import type { z } from 'zod';

/** A JSON/form body as a plain object (an empty body is an empty object). */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new DomainError('INVALID_BODY', 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/**
 * How the fields of a service request are called on the wire, when the names differ (`secretId` is the
 * `secret_id` of the path): a bad field is reported under the name the client wrote.
 */
export type WireNames = Readonly<Record<string, string>>;

function renamed(issue: FieldIssue, names: WireNames): FieldIssue {
  const dot = issue.field.indexOf('.');
  const head = dot === -1 ? issue.field : issue.field.slice(0, dot);
  const wire = names[head];
  return wire === undefined ? issue : { ...issue, field: wire + (dot === -1 ? '' : issue.field.slice(dot)) };
}

/**
 * Check an HTTP input against the subject's request schema at the edge, so the caller learns about
 * bad fields without a hop, and the typed client gets a typed request. The service validates again.
 */
export function requestFor<S extends Subject>(subject: S, input: unknown, names: WireNames = {}): RequestOf<S> {
  const parsed = Subjects[subject].request.safeParse(input);
  if (!parsed.success) throw validationFailed(fieldIssuesOf(parsed.error).map((issue) => renamed(issue, names)));
  return parsed.data as RequestOf<S>;
}

/**
 * Check one part of an HTTP input (a body, a query string) against its public wire schema before it is
 * wrapped in a service request: a bad field is named as the client wrote it (`payload`, `limit`), not
 * by its place in the request (`secret.payload`, `query.limit`). Answers the parsed value (defaults applied).
 */
export function checked<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationFailed(fieldIssuesOf(parsed.error));
  return parsed.data;
}

/** A query string as a plain object (Fastify's may have no prototype). */
export function queryOf(query: unknown): Record<string, unknown> {
  return typeof query === 'object' && query !== null ? { ...(query as Record<string, unknown>) } : {};
}

/** The path of a request URL as the client called it (still percent-encoded), without the query string. */
export function pathOf(request: { readonly url: string }): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}
