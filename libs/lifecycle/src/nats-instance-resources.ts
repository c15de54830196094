import { Injectable } from '@nestjs/common';
import { DomainError, RpcClient, type Caller } from '@sealbox/platform';
import type { KeyService } from './domain/crn.js';
import { InstanceResources, type RegistrationRef, type RootKeyInfo, type RootKeyRef, type SecretsInstanceRef } from './ports.js';

/** The identity lifecycle acts as when it manages the provider's own key-protect instances. */
export const PROVIDER_IAM_ID = 'iam-ServiceId-sealbox-lifecycle';

/** InstanceResources over the typed RPC client: storage, kms, secrets and iam subjects. */
@Injectable()
export class NatsInstanceResources extends InstanceResources {
  constructor(private readonly rpc: RpcClient) {
    super();
  }

  async describeRootKey(caller: Caller, key: RootKeyRef): Promise<RootKeyInfo> {
    const instance = await this.rpc.send('kms.instance.get', { accountId: key.accountId, instanceId: key.instanceId });
    const keys = await this.rpc.send('kms.api.key.metadata', { instanceId: key.instanceId, id: key.keyId }, { caller });
    const found = keys.resources[0];
    if (!found) throw new DomainError('NOT_FOUND', `Key ${key.keyId} was not found`);
    return { service: instance.serviceName, region: instance.region, state: found.state, extractable: found.extractable };
  }

  async keyAuthorized(source: { accountId: string; serviceInstance: string }, key: RootKeyRef & { service: KeyService }): Promise<boolean> {
    const decision = await this.rpc.send('iam.authorization.check', {
      source: { accountId: source.accountId, serviceName: 'secrets-manager', serviceInstance: source.serviceInstance },
      target: { accountId: key.accountId, serviceName: key.service, serviceInstance: key.instanceId, resourceType: 'key', resource: key.keyId },
      role: 'Reader',
    });
    return decision.allowed;
  }

  async createProviderRootKey(accountId: string, region: string, instanceId: string): Promise<RootKeyRef> {
    await this.rpc.send('kms.instance.create', { accountId, instanceId, serviceName: 'kms', region });
    const caller: Caller = { accountId, iamId: PROVIDER_IAM_ID, subType: 'service_id' };
    const created = await this.rpc.send(
      'kms.api.key.create',
      { instanceId, resources: [{ name: `sealbox-provider-${region}`, extractable: false, description: 'Provider-managed encryption of Secrets Manager instances' }], returnPayload: false },
      { caller },
    );
    const key = created.resources[0];
    if (!key) throw new DomainError('INTERNAL', 'kms created no key');
    return { accountId, instanceId, keyId: key.id };
  }

  async createBucket(guid: string): Promise<void> {
    await this.rpc.send('storage.bucket.create', { instanceGuid: guid });
  }

  async removeBucket(guid: string): Promise<void> {
    await this.rpc.send('storage.bucket.remove', { instanceGuid: guid });
  }

  async createRegistration(registration: RegistrationRef): Promise<void> {
    await this.rpc.send('kms.registration.create', {
      accountId: registration.key.accountId,
      key: { instanceId: registration.key.instanceId, keyId: registration.key.keyId },
      resourceCrn: registration.resourceCrn,
      preventKeyDeletion: true,
      description: 'Secrets Manager instance',
    });
  }

  async deleteRegistration(registration: RegistrationRef): Promise<void> {
    await this.rpc.send('kms.registration.delete', {
      accountId: registration.key.accountId,
      key: { instanceId: registration.key.instanceId, keyId: registration.key.keyId },
      resourceCrn: registration.resourceCrn,
    });
  }

  async activateSecrets(instance: SecretsInstanceRef): Promise<void> {
    await this.rpc.send('secrets.instance.activate', {
      accountId: instance.accountId,
      instanceGuid: instance.guid,
      crn: instance.crn,
      region: instance.region,
      kmsKey: { instanceId: instance.key.instanceId, keyId: instance.key.keyId, accountId: instance.key.accountId },
      planId: instance.planId,
    });
  }

  async setSecretsPlan(guid: string, planId: string): Promise<void> {
    await this.rpc.send('secrets.instance.set-plan', { instanceGuid: guid, planId });
  }

  async setSecretsState(guid: string, state: 'active' | 'disabled'): Promise<void> {
    await this.rpc.send('secrets.instance.set-state', { instanceGuid: guid, state });
  }

  async purgeSecrets(guid: string): Promise<void> {
    await this.rpc.send('secrets.instance.purge', { instanceGuid: guid });
  }

  async deleteInstancePolicies(accountId: string, service: string, guid: string): Promise<void> {
    await this.rpc.send('iam.policy.delete-for-instance', { accountId, serviceName: service, serviceInstance: guid });
  }

  async createKmsInstance(accountId: string, guid: string, service: KeyService, region: string): Promise<void> {
    await this.rpc.send('kms.instance.create', { accountId, instanceId: guid, serviceName: service, region });
  }

  async deleteKmsInstance(accountId: string, guid: string): Promise<void> {
    await this.rpc.send('kms.instance.delete', { accountId, instanceId: guid });
  }
}
