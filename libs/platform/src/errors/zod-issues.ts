import type { FieldIssue } from '@sealbox/contracts';
import type { z } from 'zod';

const fieldOf = (path: readonly PropertyKey[]): string => (path.length ? path.map(String).join('.') : '(root)');

/**
 * Flatten zod issues into the field list reported with VALIDATION_FAILED. A field a strict schema
 * does not allow is reported by its own path (zod reports it on the enclosing object), one issue per
 * key, so the caller learns which field to remove.
 */
export function fieldIssuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: fieldOf([...issue.path, key]), message: 'Unrecognized key' }))
      : [{ field: fieldOf(issue.path), message: issue.message }],
  );
}
