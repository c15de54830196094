export * from './config.js';
export * from './storage.module.js';
export * from './storage.controller.js';
export * from './object-store-probe.js';
