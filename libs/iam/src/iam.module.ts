import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceDatabaseModule, type DatabaseConfig } from '@sealbox/platform';
import { IAM_BOOTSTRAP_OPTIONS, IamBootstrap, type IamBootstrapOptions } from './bootstrap/bootstrap.service.js';
import { iamEntities } from './entities/index.js';
import { IamRpcController } from './iam.controller.js';
import { iamMigrations } from './migrations/index.js';

export interface IamModuleOptions {
  readonly database: DatabaseConfig;
  readonly bootstrap: IamBootstrapOptions;
}

/** Identities, API keys, tokens and policies. */
@Module({})
export class IamModule {
  static register(options: IamModuleOptions): DynamicModule {
    return {
      module: IamModule,
      imports: [
        ServiceDatabaseModule.register({ service: 'iam', config: options.database, entities: iamEntities, migrations: iamMigrations }),
      ],
      controllers: [IamRpcController],
      providers: [{ provide: IAM_BOOTSTRAP_OPTIONS, useValue: options.bootstrap }, IamBootstrap],
      exports: [IamBootstrap],
    };
  }
}
