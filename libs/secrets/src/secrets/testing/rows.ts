/** Secret and version rows for tests: a plausible row of each, with what a test cares about overridden. */
import { randomUUID } from 'node:crypto';
import type { TenantScope } from '../../registry/store.js';
import { ExpiryNotice, type SecretEntity, type SecretVersionEntity } from '../entities.js';

export const ROWS_T0 = Date.UTC(2026, 11, 7);

export function secretRow(scope: TenantScope, overrides: Partial<SecretEntity> = {}): SecretEntity {
  const id = overrides.id ?? randomUUID();
  return {
    accountId: scope.accountId,
    instanceGuid: scope.instanceGuid,
    id,
    groupId: 'default',
    name: `s-${id}`,
    secretType: 'arbitrary',
    description: null,
    labels: [],
    customMetadata: null,
    state: 1,
    createdAt: ROWS_T0,
    createdBy: 'IBMid-x',
    updatedAt: ROWS_T0,
    expirationAt: null,
    details: {},
    versionsTotal: 1,
    currentOrdinal: 1,
    downloaded: false,
    retrievedAt: null,
    nextRotationAt: null,
    expiryNotice: ExpiryNotice.none,
    ...overrides,
  };
}

export function versionRow(secret: Pick<SecretEntity, 'accountId' | 'instanceGuid' | 'id'>, ordinal: number, overrides: Partial<SecretVersionEntity> = {}): SecretVersionEntity {
  return {
    accountId: secret.accountId,
    instanceGuid: secret.instanceGuid,
    id: randomUUID(),
    secretId: secret.id,
    ordinal,
    createdAt: ROWS_T0 + ordinal,
    createdBy: 'IBMid-x',
    payloadAvailable: true,
    versionCustomMetadata: null,
    downloaded: false,
    autoRotated: false,
    expirationAt: null,
    details: {},
    ...overrides,
  };
}
