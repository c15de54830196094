import { Module, type DynamicModule } from '@nestjs/common';
import { createObjectStore, type ObjectStoreConfig } from '@sealbox/storage-drivers';
import { StorageRpcController } from './storage.controller.js';
import { OBJECT_STORE } from './tokens.js';

export interface StorageModuleOptions {
  /** Which driver holds the buckets: `minio` (any S3 server) or `filesystem` (a folder per bucket). */
  readonly objectStore: ObjectStoreConfig;
}

/** One bucket per instance on MinIO/S3 or the filesystem; stores envelopes, never plaintext. */
@Module({})
export class StorageModule {
  static register(options: StorageModuleOptions): DynamicModule {
    return {
      module: StorageModule,
      controllers: [StorageRpcController],
      // createObjectStore validates the configuration and does no I/O: the first call reaches the store.
      providers: [{ provide: OBJECT_STORE, useFactory: () => createObjectStore(options.objectStore) }],
    };
  }
}
