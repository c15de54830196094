import type { MigrationInterface } from 'typeorm';
import { ManagedApiKeys1764650000001 } from './1764650000001-managed-api-keys.js';
import { ExpiredApiKeySweeper } from './expired-key-sweeper.js';
import { ManagedApiKeys } from './managed-api-keys.js';

export * from './apikey-secret.js';
export * from './managed-api-keys.js';
export * from './expired-key-sweeper.js';

/** Migrations of the API keys area (its table is the foundation's `api_keys`). */
export const apiKeyMigrations: (new () => MigrationInterface)[] = [ManagedApiKeys1764650000001];
/** Keys issued for other services and their expiry sweep. */
export const apiKeyProviders = [ManagedApiKeys, ExpiredApiKeySweeper];
