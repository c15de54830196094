import type { IamWire } from '@sealbox/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { AccountIdColumn, EpochMsColumn } from '@sealbox/platform';

/**
 * A token revocation still in force: access tokens whose claim of `kind` (apikey_id, iam_id,
 * chain_id) is `subjectId` are refused. Kept until `expiresAt` (the revocation time plus the access
 * token lifetime and a margin), after which no token it covers can still be valid; then deleted.
 */
@Entity({ name: 'token_revocations' })
@Index('token_revocations_expiry', ['expiresAt'])
export class TokenRevocationEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  kind!: IamWire.RevocationKind;

  @PrimaryColumn({ name: 'subject_id', type: 'varchar', length: 120 })
  subjectId!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ type: 'varchar', length: 32 })
  reason!: string;

  @EpochMsColumn('revoked_at')
  revokedAt!: number;

  @EpochMsColumn('expires_at')
  expiresAt!: number;
}
