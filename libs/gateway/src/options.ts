import type { RateLimit } from './auth/rate-limiter.js';

export const GATEWAY_OPTIONS = Symbol('sealbox:gateway:options');

export interface GatewayOptions {
  readonly rateLimitPerIp: RateLimit;
  readonly rateLimitPerIdentity: RateLimit;
  readonly decisionCacheTtlMs: number;
  readonly decisionCacheSize: number;
  /** How often the revocation set is reconciled with iam besides events and reconnects; 0 = only then. */
  readonly revocationReconcileMs: number;
}

export const DEFAULT_GATEWAY_OPTIONS: GatewayOptions = {
  rateLimitPerIp: { perSecond: 200, burst: 400 },
  rateLimitPerIdentity: { perSecond: 100, burst: 200 },
  decisionCacheTtlMs: 5000,
  decisionCacheSize: 10_000,
  revocationReconcileMs: 10_000,
};
