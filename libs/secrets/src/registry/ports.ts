import type { EntityManager } from 'typeorm';
import type { TenantScope } from './store.js';

/**
 * How many secrets a group holds: a group with secrets cannot be deleted (409). A port because the
 * secrets table does not exist yet; the secrets store implements it once it does.
 */
export abstract class SecretsInGroup {
  /** Counted inside the transaction that deletes the group, so the answer holds until it commits. */
  abstract count(manager: EntityManager, scope: TenantScope, groupId: string): Promise<number>;
}

/**
 * Until the secrets table exists (next session), no group holds a secret: every group is empty.
 * Replace this binding in SecretsModule with the secrets store's count when secrets land.
 */
export class NoSecretsYet extends SecretsInGroup {
  async count(): Promise<number> {
    return 0;
  }
}
