import type { EntityManager } from 'typeorm';
import type { TenantScope } from './store.js';

/**
 * How many secrets a group holds: a group with secrets cannot be deleted (409). Implemented by the
 * secrets store (SecretsInGroupCount).
 */
export abstract class SecretsInGroup {
  /** Counted inside the transaction that deletes the group, so the answer holds until it commits. */
  abstract count(manager: EntityManager, scope: TenantScope, groupId: string): Promise<number>;
}
