import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { IamWire, RequestOf } from '@sealbox/contracts';
import { Clock, DomainError, EVENT_SUBSCRIBER, RpcClient, TtlCache, type EventSubscriber } from '@sealbox/platform';
import { KMS_STATE_MAX_AGE_MS } from '../domain/state-age.js';

/** How long an authorization decision is reused; any policy event drops every cached decision at once. */
export const AUTHORIZATION_CACHE_TTL_MS = KMS_STATE_MAX_AGE_MS;
/** Most decisions held (distinct source instance, key pairs). */
export const AUTHORIZATION_CACHE_ENTRIES = 10_000;

export interface AuthorizationSource {
  readonly accountId: string;
  /** e.g. `secrets-manager`. */
  readonly serviceName: string;
  readonly serviceInstance: string;
}

/** The one iam subject kms asks (the platform RpcClient in the module). */
export interface AuthorizationChecks {
  send(subject: 'iam.authorization.check', request: RequestOf<'iam.authorization.check'>): Promise<IamWire.Decision>;
}

/**
 * Service-to-service authorization, checked on EVERY wrap and unwrap that kms performs for another
 * service: an IAM authorization policy must let the calling instance use the key's instance (or the
 * key) with role Reader. A decision is reused for at most `AUTHORIZATION_CACHE_TTL_MS` (so a revoked
 * authorization is refused within that time on every replica, events or not), and every cached
 * decision is dropped the moment a policy event arrives. Concurrent checks of the same pair share one
 * request to iam; a decision asked before a policy event is not cached after it.
 */
@Injectable()
export class ServiceAuthorizations implements OnModuleDestroy {
  private readonly cache: TtlCache<IamWire.Decision>;
  private readonly inFlight = new Map<string, { readonly generation: number; readonly decision: Promise<IamWire.Decision> }>();
  private readonly unsubscribe: (() => void) | undefined;
  private generation = 0;

  constructor(
    @Inject(RpcClient) private readonly iam: AuthorizationChecks,
    clock: Clock,
    @Inject(EVENT_SUBSCRIBER) events: EventSubscriber | null,
  ) {
    this.cache = new TtlCache(clock, AUTHORIZATION_CACHE_TTL_MS, AUTHORIZATION_CACHE_ENTRIES);
    this.unsubscribe = events?.subscribe('events.iam.policy.>', () => this.clear());
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
    this.generation += 1;
    this.cache.clear();
    this.inFlight.clear();
  }

  private decide(source: AuthorizationSource, target: IamWire.ResourceAttributes): Promise<IamWire.Decision> {
    const key = JSON.stringify([source, target]);
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    const joined = this.inFlight.get(key);
    if (joined && joined.generation === this.generation) return joined.decision;
    const generation = this.generation;
    const decision = this.iam.send('iam.authorization.check', { source, target, role: 'Reader' });
    const flight = { generation, decision };
    this.inFlight.set(key, flight);
    const settle = () => {
      if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
    };
    decision.then((answer) => {
      settle();
      if (generation === this.generation) this.cache.set(key, answer);
    }, settle);
    return decision;
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.clear();
  }
}
