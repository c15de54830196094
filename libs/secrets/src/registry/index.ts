import { InstancesAndGroups1764600000001 } from './1764600000001-instances-and-groups.js';
import { InstanceKmsAccount1764900000001 } from './1764900000001-instance-kms-account.js';
import { InstancePlan1765100000001 } from './1765100000001-instance-plan.js';
import { InstanceEntity, SecretGroupEntity } from './entities.js';

export * from './entities.js';
export * from './ports.js';
export * from './rules.js';
export * from './store.js';
export * from './instance-registry.js';
export * from './group.service.js';

export const registryEntities = [InstanceEntity, SecretGroupEntity];
export const registryMigrations = [InstancesAndGroups1764600000001, InstanceKmsAccount1764900000001, InstancePlan1765100000001];
