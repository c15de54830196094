import { describe, expect, it } from 'vitest';
import { DomainError } from '@sealbox/platform';
import type { SecretEntity } from './entities.js';
import { aliasOf, ordinalOfAlias } from './aliases.js';
import { uuidV7, uuidV7Time } from './ids.js';
import { mergePatch, patchedCustomMetadata } from './merge-patch.js';
import { metadataChanges } from './metadata-patch.js';
import { payloadFromPlaintext, plaintextOf } from './payload.js';
import { nextRotationAt } from './rotation.js';
import { checkExpiration } from './validation.js';
import { likeContains } from './store.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 31, 12);

function codeAndFields(run: () => unknown): [string, string[]] | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return [error.code, (error.fields ?? []).map((issue) => issue.field)];
    throw error;
  }
  return undefined;
}

function secret(overrides: Partial<SecretEntity> = {}): SecretEntity {
  return {
    instanceGuid: 'i',
    id: 's',
    accountId: 'a',
    groupId: 'default',
    name: 'name1',
    secretType: 'username_password',
    description: 'desc',
    labels: ['a1'],
    customMetadata: { keep: 1, drop: 2 },
    state: 1,
    createdAt: NOW,
    createdBy: 'me',
    updatedAt: NOW,
    expirationAt: null,
    details: { rotation: { auto_rotate: false }, password_generation_policy: { length: 32, include_digits: true, include_symbols: true, include_uppercase: true } },
    versionsTotal: 1,
    currentOrdinal: 3,
    downloaded: false,
    retrievedAt: null,
    nextRotationAt: null,
    expiryNotice: 0,
    ...overrides,
  };
}

describe('merge patches', () => {
  it('merges objects, removes on null, replaces scalars and arrays', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: null, b: { c: null, x: 1 }, e: [2] })).toEqual({ b: { d: 3, x: 1 }, e: [2] });
    expect(mergePatch('scalar', { a: 1 })).toEqual({ a: 1 });
  });

  it('checks custom metadata after the merge and names the field', () => {
    expect(patchedCustomMetadata({ a: 1 }, undefined, 'custom_metadata')).toEqual({ a: 1 });
    expect(patchedCustomMetadata({ a: 1 }, null, 'custom_metadata')).toBeNull();
    expect(patchedCustomMetadata({ a: 1 }, { a: null }, 'custom_metadata')).toBeNull();
    expect(codeAndFields(() => patchedCustomMetadata({}, { big: 'x'.repeat(11_000) }, 'version_custom_metadata'))).toEqual(['VALIDATION_FAILED', ['version_custom_metadata']]);
  });

  it('applies a metadata patch: absent keeps, null removes, a rotation policy dates its next rotation from now', () => {
    const changes = metadataChanges(secret(), { description: null, labels: null, custom_metadata: { drop: null }, rotation: { auto_rotate: true, interval: 2, unit: 'day' } }, NOW);
    expect(changes).toMatchObject({ name: 'name1', description: null, labels: [], customMetadata: { keep: 1 }, nextRotationAt: NOW + 2 * DAY, updatedAt: NOW });
    expect(changes.details['rotation']).toEqual({ auto_rotate: true, interval: 2, unit: 'day' });
    expect(metadataChanges(secret(), { password_generation_policy: { length: 16 } }, NOW).details['password_generation_policy']).toEqual({
      length: 16,
      include_digits: true,
      include_symbols: true,
      include_uppercase: true,
    });
    const expiring = metadataChanges(secret({ expiryNotice: 2, expirationAt: NOW + DAY }), { expiration_date: new Date(NOW + 5 * DAY).toISOString() }, NOW);
    expect(expiring).toMatchObject({ expirationAt: NOW + 5 * DAY, expiryNotice: 0 });
    expect(metadataChanges(secret(), {}, NOW)).not.toHaveProperty('expiryNotice');
  });

  it('refuses a merged rotation policy that is incomplete, naming rotation fields', () => {
    expect(codeAndFields(() => metadataChanges(secret(), { rotation: { auto_rotate: true } }, NOW))).toEqual([
      'VALIDATION_FAILED',
      ['rotation.interval', 'rotation.unit'],
    ]);
  });
});

describe('dates', () => {
  it('adds days, or calendar months clamped to the month end', () => {
    expect(nextRotationAt({ auto_rotate: true, interval: 3, unit: 'day' }, NOW)).toBe(NOW + 3 * DAY);
    expect(new Date(nextRotationAt({ auto_rotate: true, interval: 1, unit: 'month' }, NOW) ?? 0).toISOString()).toBe('2026-02-28T12:00:00.000Z');
    expect(new Date(nextRotationAt({ auto_rotate: true, interval: 12, unit: 'month' }, NOW) ?? 0).toISOString()).toBe('2027-01-31T12:00:00.000Z');
    expect(nextRotationAt({ auto_rotate: false }, NOW)).toBeNull();
    expect(nextRotationAt(undefined, NOW)).toBeNull();
  });

  it('wants expiration dates in the future', () => {
    expect(checkExpiration(undefined, NOW)).toBeNull();
    expect(checkExpiration(new Date(NOW + 1).toISOString(), NOW)).toBe(NOW + 1);
    expect(codeAndFields(() => checkExpiration(new Date(NOW).toISOString(), NOW))).toEqual(['VALIDATION_FAILED', ['expiration_date']]);
  });
});

describe('aliases', () => {
  it('names the newest version current and the one before previous', () => {
    const row = { currentOrdinal: 3 };
    expect([3, 2, 1].map((ordinal) => aliasOf(row, { ordinal }))).toEqual(['current', 'previous', undefined]);
    expect(ordinalOfAlias(row, 'current')).toBe(3);
    expect(ordinalOfAlias(row, 'previous')).toBe(2);
    expect(ordinalOfAlias(row, '0b5571f7-21e6-42b7-91c5-3f5ac9793a46')).toBeUndefined();
  });
});

describe('payloads', () => {
  it('round-trips each type through the sealed plaintext, keeping only its fields', () => {
    expect(payloadFromPlaintext('arbitrary', plaintextOf({ payload: 'p' }))).toEqual({ payload: 'p' });
    expect(payloadFromPlaintext('username_password', plaintextOf({ username: 'u', password: 'pw' }))).toEqual({ username: 'u', password: 'pw' });
    expect(payloadFromPlaintext('kv', plaintextOf({ data: { a: [1] } }))).toEqual({ data: { a: [1] } });
    expect(payloadFromPlaintext('imported_cert', plaintextOf({ certificate: 'c' }))).toEqual({ certificate: 'c' });
    expect(payloadFromPlaintext('iam_credentials', Buffer.from(JSON.stringify({ api_key: 'k', other: 1 })))).toEqual({ api_key: 'k' });
  });
});

describe('ids and LIKE patterns', () => {
  it('carries the creation time in a UUID v7', () => {
    const id = uuidV7(NOW);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV7Time(id)).toBe(NOW);
    expect(uuidV7(NOW)).not.toBe(id);
    expect(uuidV7Time('0b5571f7-21e6-42b7-91c5-3f5ac9793a46')).toBeUndefined();
  });

  it('escapes LIKE wildcards and the escape character', () => {
    expect(likeContains('a_b%c!d')).toBe('%a!_b!%c!!d%');
  });
});
