import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceDatabaseModule, type DatabaseConfig } from '@sealbox/platform';
import { LifecycleRpcController } from './lifecycle.controller.js';

export interface LifecycleModuleOptions {
  readonly database: DatabaseConfig;
}

/** Resource instances, plans, deletion, reclamation and permanent delete. */
@Module({})
export class LifecycleModule {
  static register(options: LifecycleModuleOptions): DynamicModule {
    return {
      module: LifecycleModule,
      imports: [ServiceDatabaseModule.register({ service: 'lifecycle', config: options.database, entities: [], migrations: [] })],
      controllers: [LifecycleRpcController],
    };
  }
}
