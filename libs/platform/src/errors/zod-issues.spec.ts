import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldIssuesOf } from './zod-issues.js';

function issuesOf(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected the value to be refused');
  return fieldIssuesOf(result.error);
}

describe('fieldIssuesOf', () => {
  const Request = z.object({
    name: z.string().min(2),
    labels: z.array(z.string().max(3)).optional(),
    rotation: z.object({ interval: z.number().int().positive() }).strict().optional(),
  });

  it('names each offending field by its dotted path', () => {
    expect(issuesOf(Request, { name: 'x', labels: ['ok', 'too long'], rotation: { interval: -1 } })).toEqual([
      { field: 'name', message: expect.stringContaining('>=2') },
      { field: 'labels.1', message: expect.stringContaining('<=3') },
      { field: 'rotation.interval', message: expect.stringContaining('>0') },
    ]);
  });

  it('names a missing field', () => {
    expect(issuesOf(Request, {})).toEqual([{ field: 'name', message: expect.stringContaining('expected string') }]);
  });

  it('reports a payload of the wrong type as (root)', () => {
    expect(issuesOf(Request, 'text')).toEqual([{ field: '(root)', message: expect.stringContaining('expected object') }]);
  });

  it('names each field a strict object does not allow, at its own path', () => {
    expect(issuesOf(Request, { name: 'ok', rotation: { interval: 1, unit: 'd', every: 2 } })).toEqual([
      { field: 'rotation.unit', message: 'Unrecognized key' },
      { field: 'rotation.every', message: 'Unrecognized key' },
    ]);
    expect(issuesOf(z.object({}).strict(), { extra: 1 })).toEqual([{ field: 'extra', message: 'Unrecognized key' }]);
  });
});
