import { Policies1764410000001 } from './1764410000001-policies.js';
import { PolicyEntity } from './policy.entity.js';

export * from './policy.service.js';
export { PolicyEntity };

/** Entities and migrations of the policies area. */
export const policyEntities: (new () => object)[] = [PolicyEntity];
export const policyMigrations: (new () => import('typeorm').MigrationInterface)[] = [Policies1764410000001];
