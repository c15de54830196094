import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { AccountIdColumn, EpochMsColumn } from '@sealbox/platform';

/**
 * A refresh token, stored only as the SHA-256 of its value. Used once (`usedAt`); presenting a used
 * one again revokes every refresh token of its chain (`revokedAt`) and the chain's access tokens.
 */
@Entity({ name: 'refresh_tokens' })
@Index('refresh_tokens_apikey', ['accountId', 'apikeyId'])
export class RefreshTokenEntity {
  /** Hex SHA-256 of the token value. */
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'apikey_id', type: 'varchar', length: 120 })
  apikeyId!: string;

  @Column({ name: 'iam_id', type: 'varchar', length: 120 })
  iamId!: string;

  /**
   * The refresh chain: one per API key sign-in, inherited by each refresh (the access tokens carry it
   * as `chain_id`). Null only for rows written before chains existed.
   */
  @Column({ name: 'chain_id', type: 'varchar', length: 64, nullable: true })
  chainId!: string | null;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @EpochMsColumn('expires_at')
  expiresAt!: number;

  @EpochMsColumn('used_at', { nullable: true })
  usedAt!: number | null;

  @EpochMsColumn('revoked_at', { nullable: true })
  revokedAt!: number | null;
}
