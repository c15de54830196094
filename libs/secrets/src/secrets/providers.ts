import type { Provider } from '@nestjs/common';
import { VersionDirectory } from '../ports.js';
import { SecretsInGroup } from '../registry/ports.js';
import { SecretAccess } from './access.js';
import { VersionMaterial } from './material.js';
import { DEFAULT_SECRETS_DOMAIN_OPTIONS, SECRETS_OPTIONS, type SecretsDomainOptions } from './options.js';
import { InstancePurge } from './purge.service.js';
import { ExpiryScheduler, OrphanSweep, RotationScheduler, SecretsSchedulerTimer } from './schedulers.js';
import { SecretService } from './secret.service.js';
import { SecretsInGroupCount, SecretVersionDirectory } from './version-directory.js';
import { VersionService } from './version.service.js';
import { VersionVault } from './vault.js';

/** Every provider of the secrets and versions core, with its options. */
export function secretsCoreProviders(options: Partial<SecretsDomainOptions> = {}): Provider[] {
  return [
    { provide: SECRETS_OPTIONS, useValue: { ...DEFAULT_SECRETS_DOMAIN_OPTIONS, ...options } },
    SecretAccess,
    VersionVault,
    VersionMaterial,
    SecretService,
    VersionService,
    InstancePurge,
    RotationScheduler,
    ExpiryScheduler,
    OrphanSweep,
    SecretsSchedulerTimer,
    SecretVersionDirectory,
    { provide: VersionDirectory, useExisting: SecretVersionDirectory },
    { provide: SecretsInGroup, useClass: SecretsInGroupCount },
  ];
}
