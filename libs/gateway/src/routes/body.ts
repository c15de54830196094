import { Subjects, type RequestOf, type Subject } from '@sealbox/contracts';
import { DomainError, fieldIssuesOf, validationFailed } from '@sealbox/platform';

/** A JSON/form body as a plain object (an empty body is an empty object). */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new DomainError('INVALID_BODY', 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/**
 * Check an HTTP input against the subject's request schema at the edge, so the caller learns about
 * bad fields without a hop, and the typed client gets a typed request. The service validates again.
 */
export function requestFor<S extends Subject>(subject: S, input: unknown): RequestOf<S> {
  const parsed = Subjects[subject].request.safeParse(input);
  if (!parsed.success) throw validationFailed(fieldIssuesOf(parsed.error));
  return parsed.data as RequestOf<S>;
}
