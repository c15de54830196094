import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { AccountIdColumn, EpochMsColumn } from '@sealbox/platform';

/**
 * An API key. Its value is never stored: `lookup` is a short SHA-256 prefix used only to find
 * candidate rows, and `hash` is the scrypt hash that verifies the value.
 */
@Entity({ name: 'api_keys' })
@Index('api_keys_lookup', ['lookup'])
@Index('api_keys_account', ['accountId'])
@Index('api_keys_identity', ['iamId'])
@Index('api_keys_page', ['accountId', 'createdAt', 'id'])
@Index('api_keys_managed_expiry', ['managedBy', 'expiresAt'])
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @AccountIdColumn()
  accountId!: string;

  @Column({ name: 'iam_id', type: 'varchar', length: 120 })
  iamId!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 1024, default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 16 })
  lookup!: string;

  @Column({ type: 'varchar', length: 200 })
  hash!: string;

  /** A locked key still works for tokens; it only cannot be changed or deleted. */
  @Column({ type: 'boolean', default: false })
  locked!: boolean;

  /** Version counter, bumped by every change; the wire `entity_tag` that If-Match compares. */
  @Column({ name: 'entity_tag', type: 'integer', default: 1 })
  entityTag!: number;

  /** iam_id of the caller that created the key. */
  @Column({ name: 'created_by', type: 'varchar', length: 120, default: '' })
  createdBy!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @EpochMsColumn('modified_at', { default: 0 })
  modifiedAt!: number;

  @EpochMsColumn('expires_at', { nullable: true })
  expiresAt!: number | null;

  /**
   * The service whose resource owns the key (`secrets-manager` for an `iam_credentials` secret), or
   * null for a key a user manages. iam deletes a managed key once `expires_at` has passed.
   */
  @Column({ name: 'managed_by', type: 'varchar', length: 64, nullable: true })
  managedBy!: string | null;
}

/** The data of the `iam.apikey.created` event of a new key: which key, whose, and who created it. */
export const apiKeyCreated = (row: Pick<ApiKeyEntity, 'accountId' | 'id' | 'iamId' | 'name' | 'createdBy'>) => ({
  accountId: row.accountId,
  apikeyId: row.id,
  iamId: row.iamId,
  name: row.name,
  createdBy: row.createdBy,
});
