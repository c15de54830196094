import type { Clock } from '@sealbox/platform';

export interface RateLimit {
  /** Sustained requests per second. 0 turns the limit off. */
  readonly perSecond: number;
  /** Bucket size: how many requests may come at once. */
  readonly burst: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds until a request would be allowed (for Retry-After). */
  readonly retryAfterSeconds: number;
}

/**
 * Token buckets per key (an IP address, an API key's identity). Buckets refill continuously; the map
 * is bounded, dropping the least recently used bucket (a dropped bucket restarts full, which only
 * ever errs towards allowing).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: RateLimit,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string): RateDecision {
    if (this.limit.perSecond <= 0) return { allowed: true, retryAfterSeconds: 0 };
    const now = this.clock.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, updatedAt: now };
    this.buckets.delete(key);
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.limit.perSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.perSecond)) };
  }
}
