import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { CloudEvent } from '@sealbox/contracts';
import { Clock, EVENT_SUBSCRIBER, rootLogger, type EventSubscriber } from '@sealbox/platform';
import type { WrappedDek } from '../envelope/kms-client.js';
import { DEK_CACHE_OPTIONS } from '../tokens.js';

/** Upper bound of the TTL: an unwrapped DEK never outlives 5 minutes in memory. */
export const MAX_DEK_CACHE_TTL_MS = 300_000;

export interface DekCacheOptions {
  /** Most entries held; the oldest goes first when full. 0 turns the cache off. */
  readonly maxEntries: number;
  /** How long an entry is served after kms unwrapped it (at most 5 min). */
  readonly ttlMs: number;
  /** How many opens an entry serves before it is dropped (the next open asks kms again). */
  readonly maxUses: number;
}

export const DEFAULT_DEK_CACHE_OPTIONS: DekCacheOptions = { maxEntries: 1000, ttlMs: 60_000, maxUses: 100 };

/** What an entry was unwrapped for; events purge by these. */
export interface DekScope {
  /** KMS instance of the root key. */
  readonly kmsInstanceId: string;
  readonly keyId: string;
  /** The service instance kms authorized (e.g. the Secrets Manager instance). */
  readonly serviceInstance: string;
}

/**
 * What an open needs of an unwrapped DEK, kept instead of the DEK itself: K_enc, and the commitment
 * the DEK yields for the entry's context (HMAC-SHA256(K_commit, context); the cache key names the
 * context, so it is fixed per entry). A hit compares the envelope's commitment with it in constant
 * time and decrypts with K_enc: the DEK, K_commit and HKDF are not needed again.
 */
export interface DekKeys {
  readonly encryptionKey: Buffer;
  readonly commitment: Buffer;
}

/** An entry as a reader sees it: the keys, and (not secret) the context they serve and kms's rewrap. */
export interface CachedDek extends DekKeys {
  /** The canonical context the commitment was computed for (the binding's context, encoded). */
  readonly context: Buffer;
  /** When kms rewrapped the DEK under a newer root key version: that wrapping. */
  readonly rewrapped?: WrappedDek;
}

/**
 * Whom kms unwrapped a DEK for, besides the wrapped DEK itself: the key's account, KMS instance and
 * key, the calling service's account, name and instance, and the envelope context (instance CRN,
 * secret id, version id), in that order.
 */
export type DekBinding = readonly string[];

interface Entry {
  readonly binding: DekBinding;
  readonly scope: DekScope;
  readonly dek: CachedDek;
  readonly expiresAt: number;
  uses: number;
}

/** Taken before asking kms; a fill made with a ticket older than the last purge is dropped. */
export type FillTicket = number;

/** Subjects whose events drop every DEK of one key (`data.instanceId` = KMS instance, `data.keyId`). */
export const KEY_PURGE_SUBJECTS = [
  'events.kms.key.disabled',
  'events.kms.key.deleted',
  'events.kms.key.rotated',
  'events.kms.key.purged',
] as const;

/**
 * Subjects whose events drop every DEK of one instance (`data.instanceId`): a KMS instance (its keys),
 * or the service instance the DEKs were unwrapped for (a Secrets Manager instance being deleted).
 */
export const INSTANCE_PURGE_SUBJECTS = [
  'events.kms.instance.master-key-zeroized',
  'events.kms.instance.deleted',
  'events.lifecycle.instance.deleted',
] as const;

/** An authorization policy changed: kms may now refuse a source it allowed, so nothing cached is kept. */
export const POLICY_PURGE_SUBJECTS = ['events.iam.policy.updated', 'events.iam.policy.deleted'] as const;

/** Zero an entry's Buffers (the commitment is not secret, but goes with its key). */
function zeroKeys(dek: DekKeys): void {
  dek.encryptionKey.fill(0);
  dek.commitment.fill(0);
}

function sameBinding(a: DekBinding, b: DekBinding): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/** `data[name]` when it is a non-empty string; the event schemas are not ours to depend on. */
function stringField(data: unknown, name: string): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value: unknown = (data as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The bounded cache of unwrapped DEKs: at most `maxEntries`, each served for at most `ttlMs` and
 * `maxUses` opens. An entry holds what opens need of its DEK (`DekKeys`: K_enc and the commitment, in
 * Buffers of its own), zeroed whenever the entry leaves (expiry, use limit, eviction, replacement,
 * purge, shutdown); the DEK itself is not kept. Readers borrow an entry for one synchronous call
 * (`use`), so no copy of key material is made per open and none outlives the entry.
 *
 * An entry is found by its wrapped DEK and serves only the exact binding kms checked when it
 * unwrapped it (KMS instance, key, calling service, the envelope context the aad binds: `DekBinding`,
 * compared string by string), so the cache only repeats answers kms gave. Key and instance events purge at once (see the *_PURGE_SUBJECTS); with no event
 * subscriber in the process, entries still end by TTL and use count.
 */
@Injectable()
export class DekCache implements OnModuleInit, OnModuleDestroy {
  /** Insertion order is expiry order (one TTL for all), so expired entries sit at the front. */
  private readonly entries = new Map<string, Entry>();
  private readonly unsubscribers: Array<() => void> = [];
  private generation = 0;
  private closed = false;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DEK_CACHE_OPTIONS) private readonly options: DekCacheOptions,
    private readonly clock: Clock,
    @Inject(EVENT_SUBSCRIBER) events: EventSubscriber | null,
  ) {
    const { maxEntries, ttlMs, maxUses } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new Error('DEK cache maxEntries must be an integer >= 0');
    if (!Number.isInteger(ttlMs) || ttlMs < 0 || ttlMs > MAX_DEK_CACHE_TTL_MS) {
      throw new Error(`DEK cache ttlMs must be an integer in 0..${MAX_DEK_CACHE_TTL_MS}`);
    }
    if (!Number.isInteger(maxUses) || maxUses < 1) throw new Error('DEK cache maxUses must be an integer >= 1');
    if (events) {
      for (const subject of KEY_PURGE_SUBJECTS) this.unsubscribers.push(events.subscribe(subject, (s, e) => this.onKeyEvent(s, e)));
      for (const subject of INSTANCE_PURGE_SUBJECTS) {
        this.unsubscribers.push(events.subscribe(subject, (s, e) => this.onInstanceEvent(s, e)));
      }
      for (const subject of POLICY_PURGE_SUBJECTS) this.unsubscribers.push(events.subscribe(subject, (_s, e) => this.onPolicyEvent(e)));
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Run `read` on the entry of `wrappedDek` unwrapped for `binding`, counting one use, and return
   * what it returns; undefined on a miss. The entry's Buffers are only valid during `read`
   * (synchronous): keep nothing of them.
   */
  use<T>(wrappedDek: string, binding: DekBinding, read: (entry: CachedDek) => T): T | undefined {
    const now = this.clock.nowMs();
    this.sweep(now);
    const entry = this.entries.get(wrappedDek);
    if (!entry || !sameBinding(entry.binding, binding)) return undefined;
    entry.uses += 1;
    try {
      return read(entry.dek);
    } finally {
      if (entry.uses >= this.options.maxUses) this.evict(wrappedDek, entry);
    }
  }

  /** Call before asking kms; pass the ticket to `put`. */
  ticket(): FillTicket {
    return this.generation;
  }

  /**
   * Take ownership of `dek`'s Buffers (the caller must not use them again), for opens of `wrappedDek`
   * by `binding`; an entry of the same wrapped DEK is replaced. They are zeroed at once instead of
   * stored when the cache is off or closed, or a purge happened since `ticket` was taken: an unwrap
   * that was in flight when its key was disabled must not refill the cache.
   */
  put(wrappedDek: string, binding: DekBinding, scope: DekScope, dek: CachedDek, ticket: FillTicket): void {
    if (this.closed || this.options.maxEntries === 0 || this.options.ttlMs === 0 || ticket !== this.generation) {
      zeroKeys(dek);
      return;
    }
    const now = this.clock.nowMs();
    this.sweep(now);
    const previous = this.entries.get(wrappedDek);
    if (previous) this.evict(wrappedDek, previous);
    this.entries.set(wrappedDek, { binding: [...binding], scope, dek, expiresAt: now + this.options.ttlMs, uses: 0 });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      this.evict(...oldest.value);
    }
  }

  /** Every entry of one root key. */
  purgeKey(kmsInstanceId: string, keyId: string): number {
    return this.purge((scope) => scope.kmsInstanceId === kmsInstanceId && scope.keyId === keyId);
  }

  /** Every entry of a key id in any KMS instance (an event that names no instance). */
  purgeKeyId(keyId: string): number {
    return this.purge((scope) => scope.keyId === keyId);
  }

  /** Every entry whose KMS instance, or whose calling service instance, is `instanceId`. */
  purgeInstance(instanceId: string): number {
    return this.purge((scope) => scope.kmsInstanceId === instanceId || scope.serviceInstance === instanceId);
  }

  /** Every entry. */
  clear(): number {
    return this.purge(() => true);
  }

  /** Drop the expired entries at the front. */
  sweep(now = this.clock.nowMs()): void {
    for (const [cacheKey, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.evict(cacheKey, entry);
    }
  }

  onModuleInit(): void {
    // Expired entries are dropped on every access; this also zeroes them in an idle process.
    const period = Math.max(1000, Math.min(this.options.ttlMs, 10_000));
    this.sweeper = setInterval(() => this.sweep(), period);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    this.close();
  }

  /** Stop listening, stop sweeping, zero every entry and store nothing more. */
  close(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.clear();
  }

  private purge(matches: (scope: DekScope) => boolean): number {
    this.generation += 1;
    let dropped = 0;
    for (const [cacheKey, entry] of this.entries) {
      if (!matches(entry.scope)) continue;
      this.evict(cacheKey, entry);
      dropped += 1;
    }
    return dropped;
  }

  private evict(cacheKey: string, entry: Entry): void {
    zeroKeys(entry.dek);
    if (this.entries.get(cacheKey) === entry) this.entries.delete(cacheKey);
  }

  private onKeyEvent(subject: string, event: CloudEvent): void {
    const instanceId = stringField(event.data, 'instanceId');
    const keyId = stringField(event.data, 'keyId');
    if (instanceId && keyId) this.purgeKey(instanceId, keyId);
    else if (keyId) this.purgeKeyId(keyId);
    else if (instanceId) this.purgeInstance(instanceId);
    else this.purgeAllFor(subject);
  }

  private onInstanceEvent(subject: string, event: CloudEvent): void {
    const instanceId = stringField(event.data, 'instanceId');
    if (instanceId) this.purgeInstance(instanceId);
    else this.purgeAllFor(subject);
  }

  private onPolicyEvent(event: CloudEvent): void {
    // Access policies do not concern kms's service-to-service check; anything else might.
    if (stringField(event.data, 'type') !== 'access') this.clear();
  }

  /** An event that names nothing we can match: dropping everything is the safe reading. */
  private purgeAllFor(subject: string): void {
    const dropped = this.clear();
    rootLogger().warn({ subject, dropped }, 'a key event without instanceId/keyId emptied the DEK cache');
  }
}
