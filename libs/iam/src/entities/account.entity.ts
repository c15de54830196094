import type { IamWire } from '@sealbox/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { EpochMsColumn } from '@sealbox/platform';

@Entity({ name: 'accounts' })
export class AccountEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @EpochMsColumn('created_at')
  createdAt!: number;

  /** IBM's `restrict_create_platform_apikey`; NOT_SET means Sealbox's default, RESTRICTED. */
  @Column({ name: 'restrict_create_platform_apikey', type: 'varchar', length: 16, default: 'NOT_SET' })
  restrictCreatePlatformApikey!: IamWire.Restriction;

  /** The first administrator, created with the account: it cannot be removed (null only if it never had one). */
  @Column({ name: 'owner_iam_id', type: 'varchar', length: 120, nullable: true })
  ownerIamId!: string | null;

  /** Version counter of the account settings: their wire `entity_tag`, compared with If-Match. */
  @Column({ name: 'settings_entity_tag', type: 'integer', default: 1 })
  settingsEntityTag!: number;
}
