import { context, createContextKey, type Context } from '@opentelemetry/api';
import { IdempotentSubjects, RpcHeaders, type Subject } from '@sealbox/contracts';
import type { HeaderMap } from './headers.js';

/**
 * The Idempotency-Key of a request as it travels between processes: already scoped to the identity
 * that sent it (a hash of the IAM id and the client's key), with the fingerprint of the request it
 * came with. A service that records it (IdempotentSubjects) does the work at most once per key.
 */
export interface IdempotencyKey {
  /** SHA-256 hex of the identity and the client's key. */
  readonly key: string;
  /** SHA-256 hex of the request (method, path, body) the key was sent with. */
  readonly fingerprint: string;
  /**
   * Called when the answer is an earlier attempt's: in a service, by the code that replays (the
   * reply then says so); in the gateway, by the RPC client when the reply says so.
   */
  readonly onReplay?: () => void;
}

const IDEMPOTENCY = createContextKey('sealbox.rpc.idempotency');
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A context whose RPC calls to an IdempotentSubject carry `key` (the gateway sets it around a keyed request's handler). */
export function withIdempotencyKey(parent: Context, key: IdempotencyKey): Context {
  return parent.setValue(IDEMPOTENCY, key);
}

/** The key of the request this code runs for, if any. */
export function activeIdempotencyKey(): IdempotencyKey | undefined {
  return context.active().getValue(IDEMPOTENCY) as IdempotencyKey | undefined;
}

/**
 * Add the active key to the headers of a call to `subject`, when its service records keys. Only
 * those: another service has nothing to do with it, and the key must not reach a call the handler
 * makes for another purpose.
 */
export function addIdempotencyHeaders(headers: HeaderMap, subject: Subject): void {
  if (!IdempotentSubjects.has(subject)) return;
  const key = activeIdempotencyKey();
  if (!key) return;
  headers[RpcHeaders.idempotencyKey] = key.key;
  headers[RpcHeaders.idempotencyFingerprint] = key.fingerprint;
}

/** The key a request carries (both headers, well-formed), or undefined. */
export function idempotencyKeyFrom(headers: HeaderMap | undefined): IdempotencyKey | undefined {
  const key = headers?.[RpcHeaders.idempotencyKey];
  const fingerprint = headers?.[RpcHeaders.idempotencyFingerprint];
  if (!key || !fingerprint || !SHA256_HEX.test(key) || !SHA256_HEX.test(fingerprint)) return undefined;
  return { key, fingerprint };
}
