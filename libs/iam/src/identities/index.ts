export * from './identity.service.js';
/** Entities and migrations of the identities area (beyond the foundation's accounts/identities/api_keys). */
export const identityEntities: (new () => object)[] = [];
export const identityMigrations: (new () => import('typeorm').MigrationInterface)[] = [];
