/**
 * NatsEventSubscriber.onResume on the NATS at 127.0.0.1:4222, reached through a local TCP proxy the
 * test can cut (so a reconnect happens without touching the shared server).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { CloudEvent } from '@sealbox/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsEventSubscriber } from './nats-subscriber.js';

const UPSTREAM = { host: '127.0.0.1', port: 4222 };
const subject = `events.test.${randomBytes(6).toString('hex')}`;

const event = (id: string): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/sealbox/test',
  type: 'com.sealbox.test.happened',
  time: '2026-01-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data: {},
});

/** A TCP proxy to NATS whose open connections can be cut (the client then reconnects through it). */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<CuttableProxy> {
    const server = createServer();
    const proxy = new CuttableProxy(server);
    server.on('connection', (client) => {
      const upstream = createConnection(UPSTREAM);
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on('close', () => proxy.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `nats://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Resolves on the next call of the returned listener. */
function nextCall(): { listener: () => void; called: Promise<void> } {
  let resolve: () => void = () => undefined;
  const called = new Promise<void>((done) => (resolve = done));
  return { listener: () => resolve(), called };
}

let publisher: NatsConnection;
let proxy: CuttableProxy;

beforeAll(async () => {
  publisher = await connect({ servers: [`nats://${UPSTREAM.host}:${UPSTREAM.port}`] });
  proxy = await CuttableProxy.start();
});

afterAll(async () => {
  await publisher?.close();
  await proxy?.close();
});

describe('NatsEventSubscriber: resume', () => {
  it('says when a subscription is in place and again after a reconnect; events published after either arrive', async () => {
    const subscriber = new NatsEventSubscriber({ servers: [proxy.url] }, 'resume-test', pino({ level: 'silent' }));
    const received: string[] = [];
    let first = nextCall();
    subscriber.onResume(() => first.listener());
    const waiting = new Map<string, () => void>();
    const arrived = (id: string) => new Promise<void>((resolve) => waiting.set(id, resolve));
    try {
      subscriber.subscribe(`${subject}.>`, (_subject, delivered) => {
        received.push(delivered.id);
        waiting.get(delivered.id)?.();
      });
      // In place: nothing published from now on is missed (no warm-up needed).
      await first.called;
      const before = randomUUID();
      const beforeArrived = arrived(before);
      publisher.publish(`${subject}.a`, JSON.stringify(event(before)));
      await beforeArrived;

      // The connection is cut: the client reconnects by itself and says so; events flow again.
      first = nextCall();
      proxy.cut();
      await first.called;
      const after = randomUUID();
      const afterArrived = arrived(after);
      publisher.publish(`${subject}.a`, JSON.stringify(event(after)));
      await afterArrived;
      expect(received).toEqual([before, after]);
    } finally {
      await subscriber.close();
    }
  });
});
