export * from './config.js';
export * from './kms.module.js';
export * from './kms.controller.js';
export * from './hsm-probe.js';
export * from './authorization/service-authorizations.js';
