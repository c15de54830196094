export * from './object-store.js';
export * from './bucket-names.js';
export * from './config.js';
export * from './create-object-store.js';
export { FilesystemObjectStore } from './filesystem/filesystem-object-store.js';
export { MinioObjectStore, MINIO_PART_SIZE } from './minio/minio-object-store.js';
