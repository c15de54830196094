import type { EntityManager } from 'typeorm';
import type { InstanceEntity } from '../registry/entities.js';
import type { TenantScope } from '../registry/store.js';
import type { SecretEntity, SecretVersionEntity } from './entities.js';

/** What a read of one secret needs, from one round trip. */
export interface SecretView {
  /** The scope's instance in whatever state (absent: none of this account). */
  readonly instance?: InstanceEntity;
  /** The secret (absent: not in this instance). */
  readonly secret?: SecretEntity;
  /** The secret's current version. */
  readonly current?: SecretVersionEntity;
  /** Locks over every version of the secret. */
  readonly locks: number;
}

/** A secret found by group name, type and name, from one round trip. */
export interface SecretViewByName extends SecretView {
  /** The instance has a group of that name. */
  readonly groupExists: boolean;
}

/** What a create checks before it seals, from one round trip. */
export interface Placement {
  /** The scope's instance in whatever state (absent: none of this account). */
  readonly instance?: InstanceEntity;
  readonly groupExists: boolean;
  /** A secret of this type with this name is already in the group. */
  readonly nameTaken: boolean;
  /** The instance's secrets, counted up to the `countUpTo` asked for (a quota needs no more). */
  readonly secretsTotal: number;
}

/** The reads of one secret since its bookkeeping was last written. */
export interface ReadMark extends TenantScope {
  readonly secretId: string;
  /** The latest read: `retrieved_at` becomes this unless it is already later. */
  readonly retrievedAt: number;
  /** The ordinal that was current when the current version was read: the secret is `downloaded` if it still is. */
  readonly currentOrdinal?: number;
  /** Versions whose data was read: `downloaded`. */
  readonly versionIds: readonly string[];
}

/**
 * The secrets service's hot statements as hand-written SQL through the driver (prepared once, one
 * round trip each); TypeORM stays for entities, migrations and everything else. One conformance suite
 * (`testing/secret-queries-conformance.ts`) runs against both implementations. Every call names the
 * account and the instance; one without either is refused rather than run unscoped.
 */
export abstract class SecretQueries {
  /** The instance, one of its secrets, the secret's current version and its lock count (committed rows only). */
  abstract secretView(scope: TenantScope, secretId: string): Promise<SecretView>;
  /** The same for the secret named `name` of type `secretType` in the group named `groupName`, and whether that group exists. */
  abstract secretViewByName(scope: TenantScope, groupName: string, secretType: string, name: string): Promise<SecretViewByName>;
  /** The instance, whether the group exists, whether the name is taken for the type in the group (committed rows only). */
  abstract placement(scope: TenantScope, groupId: string, secretType: string, name: string, countUpTo: number): Promise<Placement>;
  /**
   * In the caller's transaction (`manager`): insert a new secret, its labels and its first version,
   * only if the instance is active and the group exists (false then, nothing inserted). A name taken
   * meanwhile fails on the unique index with the driver's error.
   */
  abstract insertCreated(manager: EntityManager, secret: SecretEntity, version: SecretVersionEntity): Promise<boolean>;
  /** Write coalesced read bookkeeping: `retrieved_at` (never backwards), `downloaded` of the secrets and versions. */
  abstract recordReads(marks: readonly ReadMark[]): Promise<void>;
  /** Release what the implementation holds (a second SQLite connection). */
  abstract close(): Promise<void>;
}

/** The scope, or an error: hand-written SQL is never run without the account and the instance. */
export function tenantOf(scope: TenantScope): TenantScope {
  if (!scope.accountId || !scope.instanceGuid) throw new Error('Refusing a secrets query without an account id and an instance GUID');
  return { accountId: scope.accountId, instanceGuid: scope.instanceGuid };
}
