import type { MigrationInterface } from 'typeorm';
import { IdentityDetails1764420000001 } from './1764420000001-identity-details.js';
import { AccountSettings1764700000002 } from './1764700000002-account-settings.js';

export * from './identity.service.js';
export * from './account.service.js';
export * from './user.service.js';
export { apiKeyCrn, serviceIdCrn, serviceIdIamId, serviceIdOf } from './wire.js';

/**
 * Entities and migrations of the identities area. Its entities (accounts, identities, api_keys,
 * bootstrap_state) are the foundation's `iamEntities`; this area's migrations extend their tables.
 */
export const identityEntities: (new () => object)[] = [];
export const identityMigrations: (new () => MigrationInterface)[] = [IdentityDetails1764420000001, AccountSettings1764700000002];
