import { ObjectStoreConfigSchema, type ObjectStoreConfig } from './config.js';
import { FilesystemObjectStore } from './filesystem/filesystem-object-store.js';
import { MinioObjectStore } from './minio/minio-object-store.js';
import type { ObjectStore } from './object-store.js';

/** A driver of the object storage port, as `createObjectStore` returns it. */
export interface ObjectStoreDriver extends ObjectStore {
  readonly driver: 'minio' | 'filesystem';
}

/**
 * The driver a configuration names. Validates the configuration (zod; throws on a bad one) and does
 * no I/O: the first call reaches the store.
 */
export function createObjectStore(config: ObjectStoreConfig): ObjectStoreDriver {
  const parsed = ObjectStoreConfigSchema.parse(config);
  switch (parsed.driver) {
    case 'minio':
      return new MinioObjectStore(parsed);
    case 'filesystem':
      return new FilesystemObjectStore(parsed);
  }
}
