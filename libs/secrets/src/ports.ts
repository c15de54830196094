/**
 * The seams between the parts of the secrets domain that are built separately: secrets and
 * versions (libs/secrets/src/secrets), locks (libs/secrets/src/locks) and the IAM credentials
 * issuer (libs/secrets/src/iam-credentials). Each side depends on the abstract class here, and
 * SecretsModule binds the implementation.
 */
import type { SecretsWire } from '@sealbox/contracts';
import type { EntityManager } from 'typeorm';
import type { TenantScope } from './registry/store.js';

export type { TenantScope } from './registry/store.js';

/** One version of one secret, as the locks see it. */
export interface ResolvedVersion {
  readonly secretId: string;
  readonly secretGroupId: string;
  readonly secretType: SecretsWire.SecretType;
  readonly secretName: string;
  readonly versionId: string;
  /** `current` for the newest version, `previous` for the one before it, absent for older ones. */
  readonly alias?: SecretsWire.VersionAlias;
  readonly payloadAvailable: boolean;
  readonly createdAt: number;
}

/** Versions as the locks need them. Implemented by the secrets store. */
export abstract class VersionDirectory {
  /** The version `ref` names (a version id, `current` or `previous`) of a secret of the instance; NOT_FOUND when there is none. */
  abstract resolve(manager: EntityManager, scope: TenantScope, secretId: string, ref: string): Promise<ResolvedVersion>;
  /** Every version of the secret, newest first; NOT_FOUND when the secret does not exist. */
  abstract versions(manager: EntityManager, scope: TenantScope, secretId: string): Promise<ResolvedVersion[]>;
  /**
   * Delete a version's data inside the caller's transaction: `payload_available` becomes false and
   * the `secrets.version.data-deleted` event is recorded. The object is removed by `removeDeletedData`
   * after the commit (or by the orphan sweep if the process dies before).
   */
  abstract deleteData(manager: EntityManager, scope: TenantScope, secretId: string, versionId: string): Promise<void>;
  /** After the transaction of `deleteData` committed: remove the version's object from the bucket (best effort). */
  abstract removeDeletedData(scope: TenantScope, secretId: string, versionId: string): Promise<void>;
}

/** Locks as the secrets need them. Implemented by the lock store. */
export abstract class LockDirectory {
  /** Lock names by version id for the given versions (every version of the secret when omitted); versions without locks are absent. */
  abstract locksOn(
    manager: EntityManager,
    scope: TenantScope,
    secretId: string,
    versionIds?: readonly string[],
  ): Promise<ReadonlyMap<string, readonly string[]>>;
  /** How many locks each of these secrets holds (over all versions); secrets without locks are absent. */
  abstract countBySecret(manager: EntityManager, scope: TenantScope, secretIds: readonly string[]): Promise<ReadonlyMap<string, number>>;
  /** Remove every lock of a secret (its deletion, once checked unlocked) or of a version. */
  abstract removeAll(manager: EntityManager, scope: TenantScope, secretId: string, versionId?: string): Promise<void>;
  /** Remove every lock of the instance (permanent delete); returns how many. */
  abstract removeInstance(manager: EntityManager, scope: TenantScope): Promise<number>;
}

export interface IssuedApiKey {
  readonly apiKeyId: string;
  /** The API key value: it goes into the sealed version, never into metadata, logs or events. */
  readonly apiKey: string;
}

/** API keys for `iam_credentials` secrets. Implemented over NATS by iam. */
export abstract class IamCredentialsIssuer {
  /**
   * Create an API key for a service ID of the account that iam deletes when `ttlSeconds` have passed.
   * NOT_FOUND (as VALIDATION_FAILED naming `service_id` at the caller) when the service ID does not exist in the account.
   */
  abstract issue(request: {
    readonly accountId: string;
    readonly serviceId: string;
    readonly ttlSeconds: number;
    readonly name: string;
    readonly description?: string;
  }): Promise<IssuedApiKey>;
  /** Delete an API key issued earlier (absent: done). */
  abstract revoke(accountId: string, apiKeyId: string): Promise<void>;
}
