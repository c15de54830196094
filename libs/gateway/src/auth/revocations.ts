import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventTypes, type CloudEvent, type IamWire } from '@sealbox/contracts';
import { Clock, DomainError, EVENT_SUBSCRIBER, rootLogger, RpcClient, type EventSubscriber } from '@sealbox/platform';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../options.js';

/** The event iam records with every revocation. */
export const REVOCATION_EVENTS = 'events.iam.tokens.revoked';
/** After a failed first load, requests wait this long before asking iam again (they get 503 meanwhile). */
const RETRY_MIN_INTERVAL_MS = 1000;
const PAGE_SIZE = 1000;

const revokedEvent = EventTypes['iam.tokens.revoked'].data;

/** What the verified-token cache keeps of a token for this check. */
export interface RevocableToken {
  readonly iamId: string;
  readonly apikeyId: string | undefined;
  readonly chainId: string | undefined;
}

/**
 * The token revocations in force, as this gateway knows them, checked on every request after the
 * verified-token cache: three Map lookups on strings the cache already holds — no RPC, no allocation.
 *
 * How a gateway learns them without missing one:
 * - every revocation is an `iam.tokens.revoked` event, applied as it arrives (in process in
 *   standalone; a core NATS subscription in the distributed deployment, where it arrives well within
 *   a second);
 * - a core NATS subscription is at-most-once, so the set is also reconciled with iam's list
 *   (`iam.revocation.list`): before the first authenticated request is answered (until then requests
 *   wait, and get 503 if iam cannot answer), whenever the event subscription (re)starts — once it is in
 *   place and after every reconnect, the moments events can have been lost — and every
 *   `revocationReconcileMs` for a message dropped while connected.
 * Reconciling only adds: a revocation is never undone (its ids are never reused), and an event
 * arriving during a reconcile is kept. Entries are dropped once expired — iam sets that time past the
 * last expiry of any token they cover — so the set holds at most the revocations of one token lifetime.
 */
@Injectable()
export class RevocationList implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly byKind: Readonly<Record<IamWire.RevocationKind, Map<string, number>>> = {
    apikey: new Map(),
    identity: new Map(),
    chain: new Map(),
  };
  private isLoaded = false;
  private reconciling: Promise<void> | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribes: (() => void)[] = [];

  constructor(
    private readonly rpc: RpcClient,
    private readonly clock: Clock,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
    @Inject(EVENT_SUBSCRIBER) events: EventSubscriber | null,
  ) {
    if (events) {
      this.unsubscribes.push(events.subscribe(REVOCATION_EVENTS, (_subject, event) => this.applyEvent(event)));
      if (events.onResume) this.unsubscribes.push(events.onResume(() => this.reconcileInBackground('the event subscription (re)started')));
    }
  }

  onApplicationBootstrap(): void {
    if (this.options.revocationReconcileMs <= 0) return;
    this.timer = setInterval(() => this.reconcileInBackground('periodic'), this.options.revocationReconcileMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  /** Is the token revoked? O(1). */
  isRevoked(token: RevocableToken): boolean {
    const { apikey, identity, chain } = this.byKind;
    return (
      identity.has(token.iamId) ||
      (token.apikeyId !== undefined && apikey.has(token.apikeyId)) ||
      (token.chainId !== undefined && chain.has(token.chainId))
    );
  }

  /** Was the set loaded from iam at least once? (Checked before `ready()`, so a request awaits nothing once it was.) */
  get loaded(): boolean {
    return this.isLoaded;
  }

  /** Resolves once the set was loaded from iam at least once; SERVICE_UNAVAILABLE while it cannot be. */
  async ready(): Promise<void> {
    if (this.isLoaded) return;
    if (!this.reconciling && this.clock.nowMs() - this.failedAt < RETRY_MIN_INTERVAL_MS) throw notLoaded();
    try {
      await this.reconcile();
    } catch {
      throw notLoaded();
    }
  }

  /** Add every revocation iam lists (one call at a time; a call during one waits for it). */
  reconcile(): Promise<void> {
    this.reconciling ??= this.fetchAll().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  /** Entries in force (for tests and diagnostics). */
  get size(): number {
    return this.byKind.apikey.size + this.byKind.identity.size + this.byKind.chain.size;
  }

  private async fetchAll(): Promise<void> {
    try {
      let after: string | undefined;
      do {
        const page = await this.rpc.send('iam.revocation.list', { limit: PAGE_SIZE, ...(after !== undefined ? { after } : {}) });
        for (const revocation of page.revocations) this.add(revocation.kind, revocation.id, Date.parse(revocation.expires_at));
        after = page.next;
      } while (after !== undefined);
    } catch (error) {
      this.failedAt = this.clock.nowMs();
      throw error;
    }
    this.prune();
    this.isLoaded = true;
  }

  private reconcileInBackground(why: string): void {
    this.reconcile().catch((error: unknown) =>
      rootLogger().warn({ reason: error instanceof Error ? error.message : String(error), why }, 'token revocations: reconciling with iam failed; will retry'),
    );
  }

  private applyEvent(event: CloudEvent): void {
    const data = revokedEvent.safeParse(event.data);
    if (data.success) this.add(data.data.kind, data.data.id, Date.parse(data.data.expiresAt));
  }

  private add(kind: IamWire.RevocationKind, id: string, expiresAt: number): void {
    if (!(expiresAt > this.clock.nowMs())) return;
    const entries = this.byKind[kind];
    entries.set(id, Math.max(entries.get(id) ?? 0, expiresAt));
  }

  private prune(): void {
    const now = this.clock.nowMs();
    for (const entries of Object.values(this.byKind)) {
      for (const [id, expiresAt] of entries) if (expiresAt <= now) entries.delete(id);
    }
  }
}

const notLoaded = () => new DomainError('SERVICE_UNAVAILABLE', 'Token revocations could not be loaded from the iam service yet; retry');
