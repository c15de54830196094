import { AccountIdColumn, CreatedByColumn, EpochMsColumn } from '@sealbox/platform';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One named lock on one version of a secret. The primary key makes a name unique per version;
 * `secret_group_id` is copied from the secret (a secret never changes group) so that
 * `secrets_locks` filters by group without reading the secrets table.
 */
@Entity({ name: 'secret_locks' })
@Index('secret_locks_secret', ['accountId', 'instanceGuid', 'secretId', 'createdAt'])
@Index('secret_locks_version', ['accountId', 'instanceGuid', 'secretId', 'versionId', 'createdAt'])
@Index('secret_locks_instance', ['accountId', 'instanceGuid', 'secretGroupId', 'secretId'])
export class SecretLockEntity {
  @PrimaryColumn({ name: 'instance_guid', type: 'varchar', length: 36 })
  instanceGuid!: string;

  @PrimaryColumn({ name: 'secret_id', type: 'varchar', length: 36 })
  secretId!: string;

  @PrimaryColumn({ name: 'version_id', type: 'varchar', length: 36 })
  versionId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'secret_group_id', type: 'varchar', length: 36 })
  secretGroupId!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** The lock's `attributes` object as JSON text (SQLite and PostgreSQL alike); NULL when it has none. */
  @Column({ type: 'text', nullable: true })
  attributes!: string | null;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;
}
