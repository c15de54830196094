import { Column, Entity, PrimaryColumn } from 'typeorm';
import { AccountIdColumn, EpochMsColumn } from '@sealbox/platform';

/** One row, written in the first-start transaction; its primary key makes the bootstrap happen once. */
@Entity({ name: 'bootstrap_state' })
export class BootstrapStateEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  /** The administrator created on first start (null only in rows older than the column and not backfilled). */
  @Column({ name: 'admin_iam_id', type: 'varchar', length: 120, nullable: true })
  adminIamId!: string | null;

  /** The API key created on first start; it may have been deleted since. */
  @Column({ name: 'apikey_id', type: 'varchar', length: 64, nullable: true })
  apikeyId!: string | null;

  @EpochMsColumn('completed_at')
  completedAt!: number;
}
