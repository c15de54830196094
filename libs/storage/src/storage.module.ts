import { Module, type DynamicModule } from '@nestjs/common';
import { objectStoreProbe, type ObjectStoreConfig } from './object-store-probe.js';
import { StorageRpcController } from './storage.controller.js';
import { OBJECT_STORE_PROBE } from './tokens.js';

export interface StorageModuleOptions {
  readonly objectStore: ObjectStoreConfig;
}

/** One bucket per instance on MinIO/S3 or the filesystem; stores envelopes, never plaintext. */
@Module({})
export class StorageModule {
  static register(options: StorageModuleOptions): DynamicModule {
    return {
      module: StorageModule,
      controllers: [StorageRpcController],
      providers: [{ provide: OBJECT_STORE_PROBE, useValue: objectStoreProbe(options.objectStore) }],
    };
  }
}
