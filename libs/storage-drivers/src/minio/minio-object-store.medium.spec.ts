import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketNameFor } from '../bucket-names.js';
import { createObjectStore } from '../create-object-store.js';
import { describeObjectStoreConformance, storeErrorOf } from '../testing/object-store-conformance.js';
import { startS3rver, type RunningS3rver } from '../testing/s3rver.js';
import { MinioObjectStore } from './minio-object-store.js';

describeObjectStoreConformance('minio on s3rver', async () => {
  const s3 = await startS3rver();
  return { store: createObjectStore(s3.config), cleanup: () => s3.stop() };
});

const BUCKET = bucketNameFor('0d7e6c52-95a4-4f0e-9d3b-6a1f2e3c4d5e');

describe('minio driver', () => {
  let s3: RunningS3rver;

  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('answers SERVICE_UNAVAILABLE when nothing listens at the endpoint', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const store = new MinioObjectStore({ ...s3.config, endpoint: `http://127.0.0.1:${closed}` });
    const calls = [
      () => store.bucketExists(BUCKET),
      () => store.createBucket(BUCKET),
      () => store.removeBucket(BUCKET),
      () => store.put(BUCKET, 'k', Buffer.from('v')),
      () => store.get(BUCKET, 'k'),
      () => store.head(BUCKET, 'k'),
      () => store.delete(BUCKET, 'k'),
      () => store.list(BUCKET, { limit: 1 }),
    ];
    for (const call of calls) {
      const error = await storeErrorOf(call());
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).not.toContain('127.0.0.1');
    }
  });

  it('answers SERVICE_UNAVAILABLE when the server is overloaded (503), without retrying', async () => {
    let requests = 0;
    const server: Server = createServer((_request, response) => {
      requests++;
      response.writeHead(503, { 'content-type': 'application/xml' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const store = new MinioObjectStore({ ...s3.config, endpoint: `http://127.0.0.1:${port}` });
      const error = await storeErrorOf(store.bucketExists(BUCKET));
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toContain('HTTP 503');
      expect(requests).toBe(1);
      expect((await storeErrorOf(store.list(BUCKET, { limit: 1 }))).code).toBe('SERVICE_UNAVAILABLE');
      expect(requests).toBe(2);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('stores objects under their key as is, so other S3 tools see the same names', async () => {
    const store = new MinioObjectStore(s3.config);
    const bucket = bucketNameFor('1d7e6c52-95a4-4f0e-9d3b-6a1f2e3c4d5e');
    await store.createBucket(bucket);
    try {
      await store.put(bucket, 'secrets/s1/versions/v1', Buffer.from('envelope'));
      const response = await fetch(`${s3.config.endpoint}/${bucket}/secrets/s1/versions/v1`);
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('envelope');
      expect((await store.head(bucket, 'secrets/s1/versions/v1')).etag).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await store.removeBucket(bucket);
    }
  });
});
