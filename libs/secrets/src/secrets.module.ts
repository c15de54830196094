import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceDatabaseModule, type DatabaseConfig } from '@sealbox/platform';
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
      imports: [ServiceDatabaseModule.register({ service: 'secrets', config: options.database, entities: [], migrations: [] })],
      controllers: [SecretsRpcController],
    };
  }
}
