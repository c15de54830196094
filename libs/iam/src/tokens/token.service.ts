import { Inject, Injectable } from '@nestjs/common';
import { IamWire, type ResponseOf, type ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, dataSourceToken, DomainError, JWT_ALG, LOGGER, signJwt } from '@sealbox/platform';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { IsNull, LessThanOrEqual, type DataSource, type EntityManager } from 'typeorm';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { ApiKeyVerifier, type VerifiedApiKey } from '../ports.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { SigningKeyRing, type Signer } from './signing-keys.js';

export const ACCESS_TOKEN_SCOPE = 'ibm openid';
const REFRESH_TOKEN_BYTES = 32;

/** Hex SHA-256 of a refresh token value: the only form in which it is stored. */
export const refreshTokenHash = (value: string) => createHash('sha256').update(value).digest('hex');

const invalidRefreshToken = () => new DomainError('INVALID_GRANT', 'The refresh token is not valid');

/**
 * Token exchange (API key and refresh token grants), signing keys and JWKS.
 *
 * Access tokens are ES256 JWTs signed with the active key. Refresh tokens are opaque random values
 * stored as SHA-256 hashes; each can be used once. Presenting a used one again (a replay: the value
 * leaked, or two parties share it) revokes every refresh token of that API key; access tokens already
 * issued stay valid until they expire.
 */
@Injectable()
export class TokenService {
  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(IAM_OPTIONS) private readonly options: IamOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly keys: SigningKeyRing,
    private readonly apiKeys: ApiKeyVerifier,
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
    const refreshToken = await this.dataSource.transaction(async (manager) => {
      // Expired refresh tokens of the key are of no use any more (not even to detect a replay).
      await manager.delete(RefreshTokenEntity, {
        accountId: identity.accountId,
        apikeyId: identity.apikeyId,
        expiresAt: LessThanOrEqual(now),
      });
      return this.storeRefreshToken(manager, identity, now);
    });
    return this.issue(identity, signer, refreshToken, now);
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
    const refreshToken = await this.dataSource.transaction(async (manager) => {
      const consumed = await manager.update(
        RefreshTokenEntity,
        { tokenHash, accountId: presented.accountId, usedAt: IsNull(), revokedAt: IsNull() },
        { usedAt: now },
      );
      if (consumed.affected !== 1) return undefined;
      return this.storeRefreshToken(manager, identity, now);
    });
    if (refreshToken === undefined) {
      // Used by a concurrent request between our read and our update: the same token presented twice.
      await this.revokeAfterReplay(presented, now);
      throw invalidRefreshToken();
    }
    return this.issue(identity, signer, refreshToken, now);
  }

  private async storeRefreshToken(manager: EntityManager, identity: VerifiedApiKey, now: number): Promise<string> {
    const value = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
    await manager.insert(RefreshTokenEntity, {
      tokenHash: refreshTokenHash(value),
      accountId: identity.accountId,
      apikeyId: identity.apikeyId,
      iamId: identity.iamId,
      createdAt: now,
      expiresAt: now + this.options.refreshTokenTtlSeconds * 1000,
      usedAt: null,
      revokedAt: null,
    });
    return value;
  }

  private async revokeAfterReplay(presented: RefreshTokenEntity, now: number): Promise<void> {
    const revoked = await this.dataSource
      .getRepository(RefreshTokenEntity)
      .update({ accountId: presented.accountId, apikeyId: presented.apikeyId, revokedAt: IsNull() }, { revokedAt: now });
    this.logger.warn(
      { accountId: presented.accountId, apikeyId: presented.apikeyId, revoked: revoked.affected },
      'a used refresh token was presented again: revoked every refresh token of its API key',
    );
  }

  private issue(identity: VerifiedApiKey, signer: Signer, refreshToken: string, nowMs: number): ResponseOf<'iam.token.exchange'> {
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
    };
    return {
      access_token: signJwt(claims, signer.privateKey, signer.kid),
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: this.options.accessTokenTtlSeconds,
      expiration: exp,
      scope: ACCESS_TOKEN_SCOPE,
    };
  }
}
