import { DomainError, type Caller } from '@sealbox/platform';
import type { KeyService } from '../domain/crn.js';
import { InstanceResources, type RegistrationRef, type RootKeyInfo, type RootKeyRef, type SecretsInstanceRef } from '../ports.js';

export type ResourceMethod = Exclude<keyof InstanceResources, 'constructor'>;

const keyName = (key: { instanceId: string; keyId: string }) => `${key.instanceId}/${key.keyId}`;

/**
 * A typed test double of InstanceResources: it records every call (`calls`), keeps the state a real
 * stack would (buckets, registrations, secrets instances and their state, kms instances), knows the
 * keys and authorizations a test declares, and can fail a method (`failOn`) or hang in it forever
 * as a killed process would (`killOn`). Registration deletes need the key's authorization, as kms does.
 */
export class RecordingResources extends InstanceResources {
  readonly calls: string[] = [];
  readonly keys = new Map<string, RootKeyInfo & { accountId: string }>();
  /** `<kms instance>` entries: secrets-manager instances of the account may read its keys. */
  readonly authorized = new Set<string>();
  readonly buckets = new Set<string>();
  readonly registrations = new Set<string>();
  readonly secrets = new Map<string, 'active' | 'disabled'>();
  readonly kmsInstances = new Map<string, { keys: number }>();
  readonly policiesDeletedFor: string[] = [];
  readonly providerKeys: RootKeyRef[] = [];
  private readonly failures = new Map<ResourceMethod, () => DomainError>();
  private readonly kills = new Set<ResourceMethod>();

  /** A root key the tests can name in `kms_key`. */
  addKey(key: RootKeyRef, info: RootKeyInfo): void {
    this.keys.set(keyName(key), { ...info, accountId: key.accountId });
  }

  failOn(method: ResourceMethod, error: () => DomainError): void {
    this.failures.set(method, error);
  }

  heal(method: ResourceMethod): void {
    this.failures.delete(method);
  }

  /** The next call of `method` never settles (the process "dies" there). */
  killOn(method: ResourceMethod): void {
    this.kills.add(method);
  }

  private async step(method: ResourceMethod, detail: string): Promise<void> {
    this.calls.push(`${method} ${detail}`);
    if (this.kills.delete(method)) await new Promise<never>(() => undefined);
    const failure = this.failures.get(method);
    if (failure) throw failure();
  }

  callsFor(guid: string): string[] {
    return this.calls.filter((call) => call.endsWith(` ${guid}`) || call.includes(` ${guid} `)).map((call) => call.split(' ')[0] as string);
  }

  async describeRootKey(caller: Caller, key: RootKeyRef): Promise<RootKeyInfo> {
    await this.step('describeRootKey', keyName(key));
    const found = this.keys.get(keyName(key));
    if (!found || found.accountId !== caller.accountId) throw new DomainError('NOT_FOUND', 'Key was not found');
    return { service: found.service, region: found.region, state: found.state, extractable: found.extractable };
  }

  async keyAuthorized(_source: { accountId: string; serviceInstance: string }, key: RootKeyRef & { service: KeyService }): Promise<boolean> {
    await this.step('keyAuthorized', keyName(key));
    return this.authorized.has(key.instanceId);
  }

  async createProviderRootKey(accountId: string, region: string, instanceId: string): Promise<RootKeyRef> {
    await this.step('createProviderRootKey', region);
    const key = { accountId, instanceId, keyId: `provider-key-${region}` };
    this.providerKeys.push(key);
    return key;
  }

  async createBucket(guid: string): Promise<void> {
    await this.step('createBucket', guid);
    this.buckets.add(guid);
  }

  async removeBucket(guid: string): Promise<void> {
    await this.step('removeBucket', guid);
    this.buckets.delete(guid);
  }

  async createRegistration(registration: RegistrationRef): Promise<void> {
    await this.step('createRegistration', `${keyName(registration.key)} ${registration.resourceCrn.split(':')[7]}`);
    this.registrations.add(`${keyName(registration.key)} ${registration.resourceCrn}`);
  }

  async deleteRegistration(registration: RegistrationRef): Promise<void> {
    await this.step('deleteRegistration', `${keyName(registration.key)} ${registration.resourceCrn.split(':')[7]}`);
    if (!this.authorized.has(registration.key.instanceId)) throw new DomainError('FORBIDDEN', 'No authorization lets this instance use the key');
    this.registrations.delete(`${keyName(registration.key)} ${registration.resourceCrn}`);
  }

  async activateSecrets(instance: SecretsInstanceRef): Promise<void> {
    await this.step('activateSecrets', instance.guid);
    if (!this.secrets.has(instance.guid)) this.secrets.set(instance.guid, 'active');
  }

  async setSecretsPlan(guid: string, planId: string): Promise<void> {
    await this.step('setSecretsPlan', `${planId} ${guid}`);
    if (!this.secrets.has(guid)) throw new DomainError('NOT_FOUND', `Instance ${guid} was not found`);
  }

  async setSecretsState(guid: string, state: 'active' | 'disabled'): Promise<void> {
    await this.step('setSecretsState', `${state} ${guid}`);
    if (!this.secrets.has(guid)) throw new DomainError('NOT_FOUND', `Instance ${guid} was not found`);
    this.secrets.set(guid, state);
  }

  async purgeSecrets(guid: string): Promise<void> {
    await this.step('purgeSecrets', guid);
    this.secrets.delete(guid);
  }

  async deleteInstancePolicies(_accountId: string, _service: string, guid: string): Promise<void> {
    await this.step('deleteInstancePolicies', guid);
    this.policiesDeletedFor.push(guid);
  }

  async createKmsInstance(_accountId: string, guid: string, _service: KeyService, _region: string): Promise<void> {
    await this.step('createKmsInstance', guid);
    this.kmsInstances.set(guid, { keys: 0 });
  }

  async deleteKmsInstance(_accountId: string, guid: string): Promise<void> {
    await this.step('deleteKmsInstance', guid);
    const instance = this.kmsInstances.get(guid);
    if (!instance) throw new DomainError('NOT_FOUND', `Instance ${guid} was not found`);
    if (instance.keys > 0) throw new DomainError('CONFLICT', `Instance ${guid} still has ${instance.keys} keys: delete them first`);
    this.kmsInstances.delete(guid);
  }
}
