import { Inject, Injectable } from '@nestjs/common';
import { KmsWire, type Subject, type ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, conflict, dataSourceToken, DomainError, isUniqueViolation, notFound, Outbox, outboxToken, validationFailed, type Caller } from '@sealbox/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import { Brackets, type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { zero } from '../domain/binary.js';
import {
  deleteKey,
  disable,
  enable,
  keyDestroyed,
  requireActive,
  requireNotDestroyed,
  requirePurgeable,
  requireUnwrappable,
  restore,
  setForDeletion,
  unsetForDeletion,
  type KeyChange,
} from '../domain/key-lifecycle.js';
import { viaProvider } from '../domain/provider-errors.js';
import { rescheduled } from '../domain/schedules.js';
import { decodeStandardPayload, GENERATED_STANDARD_KEY_BYTES, openStandardPayload, requireRootKey, sealStandardPayload } from '../domain/standard-key.js';
import {
  KeyAliasEntity,
  KeyEntity,
  KeyPolicyEntity,
  KeyVersionEntity,
  RegistrationEntity,
  type InstanceEntity,
} from '../persistence/entities.js';
import { aliasesOf, removeKeyRows, requireInstance, requireKey, updateKey, versionRowOf, versionsOf } from '../persistence/kms-store.js';
import { KMS_OPTIONS, type KmsDomainOptions } from '../tokens.js';
import { ImportTokenService, type ImportedMaterial, type MaterialFields } from './import-token.service.js';
import { InstanceService } from './instance.service.js';
import { ServiceSealer } from './service-sealer.js';
import { isoDate, keyCollection, keyJson, policyJson } from './wire.js';
import { WrapTargets } from './wrap-targets.js';

type Req<S extends Subject> = ValidatedRequestOf<S>;

/** Key Protect's default listing: every state but destroyed. */
const DEFAULT_LIST_STATES = [0, 1, 2, 3];

/** A new version's material, before it is stored. */
interface NewVersion {
  readonly material: string;
  readonly fingerprint: string | null;
  /** Standard keys: the sealed payload. */
  readonly sealedPayload?: string;
  /** Standard keys, when the caller asked for the representation: the payload, base64. */
  readonly payload?: string;
}

/**
 * Keys of an instance: create (root keys generated, imported, imported with a token; standard keys
 * generated or imported), read (a standard key's material on getKey), list, the state machine
 * (disable/enable, dual authorization delete, delete/restore/purge), rotation, versions, aliases and
 * key policies (keeping the rotation schedule of the key). Every change is one transaction with its
 * event.
 */
@Injectable()
export class KeyService {
  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(outboxToken('kms')) private readonly outbox: Outbox,
    @Inject(KMS_OPTIONS) private readonly options: KmsDomainOptions,
    private readonly instances: InstanceService,
    private readonly importTokens: ImportTokenService,
    private readonly sealer: ServiceSealer,
    private readonly clock: Clock,
    private readonly targets: WrapTargets,
  ) {}

  // ---- create ----

  async create(caller: Caller, request: Req<'kms.api.key.create'>): Promise<KmsWire.KeyCollection> {
    const resource = request.resources[0];
    if (!resource) throw validationFailed([{ field: 'resources', message: 'exactly one key per request' }]);
    const now = this.clock.nowMs();
    const expiresAt = resource.expirationDate !== undefined ? Date.parse(resource.expirationDate) : null;
    if (expiresAt !== null && expiresAt <= now) {
      throw validationFailed([{ field: 'resources.0.expirationDate', message: 'must be in the future' }]);
    }
    const aliases = [...new Set(resource.aliases ?? [])];
    const instance = await requireInstance(this.dataSource.manager, caller.accountId, request.instanceId);
    this.instances.requireInitialized(instance);

    const keyId = randomUUID();
    const versionId = randomUUID();
    const standard = resource.extractable;
    const imported = standard ? standardMaterialOf(resource) : await this.importTokens.materialOf(instance, resource);
    const version = standard
      ? await this.standardVersion(instance, keyId, versionId, imported, request.returnPayload)
      : await this.newVersion(instance, keyId, imported);

    const key = Object.assign(new KeyEntity(), {
      id: keyId,
      accountId: instance.accountId,
      instanceId: instance.id,
      name: resource.name,
      description: resource.description ?? null,
      state: KmsWire.KEY_STATE_ACTIVE,
      nonactiveReason: null,
      imported: imported !== undefined,
      extractable: standard,
      createdAt: now,
      createdBy: caller.iamId,
      updatedAt: now,
      rotatedAt: null,
      expiresAt,
      currentVersionId: versionId,
      currentVersionAt: now,
      dualAuthDelete: false,
      rotationEnabled: false,
      rotationIntervalMonth: null,
      nextRotationAt: null,
      setForDeletionBy: null,
      setForDeletionAt: null,
      deletedAt: null,
      deletedBy: null,
      rowVersion: 1,
    });
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(KeyEntity, key);
        await manager.insert(KeyVersionEntity, versionRowOf(key, { id: versionId, ...version }, now));
        for (const alias of aliases) await this.insertAlias(manager, instance, key, alias, caller, now);
        if (imported?.viaToken) await this.importTokens.consume(manager, instance);
        await this.outbox.record(manager, 'kms.key.created', {
          ...this.keyRef(key),
          name: key.name,
          imported: key.imported,
          keyVersionId: versionId,
        });
      });
    } catch (error) {
      await this.instances.destroyMaterials(instance, [version.material]);
      throw error;
    }
    return keyCollection([keyJson(this.options.crnPrefix, instance, key, aliases, now, version.payload)]);
  }

  /** Material of a new version (generated, or imported and fingerprinted); the imported bytes are zeroed. */
  private async newVersion(instance: InstanceEntity, keyId: string, imported: ImportedMaterial | undefined): Promise<NewVersion> {
    try {
      const provider = this.instances.providerOf(instance);
      const context = this.instances.contextOf(instance);
      const material = await viaProvider(() => provider.createVersion(context, imported?.material), { invalidMaterial: 'INVALID_KEY_MATERIAL' });
      try {
        const fingerprint = imported ? await this.sealer.fingerprint(instance.id, keyId, imported.material) : null;
        return { material, fingerprint };
      } catch (error) {
        await this.instances.destroyMaterials(instance, [material]);
        throw error;
      }
    } finally {
      zero(imported?.material);
    }
  }

  /**
   * A standard key's version: a generated provider version that seals the key material (imported, or
   * 256 random bits), fingerprinted when imported. The material is zeroed; it is returned (base64)
   * only when the caller asked for the representation.
   */
  private async standardVersion(
    instance: InstanceEntity,
    keyId: string,
    versionId: string,
    imported: ImportedMaterial | undefined,
    returnPayload: boolean,
  ): Promise<NewVersion> {
    const secret = imported?.material ?? randomBytes(GENERATED_STANDARD_KEY_BYTES);
    try {
      const { material } = await this.newVersion(instance, keyId, undefined);
      try {
        const binding = { instanceId: instance.id, keyId, keyVersionId: versionId };
        const sealedPayload = await sealStandardPayload(this.instances.providerOf(instance), this.instances.contextOf(instance), material, secret, binding);
        const fingerprint = imported ? await this.sealer.fingerprint(instance.id, keyId, secret) : null;
        return { material, fingerprint, sealedPayload, ...(returnPayload ? { payload: secret.toString('base64') } : {}) };
      } catch (error) {
        await this.instances.destroyMaterials(instance, [material]);
        throw error;
      }
    } finally {
      zero(secret);
    }
  }

  private async insertAlias(manager: EntityManager, instance: InstanceEntity, key: KeyEntity, alias: string, caller: Caller, now: number): Promise<KeyAliasEntity> {
    const taken = await manager.findOne(KeyAliasEntity, { where: { accountId: instance.accountId, instanceId: instance.id, alias } });
    if (taken) throw conflict(`The alias ${alias} is already used by a key of this instance`);
    const row = Object.assign(new KeyAliasEntity(), {
      instanceId: instance.id,
      alias,
      keyId: key.id,
      accountId: instance.accountId,
      createdAt: now,
      createdBy: caller.iamId,
    });
    try {
      await manager.insert(KeyAliasEntity, row);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`The alias ${alias} is already used by a key of this instance`);
      throw error;
    }
    return row;
  }

  // ---- read ----

  async list(caller: Caller, request: Req<'kms.api.key.list'>): Promise<KmsWire.KeyCollection> {
    const instance = await requireInstance(this.dataSource.manager, caller.accountId, request.instanceId);
    const now = this.clock.nowMs();
    const keys = await this.filtered(instance, request.state, request.extractable, now).orderBy('k.created_at', 'ASC').addOrderBy('k.id', 'ASC').offset(request.offset).limit(request.limit).getMany();
    const aliases = await aliasesOf(this.dataSource.manager, instance.accountId, keys.map((key) => key.id));
    return keyCollection(keys.map((key) => keyJson(this.options.crnPrefix, instance, key, aliases.get(key.id) ?? [], now)));
  }

  async count(caller: Caller, request: Req<'kms.api.key.count'>): Promise<KmsWire.KeyCount> {
    const instance = await requireInstance(this.dataSource.manager, caller.accountId, request.instanceId);
    return { total: await this.filtered(instance, request.state, request.extractable, this.clock.nowMs()).getCount() };
  }

  /**
   * Keys of the instance in the given states (1 and 3 as seen now: an expired active key is
   * deactivated), only standard keys (`extractable` true) or only root keys (false) when asked.
   */
  private filtered(
    instance: InstanceEntity,
    states: readonly number[] | undefined,
    extractable: boolean | undefined,
    now: number,
  ): SelectQueryBuilder<KeyEntity> {
    const wanted = new Set(states ?? DEFAULT_LIST_STATES);
    const stored = [...wanted].filter((state) => state !== KmsWire.KEY_STATE_ACTIVE && state !== KmsWire.KEY_STATE_DEACTIVATED);
    const query = this.dataSource.manager
      .createQueryBuilder(KeyEntity, 'k')
      .where('k.account_id = :accountId AND k.instance_id = :instanceId', { accountId: instance.accountId, instanceId: instance.id })
      .andWhere(
        new Brackets((any) => {
          any.where('1 = 0');
          if (stored.length) any.orWhere('k.state IN (:...stored)', { stored });
          if (wanted.has(KmsWire.KEY_STATE_ACTIVE)) any.orWhere('(k.state = 1 AND (k.expires_at IS NULL OR k.expires_at > :now))', { now });
          if (wanted.has(KmsWire.KEY_STATE_DEACTIVATED)) any.orWhere('(k.state = 3 OR (k.state = 1 AND k.expires_at <= :now))', { now });
        }),
      );
    // Literals: SQLite stores booleans as 0/1 and binds none; TRUE/FALSE mean the same in both databases.
    if (extractable !== undefined) query.andWhere(extractable ? 'k.extractable = TRUE' : 'k.extractable = FALSE');
    return query;
  }

  /**
   * getKey: a deleted key is 410 KEY_DESTROYED (its metadata stays readable). A standard key comes
   * with its material (`payload`) while it is usable as a root key unwraps: active or deactivated
   * (expired); disabled → 409 KEY_DISABLED.
   */
  async get(caller: Caller, request: Req<'kms.api.key.get'>): Promise<KmsWire.KeyCollection> {
    const { instance, key } = await this.load(this.dataSource.manager, caller, request);
    if (key.state === KmsWire.KEY_STATE_DESTROYED) throw keyDestroyed(key.id);
    const payload = key.extractable ? await this.payloadOf(instance, key) : undefined;
    return keyCollection([await this.view(this.dataSource.manager, instance, key, payload)]);
  }

  /** A standard key's material, opened from its sealed form (base64; the bytes are zeroed). */
  private async payloadOf(instance: InstanceEntity, key: KeyEntity): Promise<string> {
    requireUnwrappable(key, this.clock.nowMs());
    this.instances.requireInitialized(instance);
    const version = await this.currentVersion(this.dataSource.manager, key);
    if (version.sealedPayload === null) throw new Error(`kms: standard key ${key.id} has no sealed payload`);
    const binding = { instanceId: instance.id, keyId: key.id, keyVersionId: version.id };
    const secret = await openStandardPayload(this.instances.providerOf(instance), this.instances.contextOf(instance), version.material, version.sealedPayload, binding);
    try {
      return secret.toString('base64');
    } finally {
      zero(secret);
    }
  }

  async metadata(caller: Caller, request: Req<'kms.api.key.metadata'>): Promise<KmsWire.KeyCollection> {
    const { instance, key } = await this.load(this.dataSource.manager, caller, request);
    return keyCollection([await this.view(this.dataSource.manager, instance, key)]);
  }

  async versions(caller: Caller, request: Req<'kms.api.key.versions'>) {
    const { key } = await this.load(this.dataSource.manager, caller, request);
    const all = await versionsOf(this.dataSource.manager, key);
    const page = all.slice(request.offset, request.offset + request.limit);
    return {
      metadata: {
        collectionType: KmsWire.KEY_VERSION_COLLECTION_TYPE,
        collectionTotal: page.length,
        ...(request.totalCount ? { totalCount: all.length } : {}),
      },
      resources: page.map((version) => ({ id: version.id, creationDate: isoDate(version.createdAt) })),
    };
  }

  // ---- state machine ----

  async disable(caller: Caller, request: Req<'kms.api.key.disable'>): Promise<void> {
    await this.transition(caller, request, (key, now) => disable(key, now), 'kms.key.disabled');
  }

  async enable(caller: Caller, request: Req<'kms.api.key.enable'>): Promise<void> {
    await this.transition(caller, request, (key, now) => enable(key, now), 'kms.key.enabled');
  }

  async setForDeletion(caller: Caller, request: Req<'kms.api.key.set-for-deletion'>): Promise<void> {
    await this.transition(caller, request, (key, now) => setForDeletion(key, caller.iamId, now));
  }

  async unsetForDeletion(caller: Caller, request: Req<'kms.api.key.unset-for-deletion'>): Promise<void> {
    await this.transition(caller, request, (key) => unsetForDeletion(key));
  }

  private async transition(
    caller: Caller,
    request: { instanceId: string; id: string },
    change: (key: KeyEntity, now: number) => KeyChange | null,
    event?: 'kms.key.disabled' | 'kms.key.enabled',
  ): Promise<void> {
    const changed = await this.dataSource.transaction(async (manager) => {
      const { key } = await this.load(manager, caller, request);
      const now = this.clock.nowMs();
      const changes = change(key, now);
      if (!changes) return undefined;
      await updateKey(manager, key, changes, now);
      if (event) await this.outbox.record(manager, event, this.keyRef(key));
      return key;
    });
    if (changed && event) this.targets.keyChanged(event, this.keyRef(changed));
  }

  async delete(caller: Caller, request: Req<'kms.api.key.delete'>): Promise<KmsWire.KeyCollection> {
    return this.dataSource.transaction(async (manager) => {
      const { instance, key } = await this.load(manager, caller, request);
      const now = this.clock.nowMs();
      const registrations = await manager.find(RegistrationEntity, { where: { accountId: key.accountId, keyId: key.id } });
      const changes = deleteKey(key, {
        actor: caller.iamId,
        now,
        force: request.force,
        preventingRegistrations: registrations.filter((registration) => registration.preventKeyDeletion).length,
      });
      if (request.force) {
        // Key Protect: a forced delete also removes the key's registrations.
        for (const registration of registrations) {
          await manager.delete(RegistrationEntity, { accountId: key.accountId, keyId: key.id, resourceCrn: registration.resourceCrn });
          await this.outbox.record(manager, 'kms.registration.deleted', { ...this.keyRef(key), resourceCrn: registration.resourceCrn });
        }
      }
      await updateKey(manager, key, rescheduled(key, changes), now);
      await this.outbox.record(manager, 'kms.key.deleted', { ...this.keyRef(key), force: request.force });
      return { key, view: keyCollection([await this.view(manager, instance, key)]) };
    }).then(({ key, view }) => {
      this.targets.keyChanged('kms.key.deleted', this.keyRef(key));
      return view;
    });
  }

  /**
   * Within 30 days of the deletion; an imported key (root or standard) needs its key material again
   * (the same material); a generated one is restored without. Its rotation schedule resumes.
   */
  async restore(caller: Caller, request: Req<'kms.api.key.restore'>): Promise<KmsWire.KeyCollection> {
    const { instance, key } = await this.load(this.dataSource.manager, caller, request);
    const now = this.clock.nowMs();
    const changes = restore(key, now);
    const imported = key.extractable ? standardMaterialOf(request) : await this.importTokens.materialOf(instance, request);
    try {
      if (key.imported) {
        if (!imported) throw new DomainError('INVALID_KEY_MATERIAL', `Key ${key.id} was imported: restore it with its key material (payload)`);
        const current = await this.currentVersion(this.dataSource.manager, key);
        const fingerprint = await this.sealer.fingerprint(instance.id, key.id, imported.material);
        if (current.fingerprint !== fingerprint) {
          throw new DomainError('INVALID_KEY_MATERIAL', `The payload is not the key material of key ${key.id}`);
        }
      } else if (imported) {
        throw new DomainError('INVALID_KEY_MATERIAL', `Key ${key.id} was generated by the service: restore it without a payload`);
      }
    } finally {
      zero(imported?.material);
    }
    const restored = await this.dataSource.transaction(async (manager) => {
      await updateKey(manager, key, rescheduled(key, changes), now);
      if (imported?.viaToken) await this.importTokens.consume(manager, instance);
      await this.outbox.record(manager, 'kms.key.restored', this.keyRef(key));
      return keyCollection([await this.view(manager, instance, key)]);
    });
    this.targets.keyChanged('kms.key.restored', this.keyRef(key));
    return restored;
  }

  /** Only a deleted key, 4 hours after its deletion: its material and metadata are gone for good. */
  async purge(caller: Caller, request: Req<'kms.api.key.purge'>): Promise<KmsWire.KeyCollection> {
    const { instance, key, view, materials } = await this.dataSource.transaction(async (manager) => {
      const { instance, key } = await this.load(manager, caller, request);
      requirePurgeable(key, this.clock.nowMs());
      const view = await this.view(manager, instance, key);
      const materials = await removeKeyRows(manager, key);
      await this.outbox.record(manager, 'kms.key.purged', this.keyRef(key));
      return { instance, key, view, materials };
    });
    this.targets.keyChanged('kms.key.purged', this.keyRef(key));
    await this.instances.destroyMaterials(instance, materials);
    return keyCollection([view]);
  }

  // ---- rotation ----

  /**
   * A new version becomes current; older versions still unwrap. Imported keys rotate to NEW key
   * material; standard keys do not rotate (KEY_ROOT_REQ_ERR). The next automatic rotation counts
   * from now.
   */
  async rotate(caller: Caller, request: Req<'kms.api.key.rotate'>): Promise<void> {
    const { instance, key } = await this.load(this.dataSource.manager, caller, request);
    requireRootKey(key, 'rotate');
    this.instances.requireInitialized(instance);
    requireActive(key, this.clock.nowMs());
    const imported = await this.importTokens.materialOf(instance, request);
    if (key.imported && !imported) {
      throw new DomainError('INVALID_KEY_MATERIAL', `Key ${key.id} was imported: rotate it with new key material (payload)`);
    }
    if (!key.imported && imported) {
      zero(imported.material);
      throw new DomainError('INVALID_KEY_MATERIAL', `Key ${key.id} was generated by the service: rotate it without a payload`);
    }
    if (imported) {
      const fingerprint = await this.sealer.fingerprint(instance.id, key.id, imported.material).catch((error: unknown) => {
        zero(imported.material);
        throw error;
      });
      const versions = await versionsOf(this.dataSource.manager, key);
      if (versions.some((version) => version.fingerprint === fingerprint)) {
        zero(imported.material);
        throw new DomainError('INVALID_KEY_MATERIAL', `The payload is key material key ${key.id} already had: rotate to new material`);
      }
    }
    const versionId = randomUUID();
    const { material, fingerprint } = await this.newVersion(instance, key.id, imported);
    try {
      await this.dataSource.transaction(async (manager) => {
        const fresh = await requireKey(manager, instance, key.id);
        requireActive(fresh, this.clock.nowMs());
        // Versions sort by creation time: a rotation within the same millisecond still comes after.
        const now = Math.max(this.clock.nowMs(), fresh.currentVersionAt + 1);
        await manager.insert(KeyVersionEntity, versionRowOf(fresh, { id: versionId, material, fingerprint }, now));
        await updateKey(manager, fresh, rescheduled(fresh, { currentVersionId: versionId, currentVersionAt: now, rotatedAt: now }), now);
        if (imported?.viaToken) await this.importTokens.consume(manager, instance);
        await this.outbox.record(manager, 'kms.key.rotated', { ...this.keyRef(fresh), keyVersionId: versionId });
      });
    } catch (error) {
      await this.instances.destroyMaterials(instance, [material]);
      throw error;
    }
    this.targets.keyChanged('kms.key.rotated', this.keyRef(key));
  }

  // ---- aliases ----

  async createAlias(caller: Caller, request: Req<'kms.api.key.alias.create'>) {
    return this.dataSource.transaction(async (manager) => {
      const { instance, key } = await this.load(manager, caller, request);
      requireNotDestroyed(key);
      const now = this.clock.nowMs();
      const existing = await manager.findOne(KeyAliasEntity, { where: { accountId: instance.accountId, instanceId: instance.id, alias: request.alias } });
      const row =
        existing && existing.keyId === key.id
          ? existing
          : await (async () => {
              const count = await manager.count(KeyAliasEntity, { where: { accountId: key.accountId, keyId: key.id } });
              if (count >= KmsWire.MAX_ALIASES_PER_KEY) throw conflict(`Key ${key.id} already has ${KmsWire.MAX_ALIASES_PER_KEY} aliases, the most a key can have`);
              return this.insertAlias(manager, instance, key, request.alias, caller, now);
            })();
      return {
        metadata: { collectionType: KmsWire.ALIAS_COLLECTION_TYPE, collectionTotal: 1 },
        resources: [{ keyId: key.id, alias: row.alias, createdBy: row.createdBy, creationDate: isoDate(row.createdAt) }],
      };
    });
  }

  async deleteAlias(caller: Caller, request: Req<'kms.api.key.alias.delete'>): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const { instance, key } = await this.load(manager, caller, request);
      const removed = await manager.delete(KeyAliasEntity, { accountId: instance.accountId, instanceId: instance.id, alias: request.alias, keyId: key.id });
      if (removed.affected !== 1) throw notFound(`Alias ${request.alias} of key ${key.id}`);
    });
  }

  // ---- policies ----

  async getPolicies(caller: Caller, request: Req<'kms.api.key.policy.get'>) {
    const { instance, key } = await this.load(this.dataSource.manager, caller, request);
    const rows = await this.dataSource.manager.find(KeyPolicyEntity, {
      where: { accountId: key.accountId, keyId: key.id, ...(request.policy ? { policyType: request.policy } : {}) },
      order: { policyType: 'DESC' },
    });
    return this.policyCollection(instance, key, rows);
  }

  async putPolicies(caller: Caller, request: Req<'kms.api.key.policy.put'>) {
    const wanted = request.resources.map((resource, index) => {
      const kinds = [resource.rotation ? 'rotation' : undefined, resource.dualAuthDelete ? 'dualAuthDelete' : undefined].filter(
        (kind): kind is 'rotation' | 'dualAuthDelete' => kind !== undefined,
      );
      if (kinds.length !== 1) throw validationFailed([{ field: `resources.${index}`, message: 'must set exactly one of rotation or dualAuthDelete' }]);
      const [kind] = kinds as ['rotation' | 'dualAuthDelete'];
      if (request.policy && request.policy !== kind) {
        throw validationFailed([{ field: `resources.${index}`, message: `the policy query parameter is ${request.policy}` }]);
      }
      return { kind, resource };
    });
    if (new Set(wanted.map((item) => item.kind)).size !== wanted.length) {
      throw validationFailed([{ field: 'resources', message: 'each policy type at most once' }]);
    }
    return this.dataSource.transaction(async (manager) => {
      const { instance, key } = await this.load(manager, caller, request);
      requireNotDestroyed(key);
      if (wanted.some((item) => item.kind === 'rotation')) requireRootKey(key, 'a rotation policy');
      const now = this.clock.nowMs();
      const changes: Partial<KeyEntity> = {};
      const rows: KeyPolicyEntity[] = [];
      for (const { kind, resource } of wanted) {
        if (kind === 'rotation' && resource.rotation) {
          changes.rotationEnabled = resource.rotation.enabled;
          changes.rotationIntervalMonth = resource.rotation.interval_month;
        }
        if (kind === 'dualAuthDelete' && resource.dualAuthDelete) {
          changes.dualAuthDelete = resource.dualAuthDelete.enabled;
          if (!resource.dualAuthDelete.enabled) Object.assign(changes, { setForDeletionBy: null, setForDeletionAt: null });
        }
        const existing = await manager.findOne(KeyPolicyEntity, { where: { accountId: key.accountId, keyId: key.id, policyType: kind } });
        const row = Object.assign(existing ?? new KeyPolicyEntity(), {
          keyId: key.id,
          policyType: kind,
          id: existing?.id ?? randomUUID(),
          accountId: key.accountId,
          instanceId: key.instanceId,
          createdAt: existing?.createdAt ?? now,
          createdBy: existing?.createdBy ?? caller.iamId,
          updatedAt: now,
          updatedBy: caller.iamId,
        });
        await manager.save(KeyPolicyEntity, row);
        rows.push(row);
      }
      await updateKey(manager, key, rescheduled(key, changes), now);
      return this.policyCollection(instance, key, rows);
    });
  }

  private policyCollection(instance: InstanceEntity, key: KeyEntity, rows: readonly KeyPolicyEntity[]) {
    return {
      metadata: { collectionType: KmsWire.POLICY_COLLECTION_TYPE, collectionTotal: rows.length },
      resources: rows.map((row) => policyJson(this.options.crnPrefix, instance, key, row)),
    };
  }

  // ---- helpers ----

  private async load(manager: EntityManager, caller: Caller, request: { instanceId: string; id: string }) {
    const instance = await requireInstance(manager, caller.accountId, request.instanceId);
    const key = await requireKey(manager, instance, request.id);
    return { instance, key };
  }

  private async view(manager: EntityManager, instance: InstanceEntity, key: KeyEntity, payload?: string): Promise<KmsWire.Key> {
    const aliases = await aliasesOf(manager, instance.accountId, [key.id]);
    return keyJson(this.options.crnPrefix, instance, key, aliases.get(key.id) ?? [], this.clock.nowMs(), payload);
  }

  private async currentVersion(manager: EntityManager, key: KeyEntity): Promise<KeyVersionEntity> {
    const version = await manager.findOne(KeyVersionEntity, { where: { accountId: key.accountId, keyId: key.id, id: key.currentVersionId } });
    if (!version) throw new Error(`kms: key ${key.id} has no row for its current version`);
    return version;
  }

  private keyRef(key: KeyEntity) {
    return { accountId: key.accountId, instanceId: key.instanceId, keyId: key.id };
  }
}

/**
 * The material of a standard key request (create, restore): none, or `payload` in clear (base64 of
 * 16 to 4096 bytes). Import tokens serve root keys only: their fields are refused.
 */
function standardMaterialOf(fields: MaterialFields): ImportedMaterial | undefined {
  if (fields.encryptedNonce !== undefined || fields.iv !== undefined || fields.encryptionAlgorithm !== undefined) {
    throw new DomainError('INVALID_KEY_MATERIAL', 'Import tokens are for root keys: a standard key takes its payload in clear (base64), without encryptedNonce or iv');
  }
  return fields.payload === undefined ? undefined : { material: decodeStandardPayload(fields.payload), viaToken: false };
}
