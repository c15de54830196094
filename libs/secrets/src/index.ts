export * from './config.js';
export * from './ports.js';
export * from './secrets.module.js';
export * from './secrets.controller.js';
export * from './domain/index.js';
export * from './registry/index.js';
export * from './secrets/index.js';
