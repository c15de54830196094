import type { Subject } from './subjects.js';

/**
 * Subjects whose service records the request's Idempotency-Key in the same database transaction as
 * the write (the `sealbox-idempotency-key` and `sealbox-idempotency-fingerprint` headers): a retry
 * with the same key is answered the first attempt's result, even when that attempt committed and its
 * answer was lost on the way back (a gateway killed, NATS stopped). The gateway forwards these keys
 * instead of holding them itself.
 */
export const IdempotentSubjects: ReadonlySet<Subject> = new Set<Subject>(['secrets.secret.create', 'secrets.version.create']);
