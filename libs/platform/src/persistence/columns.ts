import type { ValueTransformer } from 'typeorm';

/**
 * Epoch milliseconds in a BIGINT column. PostgreSQL returns BIGINT as a string and SQLite as a
 * number; this gives both back as a number.
 */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
