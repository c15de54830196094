export * from './config.js';
export * from './gateway.module.js';
export * from './health.controller.js';
export * from './readiness.service.js';
export * from './openapi.js';
export * from './run-gateway.js';
