import { AccountIdColumn, CreatedByColumn, EpochMsColumn } from '@sealbox/platform';
import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** A JSON value kept as text (the same column type on SQLite and PostgreSQL). */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value)),
  from: (value: string | null) => (value === null ? null : (JSON.parse(value) as unknown)),
};

/** Expiry notices sent for a secret's current expiration_date (reset when the date changes). */
export const ExpiryNotice = { none: 0, expiring: 1, expired: 2 } as const;
export type ExpiryNotice = (typeof ExpiryNotice)[keyof typeof ExpiryNotice];

/**
 * One secret of one instance: its metadata, never its payload (the payload lives sealed in the
 * instance's bucket, one object per version). Type-specific metadata that is never filtered or
 * sorted on (rotation policy, password policy, certificate details, iam settings) is `details`.
 */
@Entity({ name: 'secrets' })
@Index('secrets_by_name', ['instanceGuid', 'groupId', 'secretType', 'name'], { unique: true })
@Index('secrets_by_created', ['instanceGuid', 'createdAt', 'id'])
@Index('secrets_by_updated', ['instanceGuid', 'updatedAt', 'id'])
@Index('secrets_by_name_sort', ['instanceGuid', 'name', 'id'])
@Index('secrets_by_type', ['instanceGuid', 'secretType', 'id'])
@Index('secrets_by_expiration', ['instanceGuid', 'expirationAt', 'id'])
@Index('secrets_by_retrieved', ['instanceGuid', 'retrievedAt', 'id'])
@Index('secrets_due_rotation', ['nextRotationAt'])
@Index('secrets_due_expiry', ['expiryNotice', 'expirationAt'])
export class SecretEntity {
  @PrimaryColumn({ name: 'instance_guid', type: 'varchar', length: 36 })
  instanceGuid!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'secret_group_id', type: 'varchar', length: 36 })
  groupId!: string;

  @Column({ type: 'varchar', length: 256 })
  name!: string;

  @Column({ name: 'secret_type', type: 'varchar', length: 32 })
  secretType!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** The labels in the client's order (also one row each in secret_labels, for filtering). */
  @Column({ type: 'text', transformer: jsonText })
  labels!: string[];

  @Column({ name: 'custom_metadata', type: 'text', nullable: true, transformer: jsonText })
  customMetadata!: Record<string, unknown> | null;

  @Column({ type: 'integer' })
  state!: number;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;

  @EpochMsColumn('expiration_at', { nullable: true })
  expirationAt!: number | null;

  @Column({ type: 'text', transformer: jsonText })
  details!: Record<string, unknown>;

  /** Versions whose metadata the secret keeps. */
  @Column({ name: 'versions_total', type: 'integer' })
  versionsTotal!: number;

  /** The ordinal of the current version (1 for the first); a new version is current_ordinal + 1. */
  @Column({ name: 'current_ordinal', type: 'integer' })
  currentOrdinal!: number;

  /** Whether the current version's data was read. */
  @Column({ type: 'boolean' })
  downloaded!: boolean;

  @EpochMsColumn('retrieved_at', { nullable: true })
  retrievedAt!: number | null;

  @EpochMsColumn('next_rotation_at', { nullable: true })
  nextRotationAt!: number | null;

  @Column({ name: 'expiry_notice', type: 'integer' })
  expiryNotice!: ExpiryNotice;
}

/** One version of a secret: metadata only; `payload_available` false once its data was deleted. */
@Entity({ name: 'secret_versions' })
@Index('secret_versions_ordinal', ['instanceGuid', 'secretId', 'ordinal'], { unique: true })
export class SecretVersionEntity {
  @PrimaryColumn({ name: 'instance_guid', type: 'varchar', length: 36 })
  instanceGuid!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'secret_id', type: 'varchar', length: 36 })
  secretId!: string;

  @Column({ type: 'integer' })
  ordinal!: number;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @Column({ name: 'payload_available', type: 'boolean' })
  payloadAvailable!: boolean;

  @Column({ name: 'version_custom_metadata', type: 'text', nullable: true, transformer: jsonText })
  versionCustomMetadata!: Record<string, unknown> | null;

  @Column({ type: 'boolean' })
  downloaded!: boolean;

  @Column({ name: 'auto_rotated', type: 'boolean' })
  autoRotated!: boolean;

  @EpochMsColumn('expiration_at', { nullable: true })
  expirationAt!: number | null;

  /** Certificate details (imported_cert), api_key_id and service_id (iam_credentials). */
  @Column({ type: 'text', transformer: jsonText })
  details!: Record<string, unknown>;
}

/** One label of one secret: `match_all_labels` and `search` filter on these rows. */
@Entity({ name: 'secret_labels' })
@Index('secret_labels_by_label', ['instanceGuid', 'label'])
export class SecretLabelEntity {
  @PrimaryColumn({ name: 'instance_guid', type: 'varchar', length: 36 })
  instanceGuid!: string;

  @PrimaryColumn({ name: 'secret_id', type: 'varchar', length: 36 })
  secretId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  label!: string;

  @AccountIdColumn()
  accountId!: string;
}
