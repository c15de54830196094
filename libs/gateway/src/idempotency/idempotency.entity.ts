import { epochMs } from '@sealbox/platform';
import { Column, Entity, Index, PrimaryColumn, Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * One Idempotency-Key of one identity: claimed while its first request runs (`pending`), then the
 * response that request got (`done`), kept until `expires_at`.
 */
@Entity({ name: 'idempotency_keys' })
@Index('idempotency_keys_expiry', ['expiresAt'])
export class IdempotencyKeyEntity {
  /** The IAM id the key belongs to: a key is only ever seen by the identity that sent it. */
  @PrimaryColumn({ type: 'varchar', length: 200 })
  scope!: string;

  @PrimaryColumn({ name: 'idempotency_key', type: 'varchar', length: 255 })
  key!: string;

  /** SHA-256 of the method, path and body the key was first sent with. */
  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: 'pending' | 'done';

  /** Until when a pending claim holds (a gateway that crashed mid-request does not lock the key for a day). */
  @Column({ name: 'lease_until', type: 'bigint', transformer: epochMs })
  leaseUntil!: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs })
  expiresAt!: number;

  @Column({ type: 'integer', nullable: true })
  status!: number | null;

  /** The response headers replayed with the body (JSON object). */
  @Column({ type: 'text', nullable: true })
  headers!: string | null;

  @Column({ type: 'text', nullable: true })
  body!: string | null;
}

export class CreateIdempotencyKeys1765065600000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1765065600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'idempotency_keys',
        columns: [
          { name: 'scope', type: 'varchar', length: '200', isPrimary: true },
          { name: 'idempotency_key', type: 'varchar', length: '255', isPrimary: true },
          { name: 'fingerprint', type: 'varchar', length: '64' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'lease_until', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'status', type: 'integer', isNullable: true },
          { name: 'headers', type: 'text', isNullable: true },
          { name: 'body', type: 'text', isNullable: true },
        ],
      }),
    );
    await runner.createIndex('idempotency_keys', new TableIndex({ name: 'idempotency_keys_expiry', columnNames: ['expires_at'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('idempotency_keys');
  }
}
