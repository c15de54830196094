import { StorageWire } from '@sealbox/contracts';
import { DomainError } from '@sealbox/platform';
import { bucketNameProblem } from './bucket-names.js';

/** Largest object a store accepts (2 MiB): envelopes are at most about 1.06 MB. */
export const MAX_OBJECT_BYTES = StorageWire.MAX_OBJECT_BYTES;
/** Most keys one `list` call returns. */
export const MAX_LIST_LIMIT = StorageWire.MAX_LIST_LIMIT;

export interface ObjectInfo {
  readonly size: number;
  /** The store's entity tag, when it keeps one (S3: the MD5 of a single-part object, quoted). */
  readonly etag?: string;
}

export interface ListOptions {
  /** Only keys that start with this. */
  readonly prefix?: string;
  /** Only keys after this one, in UTF-8 byte order (the `nextStartAfter` of the previous page). */
  readonly startAfter?: string;
  /** Most keys to return, 1..MAX_LIST_LIMIT. */
  readonly limit: number;
}

export interface ListPage {
  /** Keys in UTF-8 byte order (S3's listing order). */
  readonly keys: readonly string[];
  /** Present when more keys follow: the `startAfter` of the next page. */
  readonly nextStartAfter?: string;
}

/**
 * The object storage port: buckets of objects under opaque keys (`objectKeyProblem` says which
 * strings are keys). Every driver passes ONE conformance suite (`describeObjectStoreConformance`).
 *
 * Errors are DomainErrors: VALIDATION_FAILED (a bad bucket name, key, list bound or limit; field
 * `bucket`, `key`, `prefix`, `startAfter` or `limit`), NOT_FOUND (no such bucket, or no such object
 * for get/head), PAYLOAD_TOO_LARGE (over MAX_OBJECT_BYTES), CONFLICT (a bucket name owned by someone
 * else), SERVICE_UNAVAILABLE (the store cannot be reached). Anything else is a bug or an outage
 * and propagates as it is.
 *
 * Stores hold what they are given, byte for byte: Sealbox only ever gives them sealed envelopes.
 */
export interface ObjectStore {
  /** Create the bucket; an existing bucket of ours is fine. */
  createBucket(bucket: string): Promise<void>;
  /** Remove the bucket with every object in it; an absent bucket is fine. */
  removeBucket(bucket: string): Promise<void>;
  bucketExists(bucket: string): Promise<boolean>;
  /** Store `bytes` under `key`, replacing what was there. The bucket must exist (NOT_FOUND otherwise). */
  put(bucket: string, key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes; NOT_FOUND when the object or the bucket is absent. */
  get(bucket: string, key: string): Promise<Buffer>;
  /** The object's size (and ETag where the store has one); NOT_FOUND like `get`. */
  head(bucket: string, key: string): Promise<ObjectInfo>;
  /** Delete the object; an absent object (or bucket) is fine. */
  delete(bucket: string, key: string): Promise<void>;
  /** One page of keys; NOT_FOUND when the bucket is absent. */
  list(bucket: string, options: ListOptions): Promise<ListPage>;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `The ${field} is invalid: ${message}`, [{ field, message }]);
}

/** Checks every driver runs before touching its store. */
export function assertBucketName(bucket: string): void {
  const problem = bucketNameProblem(bucket);
  if (problem) throw invalid('bucket', problem);
}

export function assertObjectKey(key: string): void {
  const problem = typeof key === 'string' ? StorageWire.objectKeyProblem(key) : 'must be a string';
  if (problem) throw invalid('key', problem);
}

export function assertObjectSize(bytes: Uint8Array): void {
  if (bytes.byteLength > MAX_OBJECT_BYTES) {
    throw new DomainError('PAYLOAD_TOO_LARGE', `An object is at most ${MAX_OBJECT_BYTES} bytes; this one has ${bytes.byteLength}`);
  }
}

/** Validate list options; returns them with the bounds defaulted to empty strings. */
export function checkedListOptions(options: ListOptions): { prefix: string; startAfter: string; limit: number } {
  const prefix = options.prefix ?? '';
  const startAfter = options.startAfter ?? '';
  for (const [field, value] of [['prefix', prefix], ['startAfter', startAfter]] as const) {
    const problem = typeof value === 'string' ? StorageWire.listBoundProblem(value) : 'must be a string';
    if (problem) throw invalid(field, problem);
  }
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_LIST_LIMIT) {
    throw invalid('limit', `must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  return { prefix, startAfter, limit: options.limit };
}

export const bucketNotFound = (bucket: string) => new DomainError('NOT_FOUND', `Bucket ${bucket} was not found`);
export const objectNotFound = (bucket: string, key: string) =>
  new DomainError('NOT_FOUND', `Object ${JSON.stringify(key)} was not found in bucket ${bucket}`);
