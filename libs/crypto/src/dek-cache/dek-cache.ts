import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { CloudEvent } from '@sealbox/contracts';
import { Clock, EVENT_SUBSCRIBER, rootLogger, type EventSubscriber } from '@sealbox/platform';
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

/** kms's answer for a DEK besides the DEK itself (not secret). */
export interface DekFacts {
  /** Present when kms rewrapped the DEK under a newer root key version. */
  readonly rewrapped?: { readonly ciphertext: string; readonly keyVersion: { readonly id: string } };
}

export interface CachedDek extends DekFacts {
  /** A copy of the DEK, owned (and to be zeroed) by the caller. */
  readonly dek: Buffer;
}

interface Entry extends DekFacts {
  readonly scope: DekScope;
  readonly dek: Buffer;
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

/** `data[name]` when it is a non-empty string; the event schemas are not ours to depend on. */
function stringField(data: unknown, name: string): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value: unknown = (data as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The bounded cache of unwrapped DEKs: at most `maxEntries`, each served for at most `ttlMs` and
 * `maxUses` opens. Each entry holds the DEK in a Buffer of its own, zeroed whenever the entry leaves
 * (expiry, use limit, eviction, replacement, purge, shutdown); readers get copies.
 *
 * Entries are keyed by a fingerprint of everything kms checked when it unwrapped (KMS instance, key,
 * calling service instance, aad, wrapped DEK), so the cache only repeats answers kms gave. Key and
 * instance events purge at once (see the *_PURGE_SUBJECTS); with no event subscriber in the process,
 * entries still end by TTL and use count.
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

  /** A copy of the cached DEK and kms's facts about it, counting one use; undefined on a miss. */
  get(fingerprint: string): CachedDek | undefined {
    this.sweep();
    const entry = this.entries.get(fingerprint);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.nowMs()) {
      this.evict(fingerprint, entry);
      return undefined;
    }
    entry.uses += 1;
    const copy = Buffer.alloc(entry.dek.length);
    entry.dek.copy(copy);
    if (entry.uses >= this.options.maxUses) this.evict(fingerprint, entry);
    return { dek: copy, ...(entry.rewrapped ? { rewrapped: entry.rewrapped } : {}) };
  }

  /** Call before asking kms; pass the ticket to `put`. */
  ticket(): FillTicket {
    return this.generation;
  }

  /**
   * Take ownership of `dek` (the caller passes a copy and must not use it again). It is zeroed at once
   * instead of stored when the cache is off or closed, or a purge happened since `ticket` was taken:
   * an unwrap that was in flight when its key was disabled must not refill the cache.
   */
  put(fingerprint: string, scope: DekScope, dek: Buffer, facts: DekFacts, ticket: FillTicket): void {
    if (this.closed || this.options.maxEntries === 0 || this.options.ttlMs === 0 || ticket !== this.generation) {
      dek.fill(0);
      return;
    }
    this.sweep();
    const previous = this.entries.get(fingerprint);
    if (previous) this.evict(fingerprint, previous);
    this.entries.set(fingerprint, {
      scope,
      dek,
      expiresAt: this.clock.nowMs() + this.options.ttlMs,
      uses: 0,
      ...(facts.rewrapped ? { rewrapped: facts.rewrapped } : {}),
    });
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
  sweep(): void {
    const now = this.clock.nowMs();
    for (const [fingerprint, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.evict(fingerprint, entry);
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
    for (const [fingerprint, entry] of this.entries) {
      if (!matches(entry.scope)) continue;
      this.evict(fingerprint, entry);
      dropped += 1;
    }
    return dropped;
  }

  private evict(fingerprint: string, entry: Entry): void {
    entry.dek.fill(0);
    if (this.entries.get(fingerprint) === entry) this.entries.delete(fingerprint);
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
