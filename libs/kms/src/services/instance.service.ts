import { Inject, Injectable } from '@nestjs/common';
import type { KmsWire, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import type { InstanceContext, KmsProvider, MasterKeyInfo } from '@sealbox/kms-plugins';
import { Clock, conflict, dataSourceToken, DomainError, Outbox, outboxToken, rootLogger, type Caller } from '@sealbox/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { decodeExact, zero } from '../domain/binary.js';
import { KeyedMutex } from '../domain/keyed-mutex.js';
import { KEY_MATERIAL_BYTES } from '../domain/import-token.js';
import { viaProvider } from '../domain/provider-errors.js';
import {
  ImportTokenEntity,
  InstanceEntity,
  KeyAliasEntity,
  KeyEntity,
  KeyPolicyEntity,
  KeyVersionEntity,
  RegistrationEntity,
} from '../persistence/entities.js';
import { requireInstance, updateInstance } from '../persistence/kms-store.js';
import { KMS_OPTIONS, KMS_PROVIDERS, type KmsDomainOptions, type KmsProviders } from '../tokens.js';
import { instanceContextOf, WrapTargets } from './wrap-targets.js';

type KmsInstance = ResponseOf<'kms.instance.get'>;

export function instanceWire(instance: InstanceEntity): KmsInstance {
  return {
    accountId: instance.accountId,
    instanceId: instance.id,
    serviceName: instance.serviceName,
    region: instance.region,
    provider: instance.provider,
    masterKeyStatus: instance.masterKeyStatus,
  };
}

function masterKeyWire(info: MasterKeyInfo): KmsWire.MasterKeyStatus {
  return {
    status: info.status,
    ...(info.partsLoaded !== undefined ? { partsLoaded: info.partsLoaded } : {}),
    ...(info.threshold !== undefined ? { threshold: info.threshold } : {}),
    ...(info.verificationPattern !== undefined ? { verificationPattern: info.verificationPattern } : {}),
  };
}

/**
 * Key-management instances: created and deleted by lifecycle (and tests) over NATS, each backed by
 * the provider its service is configured with; the HPCS key ceremony of an instance's master key.
 */
@Injectable()
export class InstanceService {
  private readonly ceremony = new KeyedMutex();

  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(outboxToken('kms')) private readonly outbox: Outbox,
    @Inject(KMS_PROVIDERS) private readonly providers: KmsProviders,
    @Inject(KMS_OPTIONS) private readonly options: KmsDomainOptions,
    private readonly clock: Clock,
    private readonly targets: WrapTargets,
  ) {}

  providerOf(instance: InstanceEntity): KmsProvider {
    return this.providers.get(instance.provider);
  }

  contextOf(instance: InstanceEntity): InstanceContext {
    return instanceContextOf(instance);
  }

  /**
   * Destroy version materials through the provider after the rows that referenced them are gone (a
   * purge, a version that was never stored). A failure is logged, not thrown: nothing refers to the
   * material any more, and for blob-based providers discarding the blob already destroyed it.
   */
  async destroyMaterials(instance: InstanceEntity, materials: readonly string[]): Promise<void> {
    const provider = this.providerOf(instance);
    const context = this.contextOf(instance);
    for (const material of materials) {
      try {
        await provider.destroyVersion(context, material);
      } catch (error) {
        rootLogger().warn({ err: error, instanceId: instance.id }, 'kms: could not destroy the material of a key version no longer stored');
      }
    }
  }

  /** Key operations on an HPCS instance need its master key: 409 INSTANCE_NOT_INITIALIZED before the ceremony and after zeroize. */
  requireInitialized(instance: InstanceEntity): void {
    if (instance.masterKeyStatus === 'active' || instance.masterKeyStatus === 'not_applicable') return;
    throw new DomainError(
      'INSTANCE_NOT_INITIALIZED',
      `Instance ${instance.id} has no active master key (${instance.masterKeyStatus}): load the master key parts first`,
    );
  }

  /** Idempotent for the same account and service (a retried saga step); CONFLICT if the id is taken otherwise. */
  async create(request: ValidatedRequestOf<'kms.instance.create'>): Promise<KmsInstance> {
    const existing = await this.dataSource.manager.findOne(InstanceEntity, { where: { id: request.instanceId } });
    if (existing) return this.sameOrConflict(existing, request);
    const kind = this.options.providerFor[request.serviceName];
    const provider = this.providers.get(kind);
    const state = await viaProvider(() =>
      provider.createInstance(request.instanceId, request.threshold !== undefined ? { threshold: request.threshold } : {}),
    );
    const info = await viaProvider(() => provider.masterKey({ instanceId: request.instanceId, state }));
    const instance = Object.assign(new InstanceEntity(), {
      id: request.instanceId,
      accountId: request.accountId,
      serviceName: request.serviceName,
      region: request.region,
      provider: kind,
      providerState: JSON.stringify(state),
      masterKeyStatus: info.status,
      createdAt: this.clock.nowMs(),
      rowVersion: 1,
    });
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(InstanceEntity, instance);
        await this.outbox.record(manager, 'kms.instance.created', {
          accountId: instance.accountId,
          instanceId: instance.id,
          serviceName: instance.serviceName,
          provider: kind,
        });
      });
    } catch (error) {
      // Created by a concurrent request meanwhile?
      const raced = await this.dataSource.manager.findOne(InstanceEntity, { where: { id: request.instanceId } });
      if (raced) return this.sameOrConflict(raced, request);
      throw error;
    }
    return instanceWire(instance);
  }

  private sameOrConflict(existing: InstanceEntity, request: ValidatedRequestOf<'kms.instance.create'>): KmsInstance {
    if (existing.accountId === request.accountId && existing.serviceName === request.serviceName) return instanceWire(existing);
    throw conflict(`Instance ${request.instanceId} already exists`);
  }

  async get(request: ValidatedRequestOf<'kms.instance.get'>): Promise<KmsInstance> {
    return instanceWire(await requireInstance(this.dataSource.manager, request.accountId, request.instanceId));
  }

  /**
   * Delete an instance that holds no live keys (Key Protect: "delete keys first"); its deleted keys go
   * with it. The provider's material is removed after the commit, when nothing can use it any more.
   */
  async delete(request: ValidatedRequestOf<'kms.instance.delete'>): Promise<void> {
    const { instance, materials } = await this.dataSource.transaction(async (manager) => {
      const instance = await requireInstance(manager, request.accountId, request.instanceId);
      const keys = await manager.find(KeyEntity, { where: { accountId: instance.accountId, instanceId: instance.id } });
      const live = keys.filter((key) => key.state !== 5);
      if (live.length) {
        throw conflict(`Instance ${instance.id} still has ${live.length} key(s) that are not deleted: delete the keys first`);
      }
      const versions = await manager.find(KeyVersionEntity, { where: { accountId: instance.accountId, instanceId: instance.id } });
      await this.removeInstanceRows(manager, instance);
      await this.outbox.record(manager, 'kms.instance.deleted', { accountId: instance.accountId, instanceId: instance.id });
      return { instance, materials: versions.map((version) => version.material) };
    });
    this.targets.instanceChanged('kms.instance.deleted', { accountId: instance.accountId, instanceId: instance.id });
    try {
      await this.providerOf(instance).deleteInstance(this.contextOf(instance), materials);
    } catch (error) {
      rootLogger().warn({ err: error, instanceId: instance.id }, 'kms: the provider could not remove the material of a deleted instance');
    }
  }

  private async removeInstanceRows(manager: EntityManager, instance: InstanceEntity): Promise<void> {
    const scope = { accountId: instance.accountId, instanceId: instance.id };
    for (const entity of [RegistrationEntity, KeyPolicyEntity, KeyAliasEntity, KeyVersionEntity, KeyEntity, ImportTokenEntity]) {
      await manager.delete(entity, scope);
    }
    await manager.delete(InstanceEntity, { id: instance.id, accountId: instance.accountId });
  }

  // ---- HPCS master key ----

  async masterKey(caller: Caller, instanceId: string): Promise<KmsWire.MasterKeyStatus> {
    const instance = await requireInstance(this.dataSource.manager, caller.accountId, instanceId);
    return masterKeyWire(await viaProvider(() => this.providerOf(instance).masterKey(this.contextOf(instance))));
  }

  /** One part of the key ceremony, from the caller (a distinct identity per part). */
  async loadMasterKeyPart(caller: Caller, instanceId: string, partText: string): Promise<KmsWire.MasterKeyStatus> {
    const part = decodeExact(partText, KEY_MATERIAL_BYTES, 'master key part', 'INVALID_KEY_MATERIAL');
    try {
      return await this.ceremony.run(instanceId, async () => {
        const instance = await requireInstance(this.dataSource.manager, caller.accountId, instanceId);
        const provider = this.providerOf(instance);
        const { state, info } = await viaProvider(() => provider.loadMasterKeyPart(this.contextOf(instance), caller.iamId, part));
        await this.dataSource.transaction(async (manager) => {
          await updateInstance(manager, instance, { providerState: JSON.stringify(state), masterKeyStatus: info.status });
          if (info.status === 'active') {
            await this.outbox.record(manager, 'kms.instance.master-key-loaded', {
              accountId: instance.accountId,
              instanceId: instance.id,
              verificationPattern: info.verificationPattern ?? '',
            });
          }
        });
        if (info.status === 'active') this.targets.instanceChanged('kms.instance.master-key-loaded', { accountId: instance.accountId, instanceId: instance.id });
        return masterKeyWire(info);
      });
    } finally {
      zero(part);
    }
  }

  /** Destroy the master key: every key of the instance stops working at once. */
  async zeroizeMasterKey(caller: Caller, instanceId: string): Promise<KmsWire.MasterKeyStatus> {
    return this.ceremony.run(instanceId, async () => {
      const instance = await requireInstance(this.dataSource.manager, caller.accountId, instanceId);
      const provider = this.providerOf(instance);
      const state = await viaProvider(() => provider.zeroizeMasterKey(this.contextOf(instance)));
      const info = await viaProvider(() => provider.masterKey({ instanceId: instance.id, state }));
      await this.dataSource.transaction(async (manager) => {
        await updateInstance(manager, instance, { providerState: JSON.stringify(state), masterKeyStatus: info.status });
        await this.outbox.record(manager, 'kms.instance.master-key-zeroized', { accountId: instance.accountId, instanceId: instance.id });
      });
      this.targets.instanceChanged('kms.instance.master-key-zeroized', { accountId: instance.accountId, instanceId: instance.id });
      return masterKeyWire(info);
    });
  }
}
