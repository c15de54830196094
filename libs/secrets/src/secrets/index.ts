import { CreateIdempotencyRecords1765200000000, IdempotencyRecordEntity } from '@sealbox/platform';
import { SecretsAndVersions1764600000002 } from './1764600000002-secrets-and-versions.js';
import { SecretEntity, SecretLabelEntity, SecretVersionEntity } from './entities.js';
import { privateCertEntities, privateCertMigrations } from './types/private-cert/index.js';

export * from './entities.js';
export * from './options.js';
export * from './validation.js';
export * from './ids.js';
export * from './merge-patch.js';
export * from './rotation.js';
export * from './aliases.js';
export * from './payload.js';
export * from './wire.js';
export * from './metadata-patch.js';
export * from './types/index.js';
export * from './store.js';
export * from './vault.js';
export * from './envelopes.js';
export * from './queries.js';
export * from './sql-queries.js';
export * from './read-bookkeeping.js';
export * from './access.js';
export * from './material.js';
export * from './secret.service.js';
export * from './version.service.js';
export * from './version-directory.js';
export * from './purge.service.js';
export * from './schedulers.js';
export * from './secrets-api.controller.js';
export * from './secret-actions.js';
export * from './types/private-cert/index.js';

/** The Idempotency-Keys of secret creates and new versions live in `idempotency_records` (libs/platform), with the secrets. */
export const secretEntities = [SecretEntity, SecretVersionEntity, SecretLabelEntity, IdempotencyRecordEntity, ...privateCertEntities];
export const secretMigrations = [SecretsAndVersions1764600000002, ...privateCertMigrations, CreateIdempotencyRecords1765200000000];

/** The providers of the secrets and versions core (the module binds LockDirectory and IamCredentialsIssuer). */
export { secretsCoreProviders } from './providers.js';
