import type { Caller } from '@sealbox/platform';
import type { KeyService } from './domain/crn.js';

/** A root key: the account and KMS instance that hold it, and its id. */
export interface RootKeyRef {
  readonly accountId: string;
  readonly instanceId: string;
  readonly keyId: string;
}

/** What lifecycle needs to know of a customer's root key. */
export interface RootKeyInfo {
  readonly service: KeyService;
  /** The region of the key's KMS instance. */
  readonly region: string;
  /** Key Protect key state: 1 active, 2 suspended, 3 deactivated, 5 destroyed. */
  readonly state: number;
  /** true for a standard key (cannot protect data keys). */
  readonly extractable: boolean;
}

/** A Secrets Manager instance as its resources see it. */
export interface SecretsInstanceRef {
  readonly accountId: string;
  readonly guid: string;
  readonly crn: string;
  readonly region: string;
  readonly key: RootKeyRef;
  /** The plan, which sets the instance's quotas in the secrets service. */
  readonly planId: string;
}

/** A key registration: `key` protects the data of the resource `resourceCrn`. */
export interface RegistrationRef {
  readonly key: RootKeyRef;
  readonly resourceCrn: string;
}

/**
 * Everything of an instance that lives in other services, behind one port: the lookups that
 * validate `parameters.kms_key`, the provisioning and permanent-delete saga steps, and kms instances.
 * Production: NatsInstanceResources (subjects of storage, kms, secrets, iam). Tests and the bench
 * swap in a double through DI.
 *
 * Every saga step must be idempotent: a resumed saga runs its recorded step again.
 */
export abstract class InstanceResources {
  /** The KMS instance's region and the key's state, read as the caller (another account's key: NOT_FOUND). */
  abstract describeRootKey(caller: Caller, key: RootKeyRef): Promise<RootKeyInfo>;
  /** Does an authorization let this Secrets Manager instance read the key (role Reader)? */
  abstract keyAuthorized(source: { accountId: string; serviceInstance: string }, key: RootKeyRef & { service: KeyService }): Promise<boolean>;
  /** Create the provider's key-protect instance `instanceId` (idempotent) with a new root key. */
  abstract createProviderRootKey(accountId: string, region: string, instanceId: string): Promise<RootKeyRef>;

  abstract createBucket(guid: string): Promise<void>;
  abstract removeBucket(guid: string): Promise<void>;
  abstract createRegistration(registration: RegistrationRef): Promise<void>;
  /** FORBIDDEN when the service-to-service authorization that covers it is gone. */
  abstract deleteRegistration(registration: RegistrationRef): Promise<void>;
  abstract activateSecrets(instance: SecretsInstanceRef): Promise<void>;
  abstract setSecretsState(guid: string, state: 'active' | 'disabled'): Promise<void>;
  /** The instance's plan in the secrets registry (its quotas follow it); idempotent. */
  abstract setSecretsPlan(guid: string, planId: string): Promise<void>;
  /** Every secrets row of the instance, and the instance in the secrets registry. */
  abstract purgeSecrets(guid: string): Promise<void>;
  /** The authorization policies whose subject is this instance. */
  abstract deleteInstancePolicies(accountId: string, service: string, guid: string): Promise<void>;

  abstract createKmsInstance(accountId: string, guid: string, service: KeyService, region: string): Promise<void>;
  /** CONFLICT while the instance holds keys. */
  abstract deleteKmsInstance(accountId: string, guid: string): Promise<void>;
}
