import { DomainError } from '@sealbox/platform';
import { Client } from 'minio';
import type { Readable } from 'node:stream';
import type { MinioObjectStoreConfig } from '../config.js';
import {
  assertBucketName,
  assertObjectKey,
  assertObjectSize,
  bucketNotFound,
  checkedListOptions,
  MAX_OBJECT_BYTES,
  objectNotFound,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
} from '../object-store.js';
import { parseListBucketResult } from './list-xml.js';

/**
 * Objects below the client's part size go up in one PUT; at or above it the client starts a
 * multipart upload (which s3rver does not implement). 64 MiB is far above MAX_OBJECT_BYTES.
 */
export const MINIO_PART_SIZE = 64 * 1024 * 1024;
if (MAX_OBJECT_BYTES >= MINIO_PART_SIZE) throw new Error('MAX_OBJECT_BYTES must stay below the minio part size');

/** Objects removed per DeleteObjects request while a bucket is emptied (S3's maximum). */
const REMOVE_BATCH = 1000;
/** Rounds of "empty, then remove" when puts race a bucket removal. */
const REMOVE_ATTEMPTS = 5;

/** Network failures: the store is unreachable rather than wrong. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
/** S3 answers that mean "try again later". */
const OVERLOADED = new Set(['SlowDown', 'ServiceUnavailable', 'RequestTimeout']);

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * The client turns the statuses it would retry (408, 429, 5xx) into a plain Error with no code
 * whose message names the status, whether retries are on or off.
 */
const RETRYABLE_STATUS = /Retryable HTTP status: (\d{3})/;

function unavailable(error: unknown): DomainError | undefined {
  const code = codeOf(error);
  if (code !== undefined && (UNREACHABLE.has(code) || OVERLOADED.has(code))) {
    return new DomainError('SERVICE_UNAVAILABLE', `The object store is unavailable (${code})`);
  }
  const status = error instanceof Error ? RETRYABLE_STATUS.exec(error.message)?.[1] : undefined;
  if (status !== undefined) return new DomainError('SERVICE_UNAVAILABLE', `The object store is unavailable (HTTP ${status})`);
  return undefined;
}

/** RFC 3986 query escaping, as the client signs it. */
const escapeQuery = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * The minio driver: any S3 server (MinIO, AWS S3, s3rver in tests) through the `minio` client. One
 * client per store, shared by every call (it holds no per-call state). Client retries are off: a
 * failed call fails at once (SERVICE_UNAVAILABLE when the store is unreachable or overloaded) and
 * the caller decides, within its own deadline.
 */
export class MinioObjectStore implements ObjectStore {
  readonly driver = 'minio';
  private readonly client: Client;
  private readonly region: string;

  constructor(config: MinioObjectStoreConfig) {
    const url = new URL(config.endpoint);
    const useSSL = url.protocol === 'https:';
    this.region = config.region;
    this.client = new Client({
      endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region,
      pathStyle: config.pathStyle,
      partSize: MINIO_PART_SIZE,
      retryOptions: { disableRetry: true },
    });
  }

  /** Run a client call; NoSuchBucket becomes NOT_FOUND, an unreachable store SERVICE_UNAVAILABLE. */
  private async call<T>(bucket: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (codeOf(error) === 'NoSuchBucket') throw bucketNotFound(bucket);
      throw unavailable(error) ?? error;
    }
  }

  async createBucket(bucket: string): Promise<void> {
    assertBucketName(bucket);
    try {
      await this.client.makeBucket(bucket, this.region);
    } catch (error) {
      const code = codeOf(error);
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw unavailable(error) ?? error;
      // Some servers answer BucketAlreadyExists for a bucket of our own: ours if we can open it.
      if (!(await this.canAccess(bucket))) throw new DomainError('CONFLICT', `Bucket ${bucket} belongs to someone else`);
    }
  }

  private async canAccess(bucket: string): Promise<boolean> {
    try {
      return await this.client.bucketExists(bucket);
    } catch (error) {
      if (codeOf(error) === 'AccessDenied') return false;
      throw unavailable(error) ?? error;
    }
  }

  async removeBucket(bucket: string): Promise<void> {
    assertBucketName(bucket);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.emptyBucket(bucket);
        await this.client.removeBucket(bucket);
        return;
      } catch (error) {
        const code = codeOf(error);
        if (code === 'NoSuchBucket' || (error instanceof DomainError && error.code === 'NOT_FOUND')) return;
        // A put landed between emptying and removing: empty again.
        if (code === 'BucketNotEmpty' && attempt < REMOVE_ATTEMPTS) continue;
        throw unavailable(error) ?? error;
      }
    }
  }

  private async emptyBucket(bucket: string): Promise<void> {
    for (;;) {
      // Always from the start: what was removed is no longer listed.
      const page = await this.listPage(bucket, '', '', REMOVE_BATCH);
      if (page.keys.length === 0) return;
      await this.removeBatch(bucket, page.keys);
    }
  }

  /**
   * One DeleteObjects request; when it fails or reports failures, the batch again one object at a
   * time (servers without DeleteObjects, or s3rver, whose parallel deletes race on empty folders).
   */
  private async removeBatch(bucket: string, keys: readonly string[]): Promise<void> {
    try {
      if ((await this.client.removeObjects(bucket, [...keys])).length === 0) return;
    } catch (error) {
      if (codeOf(error) === 'NoSuchBucket') throw error;
    }
    for (const key of keys) await this.client.removeObject(bucket, key);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    assertBucketName(bucket);
    return this.call(bucket, () => this.client.bucketExists(bucket));
  }

  async put(bucket: string, key: string, bytes: Uint8Array): Promise<void> {
    assertBucketName(bucket);
    assertObjectKey(key);
    assertObjectSize(bytes);
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    await this.call(bucket, () => this.client.putObject(bucket, key, body, body.byteLength, { 'Content-Type': 'application/octet-stream' }));
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    assertBucketName(bucket);
    assertObjectKey(key);
    try {
      return await readAll(await this.client.getObject(bucket, key));
    } catch (error) {
      throw await this.notFoundOr(bucket, key, error);
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    assertBucketName(bucket);
    assertObjectKey(key);
    try {
      const stat = await this.client.statObject(bucket, key);
      return stat.etag ? { size: stat.size, etag: stat.etag } : { size: stat.size };
    } catch (error) {
      throw await this.notFoundOr(bucket, key, error);
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    assertBucketName(bucket);
    assertObjectKey(key);
    try {
      await this.client.removeObject(bucket, key);
    } catch (error) {
      const code = codeOf(error);
      // Deleting what is not there is done, whether the object or its whole bucket is absent.
      if (code === 'NoSuchBucket' || code === 'NoSuchKey' || code === 'NotFound') return;
      throw unavailable(error) ?? error;
    }
  }

  async list(bucket: string, options: ListOptions): Promise<ListPage> {
    assertBucketName(bucket);
    const { prefix, startAfter, limit } = checkedListOptions(options);
    const page = await this.call(bucket, () => this.listPage(bucket, prefix, startAfter, limit));
    const last = page.keys[page.keys.length - 1];
    return page.isTruncated && last !== undefined ? { keys: page.keys, nextStartAfter: last } : { keys: page.keys };
  }

  /**
   * One ListObjects (V1) request: `marker` is S3's start-after, and the answer says whether more keys
   * follow. Not V2: s3rver fails (500) every truncated V2 listing on Node 17+, since it makes its
   * continuation tokens with DES, which OpenSSL 3 no longer offers. See list-xml.ts for why the
   * answer is parsed here.
   */
  private async listPage(bucket: string, prefix: string, startAfter: string, limit: number) {
    const query = [['max-keys', String(limit)], ['prefix', prefix], ...(startAfter ? [['marker', startAfter]] : [])]
      .map(([name, value]) => `${name}=${escapeQuery(value as string)}`)
      .sort()
      .join('&');
    const response = await this.client.makeRequestAsync({ method: 'GET', bucketName: bucket, query });
    return parseListBucketResult((await readAll(response)).toString('utf8'));
  }

  /** NOT_FOUND for a missing object or bucket (a HEAD answer says neither: ask), else the mapped error. */
  private async notFoundOr(bucket: string, key: string, error: unknown): Promise<unknown> {
    const code = codeOf(error);
    if (code === 'NoSuchBucket') return bucketNotFound(bucket);
    if (code === 'NoSuchKey') return objectNotFound(bucket, key);
    if (code === 'NotFound') {
      return (await this.canAccess(bucket)) ? objectNotFound(bucket, key) : bucketNotFound(bucket);
    }
    return unavailable(error) ?? error;
  }
}
