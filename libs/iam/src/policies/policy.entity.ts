import { AccountIdColumn, CreatedByColumn, EpochMsColumn } from '@sealbox/platform';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An access or authorization policy. Subjects, roles and resources are JSON text; `subject_key` and
 * `resource_service` repeat the values decisions and list filters look up, so they can be indexed.
 * Deleting a policy deletes its row: nothing of it remains.
 */
@Entity({ name: 'policies' })
@Index('policies_subject', ['accountId', 'type', 'subjectKey'])
@Index('policies_account_order', ['accountId', 'createdAt', 'id'])
export class PolicyEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: 'access' | 'authorization';

  /** Access: the subject's iam_id. Authorization: the source serviceName. */
  @Column({ name: 'subject_key', type: 'varchar', length: 200 })
  subjectKey!: string;

  /** The resource's serviceName value, when it has one. */
  @Column({ name: 'resource_service', type: 'varchar', length: 512, nullable: true })
  resourceService!: string | null;

  /** JSON: the subject's attributes. */
  @Column({ type: 'text' })
  subjects!: string;

  /** JSON: role names. */
  @Column({ type: 'text' })
  roles!: string;

  /** JSON: the resource's attributes. */
  @Column({ type: 'text' })
  resources!: string;

  @Column({ type: 'varchar', length: 300, nullable: true })
  description!: string | null;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('last_modified_at')
  lastModifiedAt!: number;

  @Column({ name: 'last_modified_by', type: 'varchar', length: 200 })
  lastModifiedBy!: string;

  /** Changes on every replace; the gateway sends it as the ETag. */
  @Column({ type: 'varchar', length: 64 })
  etag!: string;
}
