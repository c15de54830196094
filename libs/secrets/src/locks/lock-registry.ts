import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { LockDirectory } from '../ports.js';
import type { TenantScope } from '../registry/store.js';
import { groupNames } from './rules.js';
import { LockStore } from './store.js';

/** LockDirectory over the `secret_locks` table, inside the caller's transaction. */
@Injectable()
export class LockRegistry extends LockDirectory {
  async locksOn(
    manager: EntityManager,
    scope: TenantScope,
    secretId: string,
    versionIds?: readonly string[],
  ): Promise<ReadonlyMap<string, readonly string[]>> {
    if (versionIds !== undefined && versionIds.length === 0) return new Map();
    return groupNames(await new LockStore(manager).names(scope, secretId, versionIds));
  }

  countBySecret(manager: EntityManager, scope: TenantScope, secretIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    return new LockStore(manager).countBySecret(scope, secretIds);
  }

  async removeAll(manager: EntityManager, scope: TenantScope, secretId: string, versionId?: string): Promise<void> {
    await new LockStore(manager).removeAll(scope, secretId, versionId);
  }

  removeInstance(manager: EntityManager, scope: TenantScope): Promise<number> {
    return new LockStore(manager).removeInstance(scope);
  }
}
