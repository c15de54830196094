import { Column, type ValueTransformer } from 'typeorm';

/**
 * Epoch milliseconds in a BIGINT column. PostgreSQL returns BIGINT as a string and SQLite as a
 * number; this gives both back as a number.
 */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** Options of an epoch-milliseconds column besides its name. */
export interface EpochMsColumnOptions {
  readonly nullable?: boolean;
  readonly default?: number;
}

/** A BIGINT column of epoch milliseconds, read back as a number (`created_at`, `updated_at`, `…_at`). */
export function EpochMsColumn(name: string, options: EpochMsColumnOptions = {}): PropertyDecorator {
  return Column({ name, type: 'bigint', transformer: epochMs, ...options });
}

/** The tenant column every tenant-owned table carries: the IBM account id. */
export function AccountIdColumn(): PropertyDecorator {
  return Column({ name: 'account_id', type: 'varchar', length: 64 });
}

/** Who created the row: an IAM id (`iam-ServiceId-…`, `IBMid-…`) or a system actor. */
export function CreatedByColumn(): PropertyDecorator {
  return Column({ name: 'created_by', type: 'varchar', length: 200 });
}
