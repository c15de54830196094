export * from './config.js';
export * from './secrets.module.js';
export * from './secrets.controller.js';
