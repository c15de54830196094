export * from './token.service.js';
/** Entities and migrations of the tokens area (signing keys, refresh tokens). */
export const tokenEntities: (new () => object)[] = [];
export const tokenMigrations: (new () => import('typeorm').MigrationInterface)[] = [];
