/**
 * A request in flight on a NATS connection that drops fails at once (`disconnected`), not at its
 * deadline, and the client's next request goes out on the connection it made to another node. Two
 * nats-server processes of this file's own, in a cluster; the one the client uses is killed.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsRpcClient } from './nats.js';
import { RpcTransportError } from './transport.js';

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  return typeof address === 'object' && address ? address.port : 0;
}

const nodes: ChildProcess[] = [];
let clientUrl = '';
let responder: NatsConnection | undefined;
let client: NatsRpcClient | undefined;

beforeAll(async () => {
  const [clientA, clientB, routeA, routeB] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const node = (client: number, route: number, other: number) =>
    spawn('nats-server', ['-a', '127.0.0.1', '-p', String(client), '--cluster_name', 'disconnect-test', '--cluster', `nats://127.0.0.1:${route}`, '--routes', `nats://127.0.0.1:${other}`], {
      stdio: 'ignore',
    });
  nodes.push(node(clientA, routeA, routeB), node(clientB, routeB, routeA));
  clientUrl = `nats://127.0.0.1:${clientA}`;
  // The responder is on node B: the node the client uses can die without it.
  for (let attempt = 0; ; attempt++) {
    try {
      responder = await connect({ servers: [`nats://127.0.0.1:${clientB}`], timeout: 1000 });
      if (new Set(responder.info?.connect_urls ?? []).size >= 2) break;
      await responder.close();
    } catch (error) {
      if (attempt > 100) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  responder.subscribe('disconnect-test.echo', {
    callback: (_error, message) => {
      message.respond(message.data);
    },
  });
  // `hang` is received and never answered: the reply can only be lost with the connection.
  responder.subscribe('disconnect-test.hang', { callback: () => undefined });
  await responder.flush();
}, 30_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await responder?.close().catch(() => undefined);
  for (const node of nodes) node.kill('SIGKILL');
  await Promise.all(nodes.map((node) => (node.exitCode === null && node.signalCode === null ? once(node, 'exit') : undefined)));
});

describe('a request in flight when the NATS connection drops', () => {
  it('fails at once as disconnected, and the next request is answered over the node the client moved to', async () => {
    // Only node A is given; the client learns node B from the cluster, as services do.
    client = new NatsRpcClient({ servers: [clientUrl] }, 'disconnect-test');
    expect(Buffer.from(await client.request('disconnect-test.echo', Buffer.from('before'), 5000)).toString()).toBe('before');

    const started = Date.now();
    const inFlight = client.request('disconnect-test.hang', Buffer.from('x'), 20_000).then(
      () => undefined,
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    nodes[0]?.kill('SIGKILL');
    const failure = await inFlight;
    const waited = Date.now() - started;
    expect(failure).toBeInstanceOf(RpcTransportError);
    expect((failure as RpcTransportError).kind).toBe('disconnected');
    // Well under the 20 s deadline: the drop itself fails it.
    expect(waited).toBeLessThan(3000);

    await expect.poll(() => client?.isConnected(), { timeout: 10_000 }).toBe(true);
    expect(Buffer.from(await client.request('disconnect-test.echo', Buffer.from('after'), 5000)).toString()).toBe('after');
  }, 30_000);
});
