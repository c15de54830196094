import { Module, type DynamicModule } from '@nestjs/common';
import { RpcClient } from '@sealbox/platform';
import { CryptoRpcController } from './crypto.controller.js';
import { DEFAULT_DEK_CACHE_OPTIONS, DekCache, type DekCacheOptions } from './dek-cache/dek-cache.js';
import { EnvelopeService } from './envelope/envelope.service.js';
import { RpcKmsKeys, type KmsKeyClient } from './envelope/kms-client.js';
import { DEK_CACHE_OPTIONS, KMS_CLIENT, KMS_KEYS } from './tokens.js';

export interface CryptoModuleOptions {
  /** Bounds of the unwrapped-DEK cache; DEFAULT_DEK_CACHE_OPTIONS when absent. */
  readonly dekCache?: DekCacheOptions;
}

/**
 * Envelope encryption: DEKs, AES-256-GCM seal/open, DEK wrap/unwrap through kms, DEK cache.
 * Needs PlatformModule (RpcClient, Clock, EVENT_SUBSCRIBER, which may be null).
 */
@Module({})
export class CryptoModule {
  static register(options: CryptoModuleOptions = {}): DynamicModule {
    return {
      module: CryptoModule,
      controllers: [CryptoRpcController],
      providers: [
        { provide: DEK_CACHE_OPTIONS, useValue: options.dekCache ?? DEFAULT_DEK_CACHE_OPTIONS },
        { provide: KMS_CLIENT, useExisting: RpcClient },
        { provide: KMS_KEYS, inject: [KMS_CLIENT], useFactory: (client: KmsKeyClient) => new RpcKmsKeys(client) },
        DekCache,
        EnvelopeService,
      ],
      exports: [EnvelopeService],
    };
  }
}
