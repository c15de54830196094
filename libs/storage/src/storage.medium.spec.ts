/**
 * apps/storage's composition on a real S3 server: the module built from the app configuration
 * (SEALBOX_S3_* → the minio driver) on s3rver, called through the in-process transport.
 */
import 'reflect-metadata';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DomainError, InProcessBus, InProcessClient, InProcessServer, loadConfig, PlatformModule, RpcClient } from '@sealbox/platform';
import { bucketNameFor } from '@sealbox/storage-drivers';
import { startS3rver, type RunningS3rver } from '@sealbox/storage-drivers/testing';
import { Client } from 'minio';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageAppConfig, storageOptionsFrom } from './config.js';
import { StorageModule } from './storage.module.js';

const GUID = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';

async function wireError(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('StorageModule on s3rver (minio driver from the app configuration)', () => {
  let s3: RunningS3rver;
  let app: INestMicroservice;
  let client: RpcClient;

  beforeAll(async () => {
    s3 = await startS3rver();
    const config = loadConfig(StorageAppConfig, {
      SEALBOX_S3_ENDPOINT: s3.config.endpoint,
      SEALBOX_S3_ACCESS_KEY: s3.config.accessKey,
      SEALBOX_S3_SECRET_KEY: s3.config.secretKey,
    });
    const bus = new InProcessBus();
    @Module({
      imports: [
        PlatformModule.forRoot({
          logger: pino({ level: 'silent' }),
          clientProxy: new InProcessClient(bus),
          rpcTimeoutMs: 10_000,
          eventPublisher: { publish: async () => undefined },
        }),
        StorageModule.register(storageOptionsFrom(config)),
      ],
    })
    class RootModule {}
    app = await NestFactory.createMicroservice(RootModule, { strategy: new InProcessServer(bus), logger: false, abortOnError: false });
    await app.listen();
    client = app.get(RpcClient);
  });

  afterAll(async () => {
    await app?.close();
    await s3?.stop();
  });

  it('serves every storage subject against the S3 server', async () => {
    expect((await client.send('storage.health', {})).status).toBe('ok');
    expect(await client.send('storage.bucket.create', { instanceGuid: GUID })).toEqual({ bucket: bucketNameFor(GUID) });
    const envelope = Buffer.from(Array.from({ length: 256 }, (_, index) => 255 - index));
    await client.send('storage.object.put', { instanceGuid: GUID, key: 'secrets/s1/versions/v1', body: envelope });
    await client.send('storage.object.put', { instanceGuid: GUID, key: 'secrets/s1/versions/v2', body: Buffer.from([0, 1, 2]) });
    expect(await client.send('storage.object.get', { instanceGuid: GUID, key: 'secrets/s1/versions/v1' })).toEqual({
      body: envelope,
      size: 256,
    });
    const head = await client.send('storage.object.head', { instanceGuid: GUID, key: 'secrets/s1/versions/v2' });
    expect(head.size).toBe(3);
    expect(head.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(await client.send('storage.object.list', { instanceGuid: GUID, prefix: 'secrets/', limit: 1 })).toEqual({
      keys: ['secrets/s1/versions/v1'],
      nextStartAfter: 'secrets/s1/versions/v1',
    });
    expect(await client.send('storage.object.list', { instanceGuid: GUID, prefix: 'secrets/', startAfter: 'secrets/s1/versions/v1' })).toEqual({
      keys: ['secrets/s1/versions/v2'],
    });
    await client.send('storage.object.delete', { instanceGuid: GUID, key: 'secrets/s1/versions/v2' });
    expect((await wireError(client.send('storage.object.get', { instanceGuid: GUID, key: 'secrets/s1/versions/v2' }))).code).toBe('NOT_FOUND');

    // The bucket on the server is the derived one; removing it takes its objects along.
    const url = new URL(s3.config.endpoint);
    const direct = new Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', pathStyle: true });
    expect(await direct.bucketExists(bucketNameFor(GUID))).toBe(true);
    await client.send('storage.bucket.remove', { instanceGuid: GUID });
    expect(await direct.bucketExists(bucketNameFor(GUID))).toBe(false);
    expect((await wireError(client.send('storage.object.list', { instanceGuid: GUID }))).code).toBe('NOT_FOUND');
  });

  it('reports a degraded health and SERVICE_UNAVAILABLE once the S3 server is gone', async () => {
    await s3.stop();
    const health = await client.send('storage.health', {});
    expect(health.status).toBe('degraded');
    expect(health.checks['objectStore']?.ok).toBe(false);
    expect(health.checks['objectStore']?.detail).toMatch(/^The object store is unavailable \(E[A-Z]+\)$/);
    const error = await wireError(client.send('storage.object.get', { instanceGuid: GUID, key: 'k' }));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
  });
});
