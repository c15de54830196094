import { Clock, isUniqueViolation } from '@sealbox/platform';
import { LessThanOrEqual, type DataSource, type Repository } from 'typeorm';
import { IdempotencyKeyEntity } from './idempotency.entity.js';

/** How long a key and the response of its first request are kept (the IETF draft suggests at least 24 hours). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a claim outlives its request's deadline: the time for the answer of a commit made just
 * before the deadline to reach the gateway and be stored. A service does not commit after the
 * deadline (it checks just before COMMIT), so past the lease the first request can no longer
 * succeed and a retry runs again: after a gateway crash, its keys are free within the deadline.
 */
export const LEASE_GRACE_MS = 250;

/** The response of a key's first request, replayed to its retries. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type Claim =
  /** The key is new (or expired): this request runs, then `complete` or `release` (with `leaseUntil`, which names this claim). */
  | { readonly kind: 'claimed'; readonly leaseUntil: number }
  /** The first request with this key finished: answer what it answered. */
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  /** The first request with this key is still running. */
  | { readonly kind: 'in-use' }
  /** The key was first sent with another request. */
  | { readonly kind: 'reused' };

/**
 * Idempotency-Keys of the gateway in its own database (PostgreSQL when distributed, so every gateway
 * replica sees the same keys; SQLite in standalone). Claims rely on the primary key: of two requests
 * racing with one key, one inserts and the other sees its row.
 */
export class IdempotencyStore {
  private readonly keys: Repository<IdempotencyKeyEntity>;

  constructor(
    dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    this.keys = dataSource.getRepository(IdempotencyKeyEntity);
  }

  /** Claim a key for a request that can succeed for `leaseMs` more (its deadline, and the grace). */
  async claim(scope: string, key: string, fingerprint: string, leaseMs: number): Promise<Claim> {
    const now = this.clock.nowMs();
    const leaseUntil = now + leaseMs;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.keys.insert({
          scope,
          key,
          fingerprint,
          state: 'pending',
          leaseUntil,
          expiresAt: now + IDEMPOTENCY_KEY_TTL_MS,
          status: null,
          headers: null,
          body: null,
        });
        return { kind: 'claimed', leaseUntil };
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      const existing = await this.keys.findOneBy({ scope, key });
      if (!existing) continue; // expired and removed in between: claim again
      const stale = existing.expiresAt <= now || (existing.state === 'pending' && existing.leaseUntil <= now);
      if (stale) {
        // An expired key, or the claim of a request that never finished (its gateway stopped): start over.
        await this.keys.delete({ scope, key, expiresAt: existing.expiresAt, leaseUntil: existing.leaseUntil });
        continue;
      }
      if (existing.fingerprint !== fingerprint) return { kind: 'reused' };
      if (existing.state === 'pending' || existing.status === null) return { kind: 'in-use' };
      return {
        kind: 'replay',
        response: { status: existing.status, headers: JSON.parse(existing.headers ?? '{}') as Record<string, string>, body: existing.body ?? '' },
      };
    }
    return { kind: 'in-use' };
  }

  /**
   * Remember what the claimed request answered. Only this request's claim (`leaseUntil` names it):
   * a claim taken over after the lease belongs to a retry that runs on its own.
   */
  async complete(scope: string, key: string, leaseUntil: number, response: StoredResponse): Promise<void> {
    await this.keys.update(
      { scope, key, state: 'pending', leaseUntil },
      { state: 'done', status: response.status, headers: JSON.stringify(response.headers), body: response.body },
    );
  }

  /** Forget a claim whose request did not succeed: a retry runs it again. */
  async release(scope: string, key: string, leaseUntil: number): Promise<void> {
    await this.keys.delete({ scope, key, state: 'pending', leaseUntil });
  }

  /** Remove expired keys; how many. */
  async purgeExpired(): Promise<number> {
    const result = await this.keys.delete({ expiresAt: LessThanOrEqual(this.clock.nowMs()) });
    return result.affected ?? 0;
  }
}
