import { AccountIdColumn, CreatedByColumn, EpochMsColumn } from '@sealbox/platform';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A secrets instance the service serves: its owner, CRN, region, KMS root key and state. */
@Entity({ name: 'secret_instances' })
@Index('secret_instances_account', ['accountId', 'instanceGuid'])
export class InstanceEntity {
  @PrimaryColumn({ name: 'instance_guid', type: 'varchar', length: 36 })
  instanceGuid!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ type: 'varchar', length: 512 })
  crn!: string;

  @Column({ type: 'varchar', length: 64 })
  region!: string;

  @Column({ name: 'kms_instance_id', type: 'varchar', length: 64 })
  kmsInstanceId!: string;

  @Column({ name: 'kms_key_id', type: 'varchar', length: 64 })
  kmsKeyId!: string;

  /** The root key's account when it is not `accountId` (provider-managed encryption); null: the instance's own. */
  @Column({ name: 'kms_account_id', type: 'varchar', length: 64, nullable: true })
  kmsAccountId!: string | null;

  @Column({ type: 'varchar', length: 16 })
  state!: 'active' | 'disabled';

  /** The plan, which sets the quotas; null: registered before plans were recorded (the default plan's quotas). */
  @Column({ name: 'plan_id', type: 'varchar', length: 128, nullable: true })
  planId!: string | null;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @EpochMsColumn('updated_at')
  updatedAt!: number;
}

/** A secret group of one instance; `default` exists in every instance (its id is literally `default`). */
@Entity({ name: 'secret_groups' })
@Index('secret_groups_name', ['accountId', 'instanceGuid', 'name'], { unique: true })
export class SecretGroupEntity {
  @PrimaryColumn({ name: 'instance_guid', type: 'varchar', length: 36 })
  instanceGuid!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;
}
