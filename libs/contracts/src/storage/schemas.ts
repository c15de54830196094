/**
 * Storage service wire shapes (`storage.*`). Callers name an instance, never a bucket: the storage
 * service derives the instance's bucket name from its GUID. Object bodies travel as bytes and are
 * opaque to the storage service (sealed envelopes; it never sees plaintext).
 */
import { z } from 'zod';
import { bytes, Bytes } from '../bytes.js';
import { listBoundProblem, objectKeyProblem } from './keys.js';

export { compareKeys, listBoundProblem, MAX_KEY_BYTES, MAX_KEY_CHARS, objectKeyProblem } from './keys.js';

/** A resource instance GUID (8-4-4-4-12 hex digits; either case names the same instance). */
export const INSTANCE_GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Largest object body (decoded): a v1 envelope is at most about 1.06 MB, so this leaves room. */
export const MAX_OBJECT_BYTES = 2 * 1024 * 1024;
/** Most keys one list call returns (S3's own page limit). */
export const MAX_LIST_LIMIT = 1000;


export const InstanceGuid = z.string().regex(INSTANCE_GUID_PATTERN, 'must be an instance GUID');

export const ObjectKey = z.string().superRefine((key, ctx) => {
  const problem = objectKeyProblem(key);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const ListBound = z.string().superRefine((value, ctx) => {
  const problem = listBoundProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const BucketRequest = z.object({ instanceGuid: InstanceGuid }).strict();
export type BucketRequest = z.infer<typeof BucketRequest>;
export const BucketCreated = z.object({
  /** The instance's bucket (informational: requests keep naming the instance). */
  bucket: z.string(),
});

export const ObjectRequest = z.object({ instanceGuid: InstanceGuid, key: ObjectKey }).strict();
export type ObjectRequest = z.infer<typeof ObjectRequest>;

export const PutObjectRequest = z
  .object({
    instanceGuid: InstanceGuid,
    key: ObjectKey,
    /** The object (at most 2 MiB; may be empty). */
    body: bytes(0, MAX_OBJECT_BYTES),
  })
  .strict();
export type PutObjectRequest = z.infer<typeof PutObjectRequest>;

export const GetObjectResponse = z.object({ body: Bytes, size: z.number().int().nonnegative() });
export const HeadObjectResponse = z.object({ size: z.number().int().nonnegative(), etag: z.string().optional() });

export const ListObjectsRequest = z
  .object({
    instanceGuid: InstanceGuid,
    /** Only keys starting with this. */
    prefix: ListBound.optional(),
    /** Only keys after this one (in UTF-8 byte order): the `nextStartAfter` of the previous page. */
    startAfter: ListBound.optional(),
    limit: z.number().int().min(1).max(MAX_LIST_LIMIT).default(MAX_LIST_LIMIT),
  })
  .strict();
export type ListObjectsRequest = z.infer<typeof ListObjectsRequest>;
export const ListObjectsResponse = z.object({
  /** Keys in UTF-8 byte order (S3's order). */
  keys: z.array(z.string()),
  /** Present when more keys follow: pass it as `startAfter` for the next page. */
  nextStartAfter: z.string().optional(),
});

export const Empty = z.object({}).strict();
