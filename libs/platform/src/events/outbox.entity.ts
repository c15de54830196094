import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EpochMsColumn } from '../persistence/columns.js';

/** An event committed with the state change that caused it, waiting for the relay to publish it. */
@Entity({ name: 'outbox_events' })
@Index('outbox_events_pending', ['createdAt'])
export class OutboxEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** NATS subject, `events.<name>`. */
  @Column({ type: 'varchar', length: 200 })
  subject!: string;

  /** The CloudEvents JSON envelope, exactly as it will be published. */
  @Column({ type: 'text' })
  envelope!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;
}
