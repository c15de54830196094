import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '@sealbox/platform';

/**
 * A refresh token, stored only as the SHA-256 of its value. Used once (`usedAt`); presenting a used
 * one again revokes every refresh token of its API key (`revokedAt`).
 */
@Entity({ name: 'refresh_tokens' })
@Index('refresh_tokens_apikey', ['accountId', 'apikeyId'])
export class RefreshTokenEntity {
  /** Hex SHA-256 of the token value. */
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  @Column({ name: 'account_id', type: 'varchar', length: 64 })
  accountId!: string;

  @Column({ name: 'apikey_id', type: 'varchar', length: 120 })
  apikeyId!: string;

  @Column({ name: 'iam_id', type: 'varchar', length: 120 })
  iamId!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs })
  expiresAt!: number;

  @Column({ name: 'used_at', type: 'bigint', nullable: true, transformer: epochMs })
  usedAt!: number | null;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: epochMs })
  revokedAt!: number | null;
}
