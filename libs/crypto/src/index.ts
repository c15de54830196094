export * from './config.js';
export * from './crypto.module.js';
export * from './crypto.controller.js';
export * from './errors.js';
export * from './tokens.js';
export * from './dek-cache/dek-cache.js';
export * from './envelope/envelope.service.js';
export * from './envelope/kms-client.js';
export * as EnvelopeFormat from './envelope/format.js';
