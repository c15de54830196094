import { z } from 'zod';

/** An S3 server (MinIO, AWS S3, s3rver in tests) through the `minio` client. */
export const MinioObjectStoreConfigSchema = z.object({
  driver: z.literal('minio'),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .refine((value) => ['', '/'].includes(new URL(value).pathname), 'must not have a path (the client addresses the server root)')
    .describe('S3 endpoint URL, e.g. http://minio:9000'),
  accessKey: z.string().min(1).describe('S3 access key (no default)'),
  secretKey: z.string().min(1).describe('S3 secret key (no default)'),
  region: z.string().min(1).default('us-east-1').describe('Region of the buckets'),
  pathStyle: z.boolean().default(true).describe('Address buckets by path (MinIO, s3rver) rather than by host'),
});

/** A folder per bucket under `root` (standalone). */
export const FilesystemObjectStoreConfigSchema = z.object({
  driver: z.literal('filesystem'),
  root: z.string().min(1).describe('Directory of the buckets (created with mode 0700)'),
});

/** Where buckets live, one branch per driver. */
export const ObjectStoreConfigSchema = z.discriminatedUnion('driver', [MinioObjectStoreConfigSchema, FilesystemObjectStoreConfigSchema]);

/** What callers write (defaults may be left out). */
export type ObjectStoreConfig = z.input<typeof ObjectStoreConfigSchema>;
/** After validation, defaults applied. */
export type ParsedObjectStoreConfig = z.output<typeof ObjectStoreConfigSchema>;
export type MinioObjectStoreConfig = z.output<typeof MinioObjectStoreConfigSchema>;
export type FilesystemObjectStoreConfig = z.output<typeof FilesystemObjectStoreConfigSchema>;
