import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { AccountIdColumn, EpochMsColumn } from '@sealbox/platform';

export type IdentityKind = 'user' | 'service_id';

/**
 * A user (`IBMid-…`) or service ID (`iam-ServiceId-…`) of an account. A service ID's public id is
 * its iam_id without the `iam-` prefix (`ServiceId-…`), as in IBM Cloud.
 */
@Entity({ name: 'identities' })
@Index('identities_account', ['accountId'])
@Index('identities_page', ['accountId', 'kind', 'createdAt', 'iamId'])
export class IdentityEntity {
  @PrimaryColumn({ name: 'iam_id', type: 'varchar', length: 120 })
  iamId!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ type: 'varchar', length: 20 })
  kind!: IdentityKind;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 1024, default: '' })
  description!: string;

  /** Version counter, bumped by every change; the wire `entity_tag`. */
  @Column({ name: 'entity_tag', type: 'integer', default: 1 })
  entityTag!: number;

  /** iam_id of the caller that created it (an account's first user created itself). */
  @Column({ name: 'created_by', type: 'varchar', length: 120, default: '' })
  createdBy!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @EpochMsColumn('modified_at', { default: 0 })
  modifiedAt!: number;
}
