import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '@sealbox/platform';

export type IdentityKind = 'user' | 'service_id';

/** A user (`IBMid-…`) or service ID (`iam-ServiceId-…`) of an account. */
@Entity({ name: 'identities' })
@Index('identities_account', ['accountId'])
export class IdentityEntity {
  @PrimaryColumn({ name: 'iam_id', type: 'varchar', length: 120 })
  iamId!: string;

  @Column({ name: 'account_id', type: 'varchar', length: 64 })
  accountId!: string;

  @Column({ type: 'varchar', length: 20 })
  kind!: IdentityKind;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;
}
