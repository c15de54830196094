export * from './config.js';
export * from './storage.module.js';
export * from './storage.controller.js';
export { OBJECT_STORE } from './tokens.js';
export type { ObjectStoreConfig } from '@sealbox/storage-drivers';
