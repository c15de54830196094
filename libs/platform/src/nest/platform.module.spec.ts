import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { InProcessEventBus } from '../events/publisher.js';
import { RpcClient, type RpcClientProxy } from '../rpc/client.js';
import { Clock, ManualClock, SystemClock } from '../time/clock.js';
import { PlatformModule, type PlatformOptions } from './platform.module.js';
import { EVENT_PUBLISHER, EVENT_SUBSCRIBER, LOGGER } from './tokens.js';

/** A client transport that records being closed; answers nothing. */
class FakeProxy implements RpcClientProxy {
  closed = 0;
  request(): Promise<Uint8Array> {
    return new Promise(() => undefined);
  }
  close(): void {
    this.closed++;
  }
}

async function contextWith(options: Partial<PlatformOptions> & { clientProxy: RpcClientProxy }) {
  @Module({
    imports: [
      PlatformModule.forRoot({
        logger: pino({ level: 'silent' }),
        rpcTimeoutMs: 100,
        eventPublisher: new InProcessEventBus(),
        ...options,
      }),
    ],
  })
  class RootModule {}
  return NestFactory.createApplicationContext(RootModule, { logger: false, abortOnError: false });
}

describe('PlatformModule.forRoot', () => {
  it('provides the logger, event ports, a system clock by default and the RPC client', async () => {
    const logger = pino({ level: 'silent' });
    const bus = new InProcessEventBus();
    const proxy = new FakeProxy();
    const app = await contextWith({ logger, clientProxy: proxy, eventPublisher: bus, eventSubscriber: bus });
    try {
      expect(app.get(LOGGER)).toBe(logger);
      expect(app.get(EVENT_PUBLISHER)).toBe(bus);
      expect(app.get(EVENT_SUBSCRIBER)).toBe(bus);
      expect(app.get(Clock)).toBeInstanceOf(SystemClock);
      expect(app.get(RpcClient)).toBeInstanceOf(RpcClient);
    } finally {
      await app.close();
    }
  });

  it('uses the given clock, and null for an absent event subscriber', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const app = await contextWith({ clientProxy: new FakeProxy(), clock });
    try {
      expect(app.get(Clock)).toBe(clock);
      expect(app.get(EVENT_SUBSCRIBER)).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('applies the RPC deadline: a service that never answers is SERVICE_UNAVAILABLE after rpcTimeoutMs', async () => {
    const app = await contextWith({ clientProxy: new FakeProxy(), rpcTimeoutMs: 50 });
    try {
      await expect(app.get(RpcClient).send('kms.health', {})).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The kms service did not answer within 50 ms',
      });
    } finally {
      await app.close();
    }
  });

  it('closes the client proxy when the application shuts down', async () => {
    const proxy = new FakeProxy();
    const app = await contextWith({ clientProxy: proxy });
    expect(proxy.closed).toBe(0);
    await app.close();
    expect(proxy.closed).toBe(1);
  });
});
