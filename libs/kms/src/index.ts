export * from './config.js';
export * from './kms.module.js';
export * from './kms.controller.js';
export { KmsServiceController } from './handlers/service.controller.js';
export * from './tokens.js';
export * from './authorization/service-authorizations.js';
export * from './domain/ciphertext.js';
export { KeyPurgeScheduler, KeyRotationScheduler, type ScheduledRun } from './services/key-schedulers.js';
export { KmsSchedulerTimer } from './services/scheduler-timer.js';
