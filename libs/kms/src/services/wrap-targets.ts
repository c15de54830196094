import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { CloudEvent } from '@sealbox/contracts';
import type { InstanceContext, KmsProvider } from '@sealbox/kms-plugins';
import { Clock, dataSourceToken, EVENT_SUBSCRIBER, rootLogger, type EventSubscriber } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { KMS_STATE_MAX_AGE_MS } from '../domain/state-age.js';
import type { InstanceEntity, KeyEntity, KeyVersionEntity } from '../persistence/entities.js';
import { findInstance, findKey, isUuid, requireInstance, requireVersion, versionMaterialsOf } from '../persistence/kms-store.js';
import { KMS_OPTIONS, KMS_PROVIDERS, type KmsDomainOptions, type KmsProviders } from '../tokens.js';

/** The provider's context of an instance: its id and its stored provider state. */
export function instanceContextOf(instance: InstanceEntity): InstanceContext {
  return { instanceId: instance.id, state: JSON.parse(instance.providerState) as InstanceContext['state'] };
}

/** A key as wraps and unwraps see it: its instance, itself, its provider and its versions. */
export interface WrapTarget {
  readonly instance: InstanceEntity;
  /** Null when the instance has no such key (not cached: the next lookup reads again). */
  readonly key: KeyEntity | null;
  readonly provider: KmsProvider;
  readonly context: InstanceContext;
  /** A version of this key by id (null for any other id); the current one is always at hand. */
  version(id: string): Promise<KeyVersionEntity | null>;
}

/** What changed a key or an instance: the kms event names (the replica that made the change passes the same). */
export type KeyChange = 'kms.key.disabled' | 'kms.key.enabled' | 'kms.key.deleted' | 'kms.key.restored' | 'kms.key.purged' | 'kms.key.rotated';
export type InstanceChange = 'kms.instance.master-key-loaded' | 'kms.instance.master-key-zeroized' | 'kms.instance.deleted';

interface KeyScope {
  readonly accountId: string;
  readonly instanceId: string;
  readonly keyId: string;
}

interface Entry {
  readonly accountId: string;
  readonly instance: InstanceEntity;
  readonly key: KeyEntity;
  readonly provider: KmsProvider;
  readonly context: InstanceContext;
  /** Versions read so far (rows never change: a version's material is fixed until it is purged). */
  readonly versions: Map<string, KeyVersionEntity>;
  /** When the read of this state began. */
  readonly readAt: number;
  readonly generation: number;
}

/**
 * The state wraps and unwraps need (instance, root key, its versions), kept per replica (at most
 * `wrapStateEntries` keys, the oldest read going first) so a call costs no database read: each entry is read again once `KMS_STATE_MAX_AGE_MS` old, and dropped at
 * once by the kms events of its key or instance (from any replica) and by the replica that changes it
 * (`keyChanged` / `instanceChanged`, after the commit). So a key disabled, deleted or zeroized is
 * refused within that time on every replica even if its event were lost. A read that started before a
 * change is served to its own call but never kept. Keys named by alias are read every time.
 *
 * On a key disabled or deleted and on a master key zeroized or an instance deleted, the provider
 * releases what the HSM keeps of the key's versions (unwrapped session objects).
 */
@Injectable()
export class WrapTargets implements OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();
  private readonly reading = new Map<string, { readonly generation: number; readonly target: Promise<WrapTarget> }>();
  private readonly unsubscribers: Array<() => void> = [];
  private generation = 0;

  constructor(
    @Inject(dataSourceToken('kms')) private readonly dataSource: DataSource,
    @Inject(KMS_PROVIDERS) private readonly providers: KmsProviders,
    @Inject(KMS_OPTIONS) private readonly options: Pick<KmsDomainOptions, 'wrapStateEntries'>,
    private readonly clock: Clock,
    @Inject(EVENT_SUBSCRIBER) events: EventSubscriber | null,
  ) {
    if (!Number.isInteger(options.wrapStateEntries) || options.wrapStateEntries < 0) throw new Error('kms wrapStateEntries must be an integer >= 0');
    if (events) {
      this.unsubscribers.push(
        events.subscribe('events.kms.key.>', (subject, event) => this.onEvent(subject, event)),
        events.subscribe('events.kms.instance.>', (subject, event) => this.onEvent(subject, event)),
      );
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The instance `instanceId` of `accountId` (NOT_FOUND otherwise) and its key `keyIdOrAlias` (null
   * when it has none), as of at most `KMS_STATE_MAX_AGE_MS` ago.
   */
  async find(accountId: string, instanceId: string, keyIdOrAlias: string): Promise<WrapTarget> {
    if (!isUuid(keyIdOrAlias)) return this.read(accountId, instanceId, keyIdOrAlias);
    const id = entryId({ accountId, instanceId, keyId: keyIdOrAlias.toLowerCase() });
    const entry = this.entries.get(id);
    if (entry && this.clock.nowMs() - entry.readAt < KMS_STATE_MAX_AGE_MS) return this.targetOf(entry);
    const reading = this.reading.get(id);
    if (reading && reading.generation === this.generation) return reading.target;
    const flight = { generation: this.generation, target: this.read(accountId, instanceId, keyIdOrAlias, id) };
    this.reading.set(id, flight);
    const settle = () => {
      if (this.reading.get(id) === flight) this.reading.delete(id);
    };
    flight.target.then(settle, settle);
    return flight.target;
  }

  /** A key changed (state, versions) through this replica; call after the change is committed. */
  keyChanged(change: KeyChange, scope: KeyScope): void {
    const entry = this.entries.get(entryId(scope));
    this.forget((kept) => kept.accountId === scope.accountId && kept.instance.id === scope.instanceId && kept.key.id === scope.keyId);
    if (change === 'kms.key.disabled' || change === 'kms.key.deleted') this.inBackground(change, () => this.releaseKey(scope, entry));
  }

  /** An instance changed (master key, deletion) through this replica; call after the change is committed. */
  instanceChanged(change: InstanceChange, scope: { readonly accountId: string; readonly instanceId: string }): void {
    const entries = [...this.entries.values()].filter((entry) => entry.accountId === scope.accountId && entry.instance.id === scope.instanceId);
    this.forget((entry) => entry.accountId === scope.accountId && entry.instance.id === scope.instanceId);
    if (change !== 'kms.instance.master-key-loaded') this.inBackground(change, () => this.releaseInstance(scope, entries));
  }

  /** Drop every entry (and every read in flight: none of them is kept). */
  clear(): void {
    this.forget(() => true);
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.clear();
  }

  private forget(matches: (entry: Entry) => boolean): void {
    this.generation += 1;
    this.reading.clear();
    for (const [id, entry] of this.entries) if (matches(entry)) this.entries.delete(id);
  }

  /** Read instance, key and current version; kept under `id` unless a change came meanwhile. */
  private async read(accountId: string, instanceId: string, keyIdOrAlias: string, id?: string): Promise<WrapTarget> {
    const generation = this.generation;
    const readAt = this.clock.nowMs();
    const manager = this.dataSource.manager;
    const instance = await requireInstance(manager, accountId, instanceId);
    const provider = this.providers.get(instance.provider);
    const context = instanceContextOf(instance);
    const key = await findKey(manager, instance, keyIdOrAlias);
    if (!key) return { instance, key: null, provider, context, version: async () => null };
    const current = await requireVersion(manager, key, key.currentVersionId);
    if (!current) throw new Error(`kms: key ${key.id} has no row for its current version`);
    const entry: Entry = { accountId, instance, key, provider, context, versions: new Map([[current.id, current]]), readAt, generation };
    if (id !== undefined && generation === this.generation && this.options.wrapStateEntries > 0) {
      this.entries.delete(id);
      this.entries.set(id, entry);
      for (const [oldest] of this.entries) {
        if (this.entries.size <= this.options.wrapStateEntries) break;
        this.entries.delete(oldest);
      }
    }
    return this.targetOf(entry);
  }

  private targetOf(entry: Entry): WrapTarget {
    const { instance, key, provider, context, versions } = entry;
    return {
      instance,
      key,
      provider,
      context,
      version: async (versionId) => {
        const known = versions.get(versionId);
        if (known) return known;
        const read = await requireVersion(this.dataSource.manager, key, versionId);
        if (read && entry.generation === this.generation) versions.set(versionId, read);
        return read;
      },
    };
  }

  private onEvent(subject: string, event: CloudEvent): void {
    const name = subject.replace(/^events\./, '');
    const accountId = stringField(event.data, 'accountId');
    const instanceId = stringField(event.data, 'instanceId');
    const keyId = stringField(event.data, 'keyId');
    if (isKeyChange(name) && accountId && instanceId && keyId) this.keyChanged(name, { accountId, instanceId, keyId });
    else if (isInstanceChange(name) && accountId && instanceId) this.instanceChanged(name, { accountId, instanceId });
    else if (isKeyChange(name) || isInstanceChange(name)) {
      // A change that names nothing to match: dropping everything is the safe reading.
      this.clear();
      rootLogger().warn({ subject }, 'kms: a key or instance event without accountId/instanceId/keyId emptied the wrap state');
    }
  }

  /** The provider releases what the HSM keeps of the key's versions (stored, and any the entry read). */
  private async releaseKey(scope: KeyScope, entry: Entry | undefined): Promise<void> {
    const manager = this.dataSource.manager;
    const instance = (await findInstance(manager, scope.accountId, scope.instanceId)) ?? entry?.instance;
    if (!instance) return;
    const materials = new Set(await versionMaterialsOf(manager, scope.accountId, scope.keyId));
    for (const version of entry?.versions.values() ?? []) materials.add(version.material);
    if (materials.size === 0) return;
    await this.providers.get(instance.provider).release(instanceContextOf(instance), [...materials]);
  }

  /** The provider releases everything of the instance it can tell apart, and the versions entries had read. */
  private async releaseInstance(scope: { readonly accountId: string; readonly instanceId: string }, entries: readonly Entry[]): Promise<void> {
    const instance = (await findInstance(this.dataSource.manager, scope.accountId, scope.instanceId)) ?? entries[0]?.instance;
    if (!instance) return;
    const provider = this.providers.get(instance.provider);
    const context = instanceContextOf(instance);
    await provider.release(context);
    const materials = entries.flatMap((entry) => [...entry.versions.values()].map((version) => version.material));
    if (materials.length > 0) await provider.release(context, materials);
  }

  private inBackground(change: string, work: () => Promise<void>): void {
    work().catch((error: unknown) => {
      rootLogger().warn({ err: error, change }, 'kms: could not release what the HSM keeps of a changed key; it expires by itself');
    });
  }
}

function entryId(scope: KeyScope): string {
  return `${scope.accountId}\u0000${scope.instanceId}\u0000${scope.keyId}`;
}

const KEY_CHANGES: readonly string[] = ['kms.key.disabled', 'kms.key.enabled', 'kms.key.deleted', 'kms.key.restored', 'kms.key.purged', 'kms.key.rotated'];
const INSTANCE_CHANGES: readonly string[] = ['kms.instance.master-key-loaded', 'kms.instance.master-key-zeroized', 'kms.instance.deleted'];

function isKeyChange(name: string): name is KeyChange {
  return KEY_CHANGES.includes(name);
}

function isInstanceChange(name: string): name is InstanceChange {
  return INSTANCE_CHANGES.includes(name);
}

/** `data[name]` when it is a non-empty string; event payloads are read defensively. */
function stringField(data: unknown, name: string): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value: unknown = (data as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
