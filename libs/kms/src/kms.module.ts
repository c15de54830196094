import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceDatabaseModule, type DatabaseConfig } from '@sealbox/platform';
import { hsmProbe, type HsmConfig } from './hsm-probe.js';
import { KmsRpcController } from './kms.controller.js';
import { HSM_PROBE } from './tokens.js';
import { ServiceAuthorizations } from './authorization/service-authorizations.js';

export interface KmsModuleOptions {
  readonly database: DatabaseConfig;
  readonly hsm: HsmConfig;
}

/** Key-management instances and root keys, via provider plugins. */
@Module({})
export class KmsModule {
  static register(options: KmsModuleOptions): DynamicModule {
    return {
      module: KmsModule,
      imports: [ServiceDatabaseModule.register({ service: 'kms', config: options.database, entities: [], migrations: [] })],
      controllers: [KmsRpcController],
      providers: [{ provide: HSM_PROBE, useFactory: () => hsmProbe(options.hsm) }, ServiceAuthorizations],
      exports: [ServiceAuthorizations],
    };
  }
}
