import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceDatabaseModule, type DatabaseConfig } from '@sealbox/platform';
import { NoSecretsYet, registryEntities, registryMigrations, SecretsInGroup } from './registry/index.js';
import { SecretGroupService } from './registry/group.service.js';
import { InstanceRegistry } from './registry/instance-registry.js';
import { SecretsRpcController } from './secrets.controller.js';

export interface SecretsModuleOptions {
  readonly database: DatabaseConfig;
}

/** Secrets Manager domain: secrets, versions, groups, locks, rotation. */
@Module({})
export class SecretsModule {
  static register(options: SecretsModuleOptions): DynamicModule {
    return {
      module: SecretsModule,
      imports: [
        ServiceDatabaseModule.register({ service: 'secrets', config: options.database, entities: registryEntities, migrations: registryMigrations }),
      ],
      controllers: [SecretsRpcController],
      providers: [
        InstanceRegistry,
        SecretGroupService,
        // No secrets table yet: every group counts as empty (see NoSecretsYet).
        { provide: SecretsInGroup, useClass: NoSecretsYet },
      ],
    };
  }
}
