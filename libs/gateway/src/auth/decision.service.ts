import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Action, IamWire } from '@sealbox/contracts';
import { Clock, EVENT_SUBSCRIBER, EventClearedCache, RpcClient, type Caller, type EventSubscriber } from '@sealbox/platform';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../options.js';


/**
 * `iam.authorize` with a short-lived, bounded cache. Any policy event clears it at once, so a revoked
 * permission stops working as soon as the event arrives, and within the TTL at worst; so does a
 * (re)start of the event subscription, when policy events may have been missed.
 */
@Injectable()
export class DecisionService implements OnModuleDestroy {
  private readonly cache: EventClearedCache<IamWire.Decision>;
  private readonly stopClearingOnResume: (() => void) | undefined;

  constructor(
    private readonly rpc: RpcClient,
    clock: Clock,
    @Inject(GATEWAY_OPTIONS) options: GatewayOptions,
    @Inject(EVENT_SUBSCRIBER) events: EventSubscriber | null,
  ) {
    this.cache = new EventClearedCache(clock, options.decisionCacheTtlMs, options.decisionCacheSize, events, ['events.iam.policy.>']);
    this.stopClearingOnResume = events?.onResume?.(() => this.cache.clear());
  }

  async decide(caller: Caller, action: Action, resource: IamWire.ResourceAttributes): Promise<IamWire.Decision> {
    const key = JSON.stringify([caller.iamId, caller.accountId, action, resource]);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const decision = await this.rpc.send(
      'iam.authorize',
      { subject: { iamId: caller.iamId, accountId: caller.accountId }, action, resource },
      { caller },
    );
    this.cache.set(key, decision);
    return decision;
  }

  clear(): void {
    this.cache.clear();
  }

  onModuleDestroy(): void {
    this.cache.dispose();
    this.stopClearingOnResume?.();
  }
}
