import { AccountIdColumn, CreatedByColumn, epochMs, EpochMsColumn } from '@sealbox/platform';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

const nullableMs = { type: 'bigint', nullable: true, transformer: epochMs } as const;

/**
 * A resource instance of the Resource Controller. Removed instances keep their row (state `removed`):
 * Resource Controller still answers them. `saga*` hold the provisioning or permanent-delete saga
 * in progress; `op_*` what `last_operation` shows.
 */
@Entity({ name: 'resource_instances' })
@Index('resource_instances_account_order', ['accountId', 'createdAt', 'guid'])
@Index('resource_instances_crn', ['crn'], { unique: true })
@Index('resource_instances_plan', ['planId', 'state'])
@Index('resource_instances_saga', ['sagaStatus', 'sagaLeaseUntil'])
@Index('resource_instances_plan_change_due', ['planChangeDueAt'])
export class ResourceInstanceEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  guid!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ type: 'varchar', length: 512 })
  crn!: string;

  @Column({ type: 'varchar', length: 180 })
  name!: string;

  /** The catalog service: secrets-manager, kms or hs-crypto (`resource_id`). */
  @Column({ type: 'varchar', length: 64 })
  service!: string;

  @Column({ name: 'plan_id', type: 'varchar', length: 128 })
  planId!: string;

  @Column({ type: 'varchar', length: 64 })
  region!: string;

  @Column({ name: 'resource_group_id', type: 'varchar', length: 64 })
  resourceGroupId!: string;

  /** JSON array of strings. */
  @Column({ type: 'text' })
  tags!: string;

  /** JSON object. */
  @Column({ type: 'text' })
  parameters!: string;

  @Column({ name: 'allow_cleanup', type: 'boolean' })
  allowCleanup!: boolean;

  @Column({ type: 'boolean' })
  locked!: boolean;

  @Column({ name: 'purge_protection', type: 'boolean' })
  purgeProtection!: boolean;

  @Column({ type: 'varchar', length: 32 })
  state!: string;

  /** Secrets Manager: `customer` (parameters.kms_key) or `provider` (the provider's own root key); null for kms instances. */
  @Column({ name: 'kms_mode', type: 'varchar', length: 16, nullable: true })
  kmsMode!: 'customer' | 'provider' | null;

  @Column({ name: 'kms_account_id', type: 'varchar', length: 64, nullable: true })
  kmsAccountId!: string | null;

  @Column({ name: 'kms_instance_id', type: 'varchar', length: 128, nullable: true })
  kmsInstanceId!: string | null;

  @Column({ name: 'kms_key_id', type: 'varchar', length: 128, nullable: true })
  kmsKeyId!: string | null;

  /** JSON array of `{resource_plan_id, start_date, requestor_id}`. */
  @Column({ name: 'plan_history', type: 'text' })
  planHistory!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;

  @Column({ name: 'updated_by', type: 'varchar', length: 200 })
  updatedBy!: string;

  @Column({ name: 'deleted_at', ...nullableMs })
  deletedAt!: number | null;

  @Column({ name: 'deleted_by', type: 'varchar', length: 200, nullable: true })
  deletedBy!: string | null;

  /** Why the instance went to reclamation: user or plan_retired. */
  @Column({ name: 'deletion_reason', type: 'varchar', length: 16, nullable: true })
  deletionReason!: 'user' | 'plan_retired' | null;

  @Column({ name: 'scheduled_reclaim_at', ...nullableMs })
  scheduledReclaimAt!: number | null;

  @Column({ name: 'restored_at', ...nullableMs })
  restoredAt!: number | null;

  @Column({ name: 'restored_by', type: 'varchar', length: 200, nullable: true })
  restoredBy!: string | null;

  /** Restored after its plan was retired: it must change plan by then, or the scheduler deletes it again. */
  @Column({ name: 'plan_change_due_at', ...nullableMs })
  planChangeDueAt!: number | null;

  @Column({ name: 'op_type', type: 'varchar', length: 32 })
  opType!: string;

  @Column({ name: 'op_sub_type', type: 'varchar', length: 32, nullable: true })
  opSubType!: string | null;

  @Column({ name: 'op_state', type: 'varchar', length: 16 })
  opState!: 'in progress' | 'succeeded' | 'failed';

  @Column({ name: 'op_description', type: 'varchar', length: 1024, nullable: true })
  opDescription!: string | null;

  /** provision or delete while a saga is unfinished, else null. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  saga!: 'provision' | 'delete' | null;

  /** The step recorded before it runs. */
  @Column({ name: 'saga_step', type: 'varchar', length: 32, nullable: true })
  sagaStep!: string | null;

  @Column({ name: 'saga_status', type: 'varchar', length: 16, nullable: true })
  sagaStatus!: 'running' | 'retrying' | 'blocked' | null;

  @Column({ name: 'saga_reason', type: 'varchar', length: 1024, nullable: true })
  sagaReason!: string | null;

  /** A replica runs the saga until then; after it, any replica may take it over. */
  @Column({ name: 'saga_lease_until', ...nullableMs })
  sagaLeaseUntil!: number | null;

  /** The reclamation the delete saga finishes (reclaim), if any. */
  @Column({ name: 'reclamation_id', type: 'varchar', length: 36, nullable: true })
  reclamationId!: string | null;
}

/** A reclamation (`/v1/reclamations`): a deleted instance kept until `target_time`. */
@Entity({ name: 'reclamations' })
@Index('reclamations_due', ['state', 'targetTime'])
@Index('reclamations_account', ['accountId', 'instanceGuid'])
export class ReclamationEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'instance_guid', type: 'varchar', length: 36 })
  instanceGuid!: string;

  @Column({ name: 'instance_crn', type: 'varchar', length: 512 })
  instanceCrn!: string;

  @Column({ name: 'resource_group_id', type: 'varchar', length: 64 })
  resourceGroupId!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: string;

  @EpochMsColumn('target_time')
  targetTime!: number;

  @Column({ type: 'varchar', length: 16 })
  reason!: 'user' | 'plan_retired';

  @Column({ name: 'purge_protection', type: 'boolean' })
  purgeProtection!: boolean;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;

  @Column({ name: 'updated_by', type: 'varchar', length: 200 })
  updatedBy!: string;
}

/** A retired plan: no new instances; its instances went to reclamation. */
@Entity({ name: 'retired_plans' })
export class RetiredPlanEntity {
  @PrimaryColumn({ name: 'plan_id', type: 'varchar', length: 128 })
  planId!: string;

  @EpochMsColumn('retired_at')
  retiredAt!: number;
}

/** The provider's own root key of a region (provider-managed encryption), created on first need. */
@Entity({ name: 'provider_keys' })
export class ProviderKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  region!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'kms_instance_id', type: 'varchar', length: 128 })
  kmsInstanceId!: string;

  @Column({ name: 'key_id', type: 'varchar', length: 128 })
  keyId!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;
}

export const lifecycleEntities = [ResourceInstanceEntity, ReclamationEntity, RetiredPlanEntity, ProviderKeyEntity];
