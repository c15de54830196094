import type { Provider } from '@nestjs/common';
import { Clock, dataSourceToken, IdempotencyRecords, RpcClient } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { VersionDirectory } from '../ports.js';
import { SecretsInGroup } from '../registry/ports.js';
import { SecretAccess } from './access.js';
import { CachedEnvelopeStore, StorageEnvelopeStore } from './envelopes.js';
import { VersionMaterial } from './material.js';
import { DEFAULT_SECRETS_DOMAIN_OPTIONS, SECRETS_OPTIONS, type SecretsDomainOptions } from './options.js';
import { InstancePurge } from './purge.service.js';
import { SecretQueries } from './queries.js';
import { ReadBookkeeping } from './read-bookkeeping.js';
import { ExpiryScheduler, IdempotencyRecordPurge, OrphanSweep, RotationScheduler, SecretsSchedulerTimer } from './schedulers.js';
import { SecretService } from './secret.service.js';
import { secretQueriesFor } from './sql-queries.js';
import { SecretsInGroupCount, SecretVersionDirectory } from './version-directory.js';
import { VersionService } from './version.service.js';
import { VersionVault } from './vault.js';
import { SecretActionService } from './secret-actions.js';
import { CaKeyVault, CrlRefreshScheduler, PrivateCertEngine } from './types/private-cert/index.js';

/** Every provider of the secrets and versions core, with its options. */
export function secretsCoreProviders(options: Partial<SecretsDomainOptions> = {}): Provider[] {
  return [
    { provide: SECRETS_OPTIONS, useValue: { ...DEFAULT_SECRETS_DOMAIN_OPTIONS, ...options } },
    { provide: SecretQueries, inject: [dataSourceToken('secrets')], useFactory: (dataSource: DataSource) => secretQueriesFor(dataSource) },
    {
      provide: CachedEnvelopeStore,
      inject: [RpcClient, SECRETS_OPTIONS],
      useFactory: (rpc: RpcClient, settings: SecretsDomainOptions) => new CachedEnvelopeStore(new StorageEnvelopeStore(rpc), settings.envelopeCacheBytes),
    },
    { provide: IdempotencyRecords, inject: [Clock], useFactory: (clock: Clock) => new IdempotencyRecords(clock) },
    ReadBookkeeping,
    SecretAccess,
    VersionVault,
    VersionMaterial,
    SecretService,
    VersionService,
    SecretActionService,
    CaKeyVault,
    PrivateCertEngine,
    CrlRefreshScheduler,
    InstancePurge,
    RotationScheduler,
    ExpiryScheduler,
    OrphanSweep,
    IdempotencyRecordPurge,
    SecretsSchedulerTimer,
    SecretVersionDirectory,
    { provide: VersionDirectory, useExisting: SecretVersionDirectory },
    { provide: SecretsInGroup, useClass: SecretsInGroupCount },
  ];
}
