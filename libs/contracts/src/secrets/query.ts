/** Query-string fields: numbers from digits only, lists from comma-joined values. */
import { z } from 'zod';
import { SEARCH_MAX_LENGTH } from './common.js';

/** A whole number from a query string (digits only), or a number. */
export const queryInt = z.preprocess((value) => (typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value) ? Number(value) : value), z.number().int());
/** A comma-joined list from a query string, or an array. */
export const queryList = <T extends z.ZodType>(item: T, max: number) =>
  z.preprocess((value) => (typeof value === 'string' ? value.split(',') : value), z.array(item).min(1).max(max));
export const queryOffset = queryInt.pipe(z.number().min(0)).default(0);
export const queryLimit = (max: number, fallback: number) => queryInt.pipe(z.number().min(1).max(max)).default(fallback);
export const querySearch = z.string().min(1).max(SEARCH_MAX_LENGTH);
export const queryBoolean = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
