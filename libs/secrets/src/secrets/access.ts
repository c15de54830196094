import { Inject, Injectable } from '@nestjs/common';
import { dataSourceToken, notFound } from '@sealbox/platform';
import type { DataSource, EntityManager } from 'typeorm';
import type { InstanceEntity } from '../registry/entities.js';
import { InstanceRegistry } from '../registry/instance-registry.js';
import { usableInstance, type GroupCaller } from '../registry/rules.js';
import type { TenantScope } from '../registry/store.js';
import type { SecretEntity, SecretVersionEntity } from './entities.js';
import { SecretQueries, type SecretView } from './queries.js';
import { SecretStore } from './store.js';

/** An active instance, one of its secrets, that secret's current version and its lock count. */
export interface ActiveSecret {
  readonly instance: InstanceEntity;
  readonly secret: SecretEntity;
  readonly current?: SecretVersionEntity;
  readonly locks: number;
}

/** What every secrets operation starts from: the caller's active instance and, usually, one of its secrets. */
@Injectable()
export class SecretAccess {
  constructor(
    @Inject(dataSourceToken('secrets')) private readonly dataSource: DataSource,
    private readonly instances: InstanceRegistry,
    private readonly queries: SecretQueries,
  ) {}

  scopeOf(caller: GroupCaller, instanceGuid: string): TenantScope {
    return { accountId: caller.accountId, instanceGuid };
  }

  /** The active instance (NOT_FOUND for another account's, INSTANCE_NOT_ACTIVE for a disabled one). */
  instance(scope: TenantScope, manager: EntityManager = this.dataSource.manager): Promise<InstanceEntity> {
    return this.instances.requireActive(manager, scope.accountId, scope.instanceGuid);
  }

  /** A secret of the scope, or NOT_FOUND. */
  async secret(scope: TenantScope, id: string, manager: EntityManager = this.dataSource.manager): Promise<SecretEntity> {
    const row = await new SecretStore(manager).secret(scope, id);
    if (!row) throw notFound(`Secret ${id}`);
    return row;
  }

  /**
   * The active instance, one of its secrets, the secret's current version and its lock count, in one
   * round trip (committed rows). The instance's error wins, as in `instanceAndSecret`.
   */
  async view(scope: TenantScope, id: string): Promise<ActiveSecret> {
    return activeSecret(scope, await this.queries.secretView(scope, id), `Secret ${id}`);
  }

  /** The same for a secret by group name, type and name (NOT_FOUND naming the group when it does not exist). */
  async viewByName(scope: TenantScope, groupName: string, secretType: string, name: string): Promise<ActiveSecret> {
    const view = await this.queries.secretViewByName(scope, groupName, secretType, name);
    usableInstance(view.instance ?? null, scope.instanceGuid);
    if (!view.groupExists) throw notFound(`Secret group ${groupName}`);
    return activeSecret(scope, view, `Secret ${name} of type ${secretType} in group ${groupName}`);
  }

  /**
   * The active instance and one of its secrets. Outside a transaction both are read at once (the
   * secret's query is scoped to the instance, and the instance's error still wins); inside one, in turn.
   */
  async instanceAndSecret(scope: TenantScope, id: string, manager: EntityManager = this.dataSource.manager): Promise<{ instance: InstanceEntity; secret: SecretEntity }> {
    if (manager.queryRunner) {
      const instance = await this.instance(scope, manager);
      return { instance, secret: await this.secret(scope, id, manager) };
    }
    const [instance, secret] = await allInOrder([this.instance(scope, manager), this.secret(scope, id, manager)] as const);
    return { instance, secret };
  }
}

/** The view's instance if active (its error first), then its secret or NOT_FOUND naming `what`. */
function activeSecret(scope: TenantScope, view: SecretView, what: string): ActiveSecret {
  const instance = usableInstance(view.instance ?? null, scope.instanceGuid);
  if (!view.secret) throw notFound(what);
  return { instance, secret: view.secret, ...(view.current ? { current: view.current } : {}), locks: view.locks };
}

/**
 * Await independent lookups together; when some fail, the first failure in the array's order is
 * thrown (not the first in time), so the error a caller sees is the one the sequential code gave.
 */
export async function allInOrder<T extends readonly unknown[]>(work: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const outcomes = await Promise.allSettled(work);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
