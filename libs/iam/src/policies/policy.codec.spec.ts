import { roleCrn } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, etagMatches, storedContent, toWirePolicy } from './policy.codec.js';
import { PolicyEntity } from './policy.entity.js';

function refusal(start: string): DomainError {
  try {
    decodeCursor(start);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('the start token was accepted');
}

describe('start tokens', () => {
  it('round-trip the position of a row', () => {
    const row = { createdAt: 1_767_225_600_123, id: '6b1f3c1e-1a2b-4c3d-8e9f-0123456789ab' };
    const token = encodeCursor(row);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(token)).toEqual(row);
  });

  it.each([
    ['not base64 JSON', '!!!'],
    ['JSON of another shape', Buffer.from('{"a":1}').toString('base64url')],
    ['a fractional time', Buffer.from('[1.5,"x"]').toString('base64url')],
    ['an empty id', Buffer.from('[1,""]').toString('base64url')],
    ['an over-long id', Buffer.from(JSON.stringify([1, 'x'.repeat(37)])).toString('base64url')],
  ])('refuses %s with VALIDATION_FAILED on start', (_name, start) => {
    const error = refusal(start);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([{ field: 'start', message: 'Not a start token this service issued' }]);
  });
});

describe('etagMatches', () => {
  it.each([
    ['the bare etag', 'abc', true],
    ['the quoted etag', '"abc"', true],
    ['a weak etag', 'W/"abc"', true],
    ['any', '*', true],
    ['one of a list', '"x", "abc"', true],
    ['another etag', '"abd"', false],
    ['a prefix', 'ab', false],
  ])('%s', (_name, ifMatch, expected) => {
    expect(etagMatches(ifMatch, 'abc')).toBe(expected);
  });
});

describe('toWirePolicy', () => {
  it('shows the stored policy with role CRNs, ISO times, its href and etag', () => {
    const row = Object.assign(new PolicyEntity(), {
      id: 'p1',
      accountId: 'a',
      type: 'access' as const,
      subjectKey: 'IBMid-x',
      resourceService: null,
      ...storedContent({
        type: 'access',
        subjectKey: 'IBMid-x',
        resourceService: null,
        subject: [{ name: 'iam_id', value: 'IBMid-x' }],
        resource: [{ name: 'accountId', value: 'a' }],
        roles: ['Viewer', 'Manager'],
        description: null,
      }),
      description: null,
      createdAt: Date.UTC(2026, 0, 1),
      createdBy: 'IBMid-admin',
      lastModifiedAt: Date.UTC(2026, 0, 2),
      lastModifiedBy: 'IBMid-other',
      etag: 'e1',
    });
    expect(toWirePolicy(row)).toEqual({
      id: 'p1',
      type: 'access',
      subjects: [{ attributes: [{ name: 'iam_id', value: 'IBMid-x' }] }],
      roles: [
        { role_id: roleCrn('Viewer'), display_name: 'Viewer' },
        { role_id: roleCrn('Manager'), display_name: 'Manager' },
      ],
      resources: [{ attributes: [{ name: 'accountId', value: 'a' }] }],
      href: '/v1/policies/p1',
      created_at: '2026-01-01T00:00:00.000Z',
      created_by_id: 'IBMid-admin',
      last_modified_at: '2026-01-02T00:00:00.000Z',
      last_modified_by_id: 'IBMid-other',
      state: 'active',
      etag: 'e1',
    });
  });
});
