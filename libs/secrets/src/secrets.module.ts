import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceDatabaseModule, type DatabaseConfig } from '@sealbox/platform';
import { IamCredentialsIssuer } from './ports.js';
import { NatsIamCredentialsIssuer } from './iam-credentials/index.js';
import { lockEntities, lockMigrations, lockProviders, LocksRpcController } from './locks/index.js';
import { registryEntities, registryMigrations } from './registry/index.js';
import { SecretGroupService } from './registry/group.service.js';
import { InstanceRegistry } from './registry/instance-registry.js';
import { ConfigurationsRpcController, SecretsApiController, secretEntities, secretMigrations, secretsCoreProviders } from './secrets/index.js';
import type { SecretsDomainOptions } from './secrets/options.js';
import { SecretsRpcController } from './secrets.controller.js';

export interface SecretsModuleOptions {
  readonly database: DatabaseConfig;
  /** Schedulers and sweep settings (DEFAULT_SECRETS_DOMAIN_OPTIONS for what is absent). */
  readonly secrets?: Partial<SecretsDomainOptions>;
}

/** Secrets Manager domain: secrets, versions, groups, locks, rotation. */
@Module({})
export class SecretsModule {
  static register(options: SecretsModuleOptions): DynamicModule {
    return {
      module: SecretsModule,
      imports: [
        ServiceDatabaseModule.register({
          service: 'secrets',
          config: options.database,
          entities: [...registryEntities, ...secretEntities, ...lockEntities],
          migrations: [...registryMigrations, ...secretMigrations, ...lockMigrations],
        }),
      ],
      controllers: [SecretsRpcController, SecretsApiController, LocksRpcController, ConfigurationsRpcController],
      providers: [
        InstanceRegistry,
        SecretGroupService,
        ...secretsCoreProviders(options.secrets),
        ...lockProviders,
        { provide: IamCredentialsIssuer, useClass: NatsIamCredentialsIssuer },
      ],
    };
  }
}
