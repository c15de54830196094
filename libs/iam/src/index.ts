export * from './config.js';
export * from './iam.module.js';
export * from './iam.controller.js';
export * from './bootstrap/bootstrap.service.js';
export * from './apikeys/apikey-secret.js';
export * from './entities/index.js';
export * from './migrations/index.js';
