/** The errors secrets and versions raise for a caller's input, and the checks shared by every type. */
import { conflict, fieldIssuesOf, validationFailed } from '@sealbox/platform';
import type { z } from 'zod';

/** Parse with a contract schema; a failure is VALIDATION_FAILED naming each field (under `prefix` when given). */
export function parseOrFail<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = fieldIssuesOf(parsed.error);
  throw validationFailed(prefix === undefined ? issues : issues.map((issue) => ({ ...issue, field: issue.field === '(root)' ? prefix : `${prefix}.${issue.field}` })));
}

export const fieldError = (field: string, message: string) => validationFailed([{ field, message }]);

/** A secret's name is unique per group and type (getSecretByNameType names all three). */
export const secretNameTaken = (name: string, type: string, groupId: string) =>
  conflict(`A ${type} secret named "${name}" already exists in secret group ${groupId}`);

/** 409 naming the locks that keep a secret or version from being deleted. */
export function lockedConflict(what: string, locks: ReadonlyMap<string, readonly string[]>): Error {
  const named = [...locks.entries()].map(([versionId, names]) => `version ${versionId}: ${names.join(', ')}`).join('; ');
  return conflict(`${what} is locked (${named}): remove the locks first`);
}

/** An expiration date must lie in the future. */
export function checkExpiration(expirationDate: string | undefined | null, now: number, field = 'expiration_date'): number | null {
  if (expirationDate === undefined || expirationDate === null) return null;
  const at = Date.parse(expirationDate);
  if (!(at > now)) throw fieldError(field, 'must be in the future');
  return at;
}
