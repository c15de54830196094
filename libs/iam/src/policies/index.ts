export * from './policy.service.js';
/** Entities and migrations of the policies area. */
export const policyEntities: (new () => object)[] = [];
export const policyMigrations: (new () => import('typeorm').MigrationInterface)[] = [];
