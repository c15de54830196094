/**
 * CryptoModule as a process composes it: PlatformModule (RpcClient, Clock, EVENT_SUBSCRIBER) and the
 * module's handlers served on the in-process transport, next to a fake kms answering kms.key.wrap and
 * kms.key.unwrap on the same bus. Requests go through the registry schemas and errors over the wire.
 */
import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { RequestOf, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import {
  DomainError,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  ManualClock,
  PlatformModule,
  RpcClient,
  RpcHandler,
} from '@sealbox/platform';
import { pino } from 'pino';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CryptoModule, type CryptoModuleOptions } from './crypto.module.js';
import { DekCache } from './dek-cache/dek-cache.js';
import type { KmsKeyClient } from './envelope/kms-client.js';
import { cloudEvent, context, key, source } from './testing/envelope-fixture.js';
import { FAKE_DISABLED_CODE, FakeKms } from './testing/fake-kms.js';

/** Compile-time: the platform RpcClient is what the module binds to the KmsKeyClient port. */
const asKmsKeyClient = (client: RpcClient): KmsKeyClient => client;

const kms = new FakeKms();
kms.createKey(key.instanceId, key.keyId);

@Controller()
class FakeKmsController {
  @RpcHandler('kms.key.wrap')
  async wrap(request: ValidatedRequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>> {
    return kms.send('kms.key.wrap', request);
  }
  @RpcHandler('kms.key.unwrap')
  async unwrap(request: ValidatedRequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>> {
    return kms.send('kms.key.unwrap', request);
  }
}

const apps: INestMicroservice[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function start(options: { module?: CryptoModuleOptions; events?: InProcessEventBus } = {}) {
  const bus = new InProcessBus();
  const clock = new ManualClock();
  @Module({
    imports: [
      PlatformModule.forRoot({
        logger: pino({ level: 'silent' }),
        clientProxy: new InProcessClient(bus),
        rpcTimeoutMs: 5000,
        eventPublisher: new InProcessEventBus(),
        ...(options.events ? { eventSubscriber: options.events } : {}),
        clock,
      }),
      CryptoModule.register(options.module),
    ],
    controllers: [FakeKmsController],
  })
  class RootModule {}
  const app = await NestFactory.createMicroservice(RootModule, { strategy: new InProcessServer(bus), logger: false, abortOnError: false });
  apps.push(app);
  await app.listen();
  const client = app.get(RpcClient);
  const seal = (plaintext: Uint8Array, overrides: Partial<RequestOf<'crypto.envelope.seal'>> = {}) =>
    client.send('crypto.envelope.seal', { source, key, context, plaintext, ...overrides });
  const open = (envelope: Uint8Array, overrides: Partial<RequestOf<'crypto.envelope.open'>> = {}) =>
    client.send('crypto.envelope.open', { source, key, context, envelope, ...overrides });
  return { app, client, clock, seal, open };
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

describe('CryptoModule over the in-process transport', () => {
  it('binds the RpcClient as its kms client and serves seal and open', async () => {
    const { client, seal, open } = await start();
    expect(asKmsKeyClient(client)).toBe(client);
    const plaintext = randomBytes(1024);
    const sealed = await seal(plaintext);
    expect(sealed.keyVersion).toEqual({ id: 'root-1-v1' });
    const opened = await open(sealed.envelope);
    expect(Object.keys(opened)).toEqual(['plaintext']);
    expect(Buffer.from(opened.plaintext).equals(plaintext)).toBe(true);
    // What was sent is the caller's own: the service zeroed only its decoded copy.
    expect(plaintext.some((byte) => byte !== 0)).toBe(true);
  });

  it('sends ENVELOPE_INVALID and INTEGRITY_FAILED across the wire', async () => {
    const { seal, open } = await start();
    const sealed = await seal(Buffer.from('secret'));
    expect((await wireError(open(Buffer.from('garbage')))).code).toBe('ENVELOPE_INVALID');
    const other = await wireError(open(sealed.envelope, { context: { ...context, secretId: 'secret-2' } }));
    expect(other.code).toBe('INTEGRITY_FAILED');
  });

  it('validates requests against the registry: empty envelope, a payload that is not bytes, lone surrogate in the context', async () => {
    const { seal, open } = await start();
    const empty = await wireError(open(Buffer.alloc(0)));
    expect(empty.code).toBe('VALIDATION_FAILED');
    expect(empty.fields?.[0]?.field).toBe('envelope');
    const notBytes = await wireError(seal('not bytes' as unknown as Uint8Array));
    expect(notBytes.code).toBe('VALIDATION_FAILED');
    expect(notBytes.fields?.[0]?.field).toBe('plaintext');
    const lone = await wireError(seal(Buffer.of(0), { context: { ...context, versionId: 'v\uD800' } }));
    expect(lone.code).toBe('VALIDATION_FAILED');
    expect(lone.fields?.[0]?.field).toBe('context.versionId');
  });

  it('passes kms\'s disabled-key error through unchanged', async () => {
    const { seal } = await start();
    kms.disable(key.instanceId, key.keyId);
    try {
      expect((await wireError(seal(Buffer.of(0)))).code).toBe(FAKE_DISABLED_CODE);
    } finally {
      kms.enable(key.instanceId, key.keyId);
    }
  });

  it('uses the configured cache bounds and purges on events from the EVENT_SUBSCRIBER', async () => {
    const events = new InProcessEventBus();
    const { app, seal, open } = await start({ module: { dekCache: { maxEntries: 5, ttlMs: 1000, maxUses: 50 } }, events });
    const sealed = await seal(Buffer.of(0));
    const before = kms.calls.unwrap;
    await open(sealed.envelope);
    await open(sealed.envelope);
    expect(kms.calls.unwrap - before).toBe(1);
    const cache = app.get(DekCache);
    expect(cache.size).toBe(1);
    await events.publish('events.kms.key.disabled', cloudEvent('kms.key.disabled', { instanceId: key.instanceId, keyId: key.keyId }));
    await expect.poll(() => cache.size).toBe(0);
  });

  it('starts without an event subscriber (EVENT_SUBSCRIBER null) and zeroes its cache on shutdown', async () => {
    const { app, seal, open } = await start();
    const sealed = await seal(Buffer.of(0));
    await open(sealed.envelope);
    const cache = app.get(DekCache);
    expect(cache.size).toBe(1);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(cache.size).toBe(0);
  });
});
