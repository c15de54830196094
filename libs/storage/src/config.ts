import { booleanFlag, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { StorageModuleOptions } from './storage.module.js';

/** Configuration of apps/storage (distributed: an S3 server). */
export const StorageAppConfig = z.object({
  ...ServiceSettings,
  SEALBOX_S3_ENDPOINT: z.url().describe('S3 endpoint URL, e.g. http://minio:9000'),
  SEALBOX_S3_ACCESS_KEY: z.string().min(1).describe('S3 access key (required, no default)'),
  SEALBOX_S3_SECRET_KEY: z.string().min(1).describe('S3 secret key (required, no default)'),
  SEALBOX_S3_REGION: z.string().default('us-east-1').describe('S3 region of the buckets'),
  SEALBOX_S3_PATH_STYLE: booleanFlag.default(true).describe('Address buckets by path (MinIO, s3rver) rather than by host'),
});
export type StorageAppConfig = z.output<typeof StorageAppConfig>;

/** The module options of apps/storage: the minio driver on the configured S3 server. */
export function storageOptionsFrom(config: StorageAppConfig): StorageModuleOptions {
  return {
    objectStore: {
      driver: 'minio',
      endpoint: config.SEALBOX_S3_ENDPOINT,
      accessKey: config.SEALBOX_S3_ACCESS_KEY,
      secretKey: config.SEALBOX_S3_SECRET_KEY,
      region: config.SEALBOX_S3_REGION,
      pathStyle: config.SEALBOX_S3_PATH_STYLE,
    },
  };
}
