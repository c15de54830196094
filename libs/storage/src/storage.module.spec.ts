/**
 * StorageModule as a process composes it: PlatformModule's RpcClient calling the module's handlers
 * over the in-process transport (registry schemas, JSON round trip, errors over the wire), with the
 * filesystem driver in a temp directory.
 */
import 'reflect-metadata';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { RequestOf } from '@sealbox/contracts';
import { DomainError, InProcessBus, InProcessClient, InProcessServer, PlatformModule, RpcClient } from '@sealbox/platform';
import { bucketNameFor, MAX_OBJECT_BYTES } from '@sealbox/storage-drivers';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageModule, type StorageModuleOptions } from './storage.module.js';

const GUID = '5b0e8f3c-1a2d-4e6f-9a8b-7c6d5e4f3a2b';
const OTHER_GUID = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(objectStore?: StorageModuleOptions['objectStore']) {
  const root = await mkdtemp(join(tmpdir(), 'sealbox-storage-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const bus = new InProcessBus();
  @Module({
    imports: [
      PlatformModule.forRoot({
        logger: pino({ level: 'silent' }),
        clientProxy: new InProcessClient(bus),
        rpcTimeoutMs: 10_000,
        eventPublisher: { publish: async () => undefined },
      }),
      StorageModule.register({ objectStore: objectStore ?? { driver: 'filesystem', root: join(root, 'objects') } }),
    ],
  })
  class RootModule {}
  const app: INestMicroservice = await NestFactory.createMicroservice(RootModule, {
    strategy: new InProcessServer(bus),
    logger: false,
    abortOnError: false,
  });
  await app.listen();
  cleanups.push(() => app.close());
  const client = app.get(RpcClient);
  const put = (key: string, body: Buffer, guid = GUID) => client.send('storage.object.put', { instanceGuid: guid, key, body });
  const get = async (key: string, guid = GUID) => {
    const response = await client.send('storage.object.get', { instanceGuid: guid, key });
    return Buffer.from(response.body);
  };
  return { client, root: join(root, 'objects'), put, get };
}

async function wireError(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('StorageModule over the in-process transport (filesystem driver)', () => {
  it('creates the instance bucket under a name it derives from the GUID, idempotently', async () => {
    const { client, root } = await start();
    expect(await client.send('storage.bucket.create', { instanceGuid: GUID })).toEqual({ bucket: bucketNameFor(GUID) });
    expect(await client.send('storage.bucket.create', { instanceGuid: GUID.toUpperCase() })).toEqual({ bucket: bucketNameFor(GUID) });
    expect(await readdir(root)).toEqual(['sbx-5b0e8f3c1a2d4e6f9a8b7c6d5e4f3a2b']);
  });

  it('puts, gets, heads, lists and deletes objects, byte for byte', async () => {
    const { client, put, get } = await start();
    await client.send('storage.bucket.create', { instanceGuid: GUID });
    const envelope = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
    await put('secrets/s1/versions/v1', envelope);
    await put('secrets/s1/versions/v2', Buffer.alloc(0));
    expect(await get('secrets/s1/versions/v1')).toEqual(envelope);
    const empty = await client.send('storage.object.get', { instanceGuid: GUID, key: 'secrets/s1/versions/v2' });
    expect(empty.size).toBe(0);
    expect(empty.body).toHaveLength(0);
    expect(await client.send('storage.object.head', { instanceGuid: GUID, key: 'secrets/s1/versions/v1' })).toEqual({ size: 256 });
    expect(await client.send('storage.object.list', { instanceGuid: GUID, prefix: 'secrets/s1/' })).toEqual({
      keys: ['secrets/s1/versions/v1', 'secrets/s1/versions/v2'],
    });
    expect(await client.send('storage.object.delete', { instanceGuid: GUID, key: 'secrets/s1/versions/v1' })).toEqual({});
    expect(await client.send('storage.object.delete', { instanceGuid: GUID, key: 'secrets/s1/versions/v1' })).toEqual({});
    expect((await wireError(get('secrets/s1/versions/v1'))).code).toBe('NOT_FOUND');
  });

  it('takes the largest body the contract allows', async () => {
    const { client, put, get } = await start();
    await client.send('storage.bucket.create', { instanceGuid: GUID });
    const largest = Buffer.alloc(MAX_OBJECT_BYTES, 0xa5);
    await put('large', largest);
    expect((await get('large')).equals(largest)).toBe(true);
  });

  it('pages a listing: 250 keys in pages of 100, each once, in order', async () => {
    const { client, put } = await start();
    await client.send('storage.bucket.create', { instanceGuid: GUID });
    const keys = Array.from({ length: 250 }, (_, index) => `page/${String(index).padStart(3, '0')}`);
    for (const key of [...keys].reverse()) await put(key, Buffer.from(key));
    const seen: string[] = [];
    const sizes: number[] = [];
    let request: RequestOf<'storage.object.list'> = { instanceGuid: GUID, prefix: 'page/', limit: 100 };
    for (;;) {
      const page = await client.send('storage.object.list', request);
      seen.push(...page.keys);
      sizes.push(page.keys.length);
      if (page.nextStartAfter === undefined) break;
      request = { ...request, startAfter: page.nextStartAfter };
    }
    expect(sizes).toEqual([100, 100, 50]);
    expect(seen).toEqual(keys);
  });

  it('keeps instances apart and removes a bucket with its objects', async () => {
    const { client, put, get, root } = await start();
    await client.send('storage.bucket.create', { instanceGuid: GUID });
    await client.send('storage.bucket.create', { instanceGuid: OTHER_GUID });
    await put('same/key', Buffer.from('mine'));
    await put('same/key', Buffer.from('theirs'), OTHER_GUID);
    expect((await get('same/key')).toString()).toBe('mine');
    expect((await get('same/key', OTHER_GUID)).toString()).toBe('theirs');
    expect(await client.send('storage.bucket.remove', { instanceGuid: GUID })).toEqual({});
    expect(await client.send('storage.bucket.remove', { instanceGuid: GUID })).toEqual({});
    expect(await readdir(root)).toEqual([bucketNameFor(OTHER_GUID)]);
    expect((await wireError(get('same/key'))).code).toBe('NOT_FOUND');
    expect((await get('same/key', OTHER_GUID)).toString()).toBe('theirs');
  });

  it('answers NOT_FOUND for an instance without a bucket, and never creates one on put', async () => {
    const { client, put, root } = await start();
    await client.send('storage.bucket.create', { instanceGuid: OTHER_GUID });
    for (const call of [
      () => put('k', Buffer.from('v')),
      () => client.send('storage.object.get', { instanceGuid: GUID, key: 'k' }),
      () => client.send('storage.object.head', { instanceGuid: GUID, key: 'k' }),
      () => client.send('storage.object.list', { instanceGuid: GUID }),
    ]) {
      const error = await wireError(call());
      expect(error.code).toBe('NOT_FOUND');
    }
    expect(await readdir(root)).toEqual([bucketNameFor(OTHER_GUID)]);
  });

  it.each([
    ['storage.bucket.create', 'a malformed GUID', { instanceGuid: 'not-a-guid' }, 'instanceGuid'],
    ['storage.bucket.create', 'a bucket named by the caller', { instanceGuid: GUID, bucket: 'sbx-chosen-by-caller' }, 'bucket'],
    ['storage.bucket.remove', 'no instance', {}, 'instanceGuid'],
    ['storage.object.put', 'a key with a .. segment', { instanceGuid: GUID, key: 'a/../b', body: Buffer.alloc(0) }, 'key'],
    ['storage.object.put', 'a body that is not bytes', { instanceGuid: GUID, key: 'k', body: 'bm90IGJ5dGVz' }, 'body'],
    ['storage.object.put', 'unpadded base64', { instanceGuid: GUID, key: 'k', body: 'QQ' }, 'body'],
    ['storage.object.put', 'a body over 2 MiB', { instanceGuid: GUID, key: 'k', body: 'A'.repeat(Math.ceil(MAX_OBJECT_BYTES / 3) * 4 + 4) }, 'body'],
    ['storage.object.put', 'a body of 2 MiB and 1 byte', { instanceGuid: GUID, key: 'k', body: Buffer.alloc(MAX_OBJECT_BYTES + 1).toString('base64') }, 'body'],
    ['storage.object.put', 'no body', { instanceGuid: GUID, key: 'k' }, 'body'],
    ['storage.object.get', 'a key with a leading slash', { instanceGuid: GUID, key: '/etc/passwd' }, 'key'],
    ['storage.object.head', 'an empty key', { instanceGuid: GUID, key: '' }, 'key'],
    ['storage.object.delete', 'a key with a control character', { instanceGuid: GUID, key: 'a\u0000' }, 'key'],
    ['storage.object.list', 'a limit of 0', { instanceGuid: GUID, limit: 0 }, 'limit'],
    ['storage.object.list', 'a limit over 1000', { instanceGuid: GUID, limit: 1001 }, 'limit'],
    ['storage.object.list', 'a prefix with a newline', { instanceGuid: GUID, prefix: 'p\n' }, 'prefix'],
    ['storage.object.list', 'a startAfter that is no string', { instanceGuid: GUID, startAfter: 7 }, 'startAfter'],
  ] as const)('%s refuses %s with VALIDATION_FAILED naming %s', async (subject, _label, payload, field) => {
    const { client } = await start();
    await client.send('storage.bucket.create', { instanceGuid: GUID });
    const error = await wireError(client.send(subject, payload as never));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields?.map((issue) => issue.field)).toEqual([field]);
  });

  it('reports the object store in its health: ok, then degraded when the root is broken', async () => {
    const { client } = await start();
    const healthy = await client.send('storage.health', {});
    expect(healthy.status).toBe('ok');
    expect(healthy.checks['objectStore']).toEqual({ ok: true });

    const blocked = join(await mkdtemp(join(tmpdir(), 'sealbox-storage-')), 'not-a-folder');
    cleanups.push(() => rm(join(blocked, '..'), { recursive: true, force: true }));
    await writeFile(blocked, 'a file where the root folder should be');
    const broken = await start({ driver: 'filesystem', root: blocked });
    const degraded = await broken.client.send('storage.health', {});
    expect(degraded.status).toBe('degraded');
    expect(degraded.checks['objectStore']?.ok).toBe(false);
  });
});
