import { Module, type DynamicModule } from '@nestjs/common';
import { createHsm, type Hsm, type HsmConfig } from '@sealbox/hsm';
import { ProviderRegistry, type KmsProviderConfigInput } from '@sealbox/kms-plugins';
import { Clock, ServiceDatabaseModule, type DatabaseConfig, type KeyProtector } from '@sealbox/platform';
import { ServiceAuthorizations } from './authorization/service-authorizations.js';
import { KmsApiController } from './handlers/api.controller.js';
import { KmsServiceController } from './handlers/service.controller.js';
import { KmsRpcController } from './kms.controller.js';
import { kmsEntities } from './persistence/entities.js';
import { kmsMigrations } from './persistence/migrations.js';
import { ImportTokenService } from './services/import-token.service.js';
import { InstanceService } from './services/instance.service.js';
import { KeyPurgeScheduler, KeyRotationScheduler } from './services/key-schedulers.js';
import { KeyService } from './services/key.service.js';
import { RegistrationService } from './services/registration.service.js';
import { KmsSchedulerTimer } from './services/scheduler-timer.js';
import { ServiceSealer } from './services/service-sealer.js';
import { WrapService } from './services/wrap.service.js';
import { WrapTargets } from './services/wrap-targets.js';
import { DEFAULT_KMS_DOMAIN_OPTIONS, KMS_HSM, KMS_OPTIONS, KMS_PROVIDERS, type KmsDomainOptions } from './tokens.js';

export interface KmsModuleOptions {
  readonly database: DatabaseConfig;
  /** The HSM backend (`createHsm`): pkcs11 in the distributed deployment, soft in standalone. */
  readonly hsm: HsmConfig;
  /** The unsealed key store: the soft HSM keeps its master key wrapped by it (standalone). */
  readonly hsmProtector?: KeyProtector;
  /** Settings of provider plugins (kinds left out get their defaults). */
  readonly providers?: readonly KmsProviderConfigInput[];
  readonly domain?: Partial<KmsDomainOptions>;
}

/**
 * Key-management instances, root and standard keys, via provider plugins; the Key Protect API behind
 * the gateway; the key rotation and purge schedulers (a timer started on application bootstrap,
 * stopped on shutdown).
 */
@Module({})
export class KmsModule {
  static register(options: KmsModuleOptions): DynamicModule {
    return {
      module: KmsModule,
      imports: [ServiceDatabaseModule.register({ service: 'kms', config: options.database, entities: kmsEntities, migrations: kmsMigrations })],
      controllers: [KmsRpcController, KmsServiceController, KmsApiController],
      providers: [
        { provide: KMS_HSM, inject: [Clock], useFactory: (clock: Clock) => createHsm(options.hsm, { clock, ...(options.hsmProtector ? { protector: options.hsmProtector } : {}) }) },
        { provide: KMS_PROVIDERS, inject: [KMS_HSM], useFactory: (hsm: Hsm) => new ProviderRegistry({ hsm }, options.providers ?? []) },
        { provide: KMS_OPTIONS, useValue: { ...DEFAULT_KMS_DOMAIN_OPTIONS, ...options.domain } satisfies KmsDomainOptions },
        ServiceAuthorizations,
        ServiceSealer,
        InstanceService,
        ImportTokenService,
        KeyService,
        WrapTargets,
        WrapService,
        RegistrationService,
        KeyRotationScheduler,
        KeyPurgeScheduler,
        KmsSchedulerTimer,
      ],
      exports: [ServiceAuthorizations],
    };
  }
}
