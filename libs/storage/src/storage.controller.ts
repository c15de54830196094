import { Controller, Inject } from '@nestjs/common';
import type { HealthResponse, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { healthReport, RpcHandler } from '@sealbox/platform';
import { bucketNameFor, type ObjectStore } from '@sealbox/storage-drivers';
import { OBJECT_STORE } from './tokens.js';

/**
 * The bucket the health check asks about: a cheap call that needs the store reachable and the
 * credentials accepted. Never an instance's bucket (those are `sbx-` and 32 hex digits).
 */
export const HEALTH_PROBE_BUCKET = 'sbx-health-probe';

const empty = {} as const;

/**
 * The storage service: one bucket per resource instance, named from the instance GUID by the
 * service itself (callers never name buckets), holding objects under opaque keys.
 *
 * It never sees plaintext. What it stores is what callers give it: sealed envelopes, encrypted and
 * bound to their context by crypto before they get here (docs/security.md: the object store is untrusted;
 * all encryption sits in front of it). Bodies pass through as bytes and are never decoded,
 * inspected or logged.
 */
@Controller()
export class StorageRpcController {
  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  @RpcHandler('storage.health')
  async health(): Promise<HealthResponse> {
    return healthReport('storage', {
      objectStore: async () => {
        await this.store.bucketExists(HEALTH_PROBE_BUCKET);
      },
    });
  }

  @RpcHandler('storage.bucket.create')
  async createBucket(request: ValidatedRequestOf<'storage.bucket.create'>): Promise<ResponseOf<'storage.bucket.create'>> {
    const bucket = bucketNameFor(request.instanceGuid);
    await this.store.createBucket(bucket);
    return { bucket };
  }

  @RpcHandler('storage.bucket.remove')
  async removeBucket(request: ValidatedRequestOf<'storage.bucket.remove'>): Promise<ResponseOf<'storage.bucket.remove'>> {
    await this.store.removeBucket(bucketNameFor(request.instanceGuid));
    return empty;
  }

  @RpcHandler('storage.object.put')
  async put(request: ValidatedRequestOf<'storage.object.put'>): Promise<ResponseOf<'storage.object.put'>> {
    await this.store.put(bucketNameFor(request.instanceGuid), request.key, Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength));
    return empty;
  }

  @RpcHandler('storage.object.get')
  async get(request: ValidatedRequestOf<'storage.object.get'>): Promise<ResponseOf<'storage.object.get'>> {
    const bytes = await this.store.get(bucketNameFor(request.instanceGuid), request.key);
    return { body: bytes, size: bytes.length };
  }

  @RpcHandler('storage.object.head')
  async head(request: ValidatedRequestOf<'storage.object.head'>): Promise<ResponseOf<'storage.object.head'>> {
    const info = await this.store.head(bucketNameFor(request.instanceGuid), request.key);
    return info.etag === undefined ? { size: info.size } : { size: info.size, etag: info.etag };
  }

  @RpcHandler('storage.object.delete')
  async delete(request: ValidatedRequestOf<'storage.object.delete'>): Promise<ResponseOf<'storage.object.delete'>> {
    await this.store.delete(bucketNameFor(request.instanceGuid), request.key);
    return empty;
  }

  @RpcHandler('storage.object.list')
  async list(request: ValidatedRequestOf<'storage.object.list'>): Promise<ResponseOf<'storage.object.list'>> {
    const page = await this.store.list(bucketNameFor(request.instanceGuid), {
      limit: request.limit,
      ...(request.prefix !== undefined ? { prefix: request.prefix } : {}),
      ...(request.startAfter !== undefined ? { startAfter: request.startAfter } : {}),
    });
    return page.nextStartAfter === undefined ? { keys: [...page.keys] } : { keys: [...page.keys], nextStartAfter: page.nextStartAfter };
  }
}
