export * from './config.js';
export * from './lifecycle.module.js';
export * from './lifecycle.controller.js';
