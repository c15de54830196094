import { Injectable } from '@nestjs/common';
import { IamWire } from '@sealbox/contracts';
import { Clock, DomainError, peekJwtHeader, publicKeyFromJwk, RpcClient, TtlCache, verifyJwt, type Caller, type JwtVerifyKey } from '@sealbox/platform';
import { createHash } from 'node:crypto';
import { RevocationList, type RevocableToken } from './revocations.js';

const REFETCH_MIN_INTERVAL_MS = 1000;
const REFRESH_INTERVAL_MS = 60_000;
/** A verified token is remembered this long at most (and never past its `exp`). */
const VERIFIED_TTL_MS = 60_000;

const unauthorized = (reason: string) => new DomainError('UNAUTHORIZED', reason);

/** A verified token as the cache keeps it: who, until when, by which key, and what a revocation can name. */
interface VerifiedToken extends RevocableToken {
  readonly caller: Caller;
  readonly expMs: number;
  readonly kid: string;
}

/**
 * Verifies access tokens locally against the iam service's JWKS: no NATS hop per request. The key set
 * is refreshed every minute (so retired keys stop verifying) and at once on an unknown `kid` (at most
 * once a second, so garbage tokens cannot make the gateway hammer iam). Every request, a remembered
 * token included, is then checked against the revocations (API key, identity, refresh chain).
 */
@Injectable()
export class TokenVerifier {
  private keys = new Map<string, JwtVerifyKey>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  /** sha256(token) → caller and expiry: the signature check is the costliest step of a request. */
  private readonly verified: TtlCache<VerifiedToken>;

  constructor(
    private readonly rpc: RpcClient,
    private readonly clock: Clock,
    private readonly revocations: RevocationList,
  ) {
    this.verified = new TtlCache(clock, VERIFIED_TTL_MS, 10_000);
  }

  async verify(authorization: string | undefined): Promise<Caller> {
    if (!authorization) throw unauthorized('Authentication required: send Authorization: Bearer <access token>');
    const match = /^Bearer\s+([A-Za-z0-9_.-]+)$/i.exec(authorization.trim());
    if (!match?.[1]) throw unauthorized('The Authorization header must be a Bearer access token');
    const token = match[1];
    if (!this.revocations.loaded) await this.revocations.ready();
    const now = this.clock.nowMs();
    if (now - this.fetchedAt > REFRESH_INTERVAL_MS) await this.refresh();
    const digest = createHash('sha256').update(token).digest('hex');
    const known = this.verified.get(digest);
    // Reused only while unexpired and while its signing key is still published (the hot path: no decoding).
    if (known && known.expMs > now && this.keys.has(known.kid)) return this.unlessRevoked(known);
    const { kid } = peekJwtHeader(token);
    let key = this.keys.get(kid);
    if (!key && now - this.fetchedAt >= REFETCH_MIN_INTERVAL_MS) {
      await this.refresh();
      key = this.keys.get(kid);
    }
    if (!key) throw unauthorized('The access token is not valid: unknown signing key');
    const claims = IamWire.AccessTokenClaims.safeParse(await verifyJwt(token, key, { currentDate: new Date(now) }));
    if (!claims.success) throw unauthorized('The access token is not valid: unexpected claims');
    const caller: Caller = {
      iamId: claims.data.iam_id,
      accountId: claims.data.account.bss,
      subType: claims.data.sub_type === 'ServiceId' ? 'service_id' : 'user',
    };
    const entry: VerifiedToken = {
      caller,
      expMs: claims.data.exp * 1000,
      kid,
      iamId: caller.iamId,
      apikeyId: claims.data.apikey_id,
      chainId: claims.data.chain_id,
    };
    this.verified.set(digest, entry);
    return this.unlessRevoked(entry);
  }

  private unlessRevoked(token: VerifiedToken): Caller {
    if (this.revocations.isRevoked(token)) throw unauthorized('The access token was revoked (its API key, identity or refresh chain)');
    return token.caller;
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const { keys } = await this.rpc.send('iam.jwks.get', {});
        const signing = keys.filter((jwk) => jwk.alg === 'ES256' && jwk.use === 'sig');
        const imported = await Promise.all(signing.map(async (jwk) => [jwk.kid, await publicKeyFromJwk(jwk)] as const));
        this.keys = new Map(imported);
        this.fetchedAt = this.clock.nowMs();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
