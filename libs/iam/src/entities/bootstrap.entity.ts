import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '@sealbox/platform';

/** One row, written in the first-start transaction; its primary key makes the bootstrap happen once. */
@Entity({ name: 'bootstrap_state' })
export class BootstrapStateEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id!: string;

  @Column({ name: 'account_id', type: 'varchar', length: 64 })
  accountId!: string;

  @Column({ name: 'completed_at', type: 'bigint', transformer: epochMs })
  completedAt!: number;
}
