import { LockDirectory } from '../ports.js';
import { SecretLocks1764700000003 } from './1764700000003-secret-locks.js';
import { SecretLockEntity } from './entities.js';
import { LockRegistry } from './lock-registry.js';
import { LockService } from './lock.service.js';

export * from './entities.js';
export * from './rules.js';
export * from './store.js';
export * from './lock.service.js';
export * from './lock-registry.js';
export * from './locks.controller.js';

export const lockEntities = [SecretLockEntity];
export const lockMigrations = [SecretLocks1764700000003];
/** The providers SecretsModule adds for locks: the service and the LockDirectory the secrets core uses. */
export const lockProviders = [LockService, LockRegistry, { provide: LockDirectory, useExisting: LockRegistry }];
