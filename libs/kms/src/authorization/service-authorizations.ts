import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { IamWire } from '@sealbox/contracts';
import { Clock, DomainError, EVENT_SUBSCRIBER, EventClearedCache, RpcClient, type EventSubscriber } from '@sealbox/platform';

/** How long an authorization decision is reused; any policy event drops every cached decision at once. */
export const AUTHORIZATION_CACHE_TTL_MS = 5000;

export interface AuthorizationSource {
  readonly accountId: string;
  /** e.g. `secrets-manager`. */
  readonly serviceName: string;
  readonly serviceInstance: string;
}

/**
 * Service-to-service authorization, checked on EVERY wrap and unwrap that kms performs for another
 * service: an IAM authorization policy must let the calling instance use the key's instance (or the
 * key) with role Reader. Decisions are cached at most 5 s and dropped when a policy event arrives.
 */
@Injectable()
export class ServiceAuthorizations implements OnModuleDestroy {
  private readonly cache: EventClearedCache<IamWire.Decision>;

  constructor(
    private readonly rpc: RpcClient,
    clock: Clock,
    @Inject(EVENT_SUBSCRIBER) events: EventSubscriber | null,
  ) {
    this.cache = new EventClearedCache(clock, AUTHORIZATION_CACHE_TTL_MS, 10_000, events, ['events.iam.policy.>']);
  }

  /** Resolves when allowed; FORBIDDEN naming the missing authorization otherwise. */
  async require(source: AuthorizationSource, target: IamWire.ResourceAttributes): Promise<void> {
    const decision = await this.decide(source, target);
    if (decision.allowed) return;
    const what = target.resource ? `key ${target.resource} of ${target.serviceName} instance ${target.serviceInstance}` : `${target.serviceName} instance ${target.serviceInstance}`;
    throw new DomainError(
      'FORBIDDEN',
      `No authorization lets ${source.serviceName} instance ${source.serviceInstance} use ${what}: ` +
        `create an authorization policy (source ${source.serviceName}, target ${target.serviceName} ${target.serviceInstance}, role Reader)`,
    );
  }

  /** Drop every cached decision (also done by any `iam.policy.*` event). */
  clear(): void {
    this.cache.clear();
  }

  private async decide(source: AuthorizationSource, target: IamWire.ResourceAttributes): Promise<IamWire.Decision> {
    const key = JSON.stringify([source, target]);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const decision = await this.rpc.send('iam.authorization.check', { source, target, role: 'Reader' });
    this.cache.set(key, decision);
    return decision;
  }

  onModuleDestroy(): void {
    this.cache.dispose();
  }
}
