import { PrivateCertConfigurations1765000000001 } from './1765000000001-private-cert-configurations.js';
import { PrivateCertConfigurationEntity } from './entities.js';

export * from './entities.js';
export * from './engine.js';
export * from './ca-keys.js';
export * from './policy.js';
export * from './store.js';
export * from './configurations.controller.js';
export * from './crl-scheduler.js';
export { privateCert, type PrivateCertSecretDetails } from './handler.js';

export const privateCertEntities = [PrivateCertConfigurationEntity];
export const privateCertMigrations = [PrivateCertConfigurations1765000000001];
