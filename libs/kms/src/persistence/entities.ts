import type { ProviderKind } from '@sealbox/kms-plugins';
import { AccountIdColumn, CreatedByColumn, EpochMsColumn } from '@sealbox/platform';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The kms tables. Every row carries its account id and every tenant-owned query names it (the
 * repositories in kms-store.ts refuse to run without it). Nothing here is secret in clear: provider
 * state and version material are opaque provider blobs (wrapped under HSM keys), and an import
 * token's private key is sealed by the HSM.
 */

/** A key-management instance (Key Protect-like `kms` or HPCS-like `hs-crypto`) and its provider state. */
@Entity({ name: 'kms_instances' })
@Index('kms_instances_account', ['accountId'])
export class InstanceEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'service_name', type: 'varchar', length: 16 })
  serviceName!: 'kms' | 'hs-crypto';

  @Column({ type: 'varchar', length: 64 })
  region!: string;

  @Column({ type: 'varchar', length: 16 })
  provider!: ProviderKind;

  /** JSON: the provider's InstanceState. */
  @Column({ name: 'provider_state', type: 'text' })
  providerState!: string;

  @Column({ name: 'master_key_status', type: 'varchar', length: 16 })
  masterKeyStatus!: 'not_applicable' | 'uninitialized' | 'pending' | 'active';

  @EpochMsColumn('created_at')
  createdAt!: number;

  /** Optimistic concurrency: every update names the version it read. */
  @Column({ name: 'row_version', type: 'integer' })
  rowVersion!: number;
}

/** A root key or a standard key: its metadata, state and policies; the material is in its versions. */
@Entity({ name: 'kms_keys' })
@Index('kms_keys_listing', ['accountId', 'instanceId', 'createdAt', 'id'])
@Index('kms_keys_rotation_due', ['state', 'nextRotationAt'])
@Index('kms_keys_purge_due', ['state', 'deletedAt'])
export class KeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'instance_id', type: 'varchar', length: 128 })
  instanceId!: string;

  @Column({ type: 'varchar', length: 90 })
  name!: string;

  @Column({ type: 'varchar', length: 240, nullable: true })
  description!: string | null;

  /** 1 active, 2 suspended, 3 deactivated, 5 destroyed (expiry is computed when read). */
  @Column({ type: 'integer' })
  state!: number;

  @Column({ name: 'nonactive_reason', type: 'integer', nullable: true })
  nonactiveReason!: number | null;

  @Column({ type: 'boolean' })
  imported!: boolean;

  /** false: a root key (wraps data keys); true: a standard key (its sealed material is returned by getKey). */
  @Column({ type: 'boolean' })
  extractable!: boolean;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;

  @EpochMsColumn('rotated_at', { nullable: true })
  rotatedAt!: number | null;

  @EpochMsColumn('expires_at', { nullable: true })
  expiresAt!: number | null;

  @Column({ name: 'current_version_id', type: 'varchar', length: 36 })
  currentVersionId!: string;

  @EpochMsColumn('current_version_at')
  currentVersionAt!: number;

  @Column({ name: 'dual_auth_delete', type: 'boolean' })
  dualAuthDelete!: boolean;

  @Column({ name: 'rotation_enabled', type: 'boolean' })
  rotationEnabled!: boolean;

  @Column({ name: 'rotation_interval_month', type: 'integer', nullable: true })
  rotationIntervalMonth!: number | null;

  /** When the rotation scheduler rotates the key (domain/schedules.ts `nextRotationAt`); null: never automatically. */
  @EpochMsColumn('next_rotation_at', { nullable: true })
  nextRotationAt!: number | null;

  @Column({ name: 'set_for_deletion_by', type: 'varchar', length: 200, nullable: true })
  setForDeletionBy!: string | null;

  @EpochMsColumn('set_for_deletion_at', { nullable: true })
  setForDeletionAt!: number | null;

  @EpochMsColumn('deleted_at', { nullable: true })
  deletedAt!: number | null;

  @Column({ name: 'deleted_by', type: 'varchar', length: 200, nullable: true })
  deletedBy!: string | null;

  @Column({ name: 'row_version', type: 'integer' })
  rowVersion!: number;
}

/** One version of a root key: the provider's material reference (a wrapped blob or an HSM label). */
@Entity({ name: 'kms_key_versions' })
@Index('kms_key_versions_key', ['keyId', 'createdAt'])
export class KeyVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'key_id', type: 'varchar', length: 36 })
  keyId!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'instance_id', type: 'varchar', length: 128 })
  instanceId!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  /** The provider's VersionMaterial. */
  @Column({ type: 'text' })
  material!: string;

  /** Imported versions: keyed fingerprint (HMAC-SHA-256) of the material, to recognise it on restore and refuse its reuse on rotate. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  fingerprint!: string | null;

  /** A standard key's material, wrapped by the provider with this version (domain/standard-key.ts), base64; null for root keys. */
  @Column({ name: 'sealed_payload', type: 'text', nullable: true })
  sealedPayload!: string | null;
}

/** An alias of a key, unique within its instance. */
@Entity({ name: 'kms_key_aliases' })
@Index('kms_key_aliases_key', ['keyId'])
export class KeyAliasEntity {
  @PrimaryColumn({ name: 'instance_id', type: 'varchar', length: 128 })
  instanceId!: string;

  @PrimaryColumn({ type: 'varchar', length: 90 })
  alias!: string;

  @Column({ name: 'key_id', type: 'varchar', length: 36 })
  keyId!: string;

  @AccountIdColumn()
  accountId!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;
}

/** The metadata of a key policy (`rotation`, `dualAuthDelete`); its values are mirrored on the key. */
@Entity({ name: 'kms_key_policies' })
export class KeyPolicyEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 36 })
  keyId!: string;

  @PrimaryColumn({ name: 'policy_type', type: 'varchar', length: 16 })
  policyType!: 'rotation' | 'dualAuthDelete';

  @Column({ type: 'varchar', length: 36 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'instance_id', type: 'varchar', length: 128 })
  instanceId!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;

  @Column({ name: 'updated_by', type: 'varchar', length: 200 })
  updatedBy!: string;
}

/** A resource whose data a key protects (created and removed by lifecycle over NATS). */
@Entity({ name: 'kms_registrations' })
@Index('kms_registrations_instance', ['accountId', 'instanceId', 'createdAt'])
export class RegistrationEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 36 })
  keyId!: string;

  @PrimaryColumn({ name: 'resource_crn', type: 'varchar', length: 512 })
  resourceCrn!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'instance_id', type: 'varchar', length: 128 })
  instanceId!: string;

  @Column({ name: 'prevent_key_deletion', type: 'boolean' })
  preventKeyDeletion!: boolean;

  @Column({ type: 'varchar', length: 256, nullable: true })
  description!: string | null;

  @Column({ name: 'key_version_id', type: 'varchar', length: 36 })
  keyVersionId!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('updated_at')
  updatedAt!: number;
}

/** The import token of an instance (one at a time): an RSA key pair whose private key is sealed by the HSM. */
@Entity({ name: 'kms_import_tokens' })
export class ImportTokenEntity {
  @PrimaryColumn({ name: 'instance_id', type: 'varchar', length: 128 })
  instanceId!: string;

  @AccountIdColumn()
  accountId!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @CreatedByColumn()
  createdBy!: string;

  @EpochMsColumn('expires_at')
  expiresAt!: number;

  /** Seconds, as requested. */
  @Column({ type: 'integer' })
  expiration!: number;

  @Column({ name: 'max_retrievals', type: 'integer' })
  maxRetrievals!: number;

  @Column({ name: 'remaining_retrievals', type: 'integer' })
  remainingRetrievals!: number;

  /** SPKI PEM. */
  @Column({ name: 'public_key', type: 'text' })
  publicKey!: string;

  /** PKCS#8 DER of the private key, sealed by the HSM service key (base64), bound to the instance. */
  @Column({ name: 'sealed_private_key', type: 'text' })
  sealedPrivateKey!: string;

  /** Base64. */
  @Column({ type: 'varchar', length: 64 })
  nonce!: string;
}

/** Secrets of the kms service itself, sealed by the HSM service key (e.g. the fingerprint key). */
@Entity({ name: 'kms_service_secrets' })
export class ServiceSecretEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  /** Base64, sealed by the HSM service key with the name as AAD. */
  @Column({ type: 'text' })
  sealed!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;
}

export const kmsEntities = [
  InstanceEntity,
  KeyEntity,
  KeyVersionEntity,
  KeyAliasEntity,
  KeyPolicyEntity,
  RegistrationEntity,
  ImportTokenEntity,
  ServiceSecretEntity,
];
