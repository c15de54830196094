import { Inject, Injectable } from '@nestjs/common';
import { IamWire, type ResponseOf, type ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, dataSourceToken, DomainError, JWT_ALG, LOGGER, signJwt } from '@sealbox/platform';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { IsNull, LessThanOrEqual, type DataSource, type EntityManager } from 'typeorm';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { ApiKeyVerifier, type VerifiedApiKey } from '../ports.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { TokenRevocations } from './revocations.js';
import { SigningKeyRing, type Signer } from './signing-keys.js';

export const ACCESS_TOKEN_SCOPE = 'ibm openid';
const REFRESH_TOKEN_BYTES = 32;

/** Hex SHA-256 of a refresh token value: the only form in which it is stored. */
export const refreshTokenHash = (value: string) => createHash('sha256').update(value).digest('hex');

const invalidRefreshToken = () => new DomainError('INVALID_GRANT', 'The refresh token is not valid');

/**
 * Token exchange (API key and refresh token grants), signing keys and JWKS.
 *
 * Access tokens are ES256 JWTs signed with the active key; besides IBM's claims they name the API key
 * (`apikey_id`) and the refresh chain (`chain_id`: one per API key sign-in, kept by its refreshes)
 * they were issued from, which gateways compare with the revocations. Refresh tokens are opaque random
 * values stored as SHA-256 hashes; each can be used once. Presenting a used one again (a replay: the
 * value leaked, or two parties share it) revokes every refresh token of its chain and every access
 * token issued in it.
 */
@Injectable()
export class TokenService {
  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(IAM_OPTIONS) private readonly options: IamOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: SigningKeyRing,
    private readonly apiKeys: ApiKeyVerifier,
    private readonly revocations: TokenRevocations,
    private readonly clock: Clock,
  ) {}

  async exchange(request: ValidatedRequestOf<'iam.token.exchange'>): Promise<ResponseOf<'iam.token.exchange'>> {
    switch (request.grant_type) {
      case IamWire.APIKEY_GRANT:
        return this.exchangeApiKey(request.apikey);
      case 'refresh_token':
        return this.refresh(request.refresh_token);
    }
  }

  async jwks(): Promise<ResponseOf<'iam.jwks.get'>> {
    const keys = await this.keys.publicKeys();
    return { keys: keys.map((key) => ({ ...key, alg: JWT_ALG, use: 'sig' })) };
  }

  async rotateSigningKey(): Promise<ResponseOf<'iam.signing-key.rotate'>> {
    return this.keys.rotate();
  }

  private async exchangeApiKey(apikey: string): Promise<ResponseOf<'iam.token.exchange'>> {
    const identity = await this.apiKeys.verify(apikey);
    const signer = await this.keys.signer();
    const now = this.clock.nowMs();
    const chainId = randomUUID();
    const refreshToken = await this.dataSource.transaction(async (manager) => {
      // Expired refresh tokens of the key are of no use any more (not even to detect a replay).
      await manager.delete(RefreshTokenEntity, {
        accountId: identity.accountId,
        apikeyId: identity.apikeyId,
        expiresAt: LessThanOrEqual(now),
      });
      return this.storeRefreshToken(manager, identity, chainId, now);
    });
    return this.issue(identity, signer, { refreshToken, chainId }, now);
  }

  private async refresh(value: string): Promise<ResponseOf<'iam.token.exchange'>> {
    const tokenHash = refreshTokenHash(value);
    const presented = await this.dataSource.getRepository(RefreshTokenEntity).findOneBy({ tokenHash });
    const now = this.clock.nowMs();
    if (!presented || presented.revokedAt !== null || presented.expiresAt <= now) throw invalidRefreshToken();
    if (presented.usedAt !== null) {
      await this.revokeAfterReplay(presented, now);
      throw invalidRefreshToken();
    }

    const identity = await this.apiKeys.current(presented.apikeyId);
    if (identity.accountId !== presented.accountId || identity.iamId !== presented.iamId) throw invalidRefreshToken();
    const signer = await this.keys.signer();
    // A token from before chains existed starts one.
    const chainId = presented.chainId ?? randomUUID();
    const refreshToken = await this.dataSource.transaction(async (manager) => {
      const consumed = await manager.update(
        RefreshTokenEntity,
        { tokenHash, accountId: presented.accountId, usedAt: IsNull(), revokedAt: IsNull() },
        { usedAt: now },
      );
      if (consumed.affected !== 1) return undefined;
      return this.storeRefreshToken(manager, identity, chainId, now);
    });
    if (refreshToken === undefined) {
      // Used by a concurrent request between our read and our update: the same token presented twice.
      await this.revokeAfterReplay(presented, now);
      throw invalidRefreshToken();
    }
    return this.issue(identity, signer, { refreshToken, chainId }, now);
  }

  private async storeRefreshToken(manager: EntityManager, identity: VerifiedApiKey, chainId: string, now: number): Promise<string> {
    const value = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
    await manager.insert(RefreshTokenEntity, {
      tokenHash: refreshTokenHash(value),
      accountId: identity.accountId,
      apikeyId: identity.apikeyId,
      iamId: identity.iamId,
      chainId,
      createdAt: now,
      expiresAt: now + this.options.refreshTokenTtlSeconds * 1000,
      usedAt: null,
      revokedAt: null,
    });
    return value;
  }

  /**
   * The refresh tokens of the presented token's chain, and the chain's access tokens. (A row from
   * before chains existed: every chain-less refresh token of its API key, as then.)
   */
  private async revokeAfterReplay(presented: RefreshTokenEntity, now: number): Promise<void> {
    const { accountId, apikeyId, chainId } = presented;
    const revoked = await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        RefreshTokenEntity,
        { accountId, apikeyId, chainId: chainId ?? IsNull(), revokedAt: IsNull() },
        { revokedAt: now },
      );
      if (chainId !== null) await this.revocations.revoke(manager, { kind: 'chain', id: chainId, accountId, reason: 'refresh-token-replayed' });
      return result.affected;
    });
    this.logger.warn(
      { accountId, apikeyId, chainId, revoked },
      'a used refresh token was presented again: revoked its refresh chain and the access tokens issued in it',
    );
  }

  private async issue(
    identity: VerifiedApiKey,
    signer: Signer,
    chain: { readonly refreshToken: string; readonly chainId: string },
    nowMs: number,
  ): Promise<ResponseOf<'iam.token.exchange'>> {
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + this.options.accessTokenTtlSeconds;
    const claims: IamWire.AccessTokenClaims = {
      iss: this.options.issuer,
      sub: identity.name,
      sub_type: identity.subType,
      iam_id: identity.iamId,
      id: identity.iamId,
      account: { bss: identity.accountId },
      // How the identity authenticated: a refreshed token still stems from the API key grant.
      grant_type: IamWire.APIKEY_GRANT,
      scope: ACCESS_TOKEN_SCOPE,
      jti: randomUUID(),
      iat,
      exp,
      apikey_id: identity.apikeyId,
      chain_id: chain.chainId,
    };
    return {
      access_token: await signJwt(claims, signer.privateKey, signer.kid),
      refresh_token: chain.refreshToken,
      token_type: 'Bearer',
      expires_in: this.options.accessTokenTtlSeconds,
      expiration: exp,
      scope: ACCESS_TOKEN_SCOPE,
    };
  }
}
