import { describe, expect, it } from 'vitest';
import type { ApiKeyEntity, IdentityEntity } from '../entities/index.js';
import { apiKeyCrn, entityTagMatches, serviceIdCrn, serviceIdIamId, serviceIdOf, toApiKey, toServiceId } from './wire.js';

const key: ApiKeyEntity = {
  id: 'ApiKey-1',
  accountId: 'acc',
  iamId: 'iam-ServiceId-s1',
  name: 'ci',
  description: 'for CI',
  lookup: '0123456789abcdef',
  hash: 'scrypt$32768$8$1$salt$hash',
  locked: true,
  entityTag: 3,
  createdBy: 'IBMid-admin',
  createdAt: Date.UTC(2026, 0, 1),
  modifiedAt: Date.UTC(2026, 0, 2),
  expiresAt: null,
  managedBy: null,
};

describe('identity wire shapes', () => {
  it('builds Sealbox CRNs and IBM-style service ID iam_ids', () => {
    expect(apiKeyCrn('acc', 'ApiKey-1')).toBe('crn:v1:sealbox:public:iam-identity::a/acc::apikey:ApiKey-1');
    expect(serviceIdCrn('acc', 'ServiceId-1')).toBe('crn:v1:sealbox:public:iam-identity::a/acc::serviceid:ServiceId-1');
    expect(serviceIdIamId('ServiceId-1')).toBe('iam-ServiceId-1');
    expect(serviceIdOf('iam-ServiceId-1')).toBe('ServiceId-1');
  });

  it('shows an API key without its hash or lookup, with ISO times, and its value only when given', () => {
    const shown = toApiKey(key);
    expect(shown).toEqual({
      id: 'ApiKey-1',
      crn: 'crn:v1:sealbox:public:iam-identity::a/acc::apikey:ApiKey-1',
      name: 'ci',
      description: 'for CI',
      iam_id: 'iam-ServiceId-s1',
      account_id: 'acc',
      locked: true,
      disabled: false,
      created_at: '2026-01-01T00:00:00.000Z',
      created_by: 'IBMid-admin',
      modified_at: '2026-01-02T00:00:00.000Z',
      entity_tag: '3',
    });
    expect(JSON.stringify(shown)).not.toContain(key.hash);
    expect(JSON.stringify(shown)).not.toContain(key.lookup);
    expect(toApiKey({ ...key, expiresAt: Date.UTC(2027, 0, 1) }, 'the-value')).toMatchObject({
      expires_at: '2027-01-01T00:00:00.000Z',
      apikey: 'the-value',
    });
  });

  it('shows a service ID with its id derived from the iam_id', () => {
    const row: IdentityEntity = {
      iamId: 'iam-ServiceId-s1',
      accountId: 'acc',
      kind: 'service_id',
      name: 'robot',
      description: '',
      entityTag: 1,
      createdBy: 'IBMid-admin',
      createdAt: Date.UTC(2026, 0, 1),
      modifiedAt: Date.UTC(2026, 0, 1),
    };
    expect(toServiceId(row)).toEqual({
      id: 'ServiceId-s1',
      iam_id: 'iam-ServiceId-s1',
      account_id: 'acc',
      name: 'robot',
      description: '',
      crn: 'crn:v1:sealbox:public:iam-identity::a/acc::serviceid:ServiceId-s1',
      locked: false,
      created_at: '2026-01-01T00:00:00.000Z',
      modified_at: '2026-01-01T00:00:00.000Z',
      entity_tag: '1',
    });
  });

  it.each([
    ['3', true],
    ['"3"', true],
    ['W/"3"', true],
    ['*', true],
    ['"2", "3"', true],
    ['2', false],
    ['"30"', false],
    ['', false],
  ])('If-Match %j against entity tag 3 → %s', (ifMatch, expected) => {
    expect(entityTagMatches(ifMatch, 3)).toBe(expected);
  });
});
