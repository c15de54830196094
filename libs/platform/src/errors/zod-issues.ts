import type { FieldIssue } from '@sealbox/contracts';
import type { z } from 'zod';

/** Flatten zod issues into the field list reported with VALIDATION_FAILED. */
export function fieldIssuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
}
