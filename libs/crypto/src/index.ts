export * from './config.js';
export * from './crypto.module.js';
export * from './crypto.controller.js';
