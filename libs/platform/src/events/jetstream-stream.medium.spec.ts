/**
 * The events stream's settings, reconciled at start, on a NATS server of this file's own (the
 * machine's shared stream is left alone).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '@sealbox/contracts';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENTS_STREAM, ensureEventsStream, replicasFor, StreamSettingsError } from './jetstream.js';

let server: ChildProcess;
let nc: NatsConnection;
let dir: string;

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-stream-'));
  const port = await freePort();
  server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    try {
      nc = await connect({ servers: [`nats://127.0.0.1:${port}`], reconnect: false, timeout: 1000 });
      break;
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});

afterAll(async () => {
  await nc?.close();
  server?.kill();
  if (server) await once(server, 'exit');
  rmSync(dir, { recursive: true, force: true });
});

describe('the events stream settings', () => {
  it('picks 3 replicas on a cluster of 3 or more servers, 1 on fewer, or what is configured', () => {
    expect(replicasFor({ replicas: 'auto' }, 1)).toBe(1);
    expect(replicasFor({ replicas: 'auto' }, 2)).toBe(1);
    expect(replicasFor({ replicas: 'auto' }, 3)).toBe(3);
    expect(replicasFor({ replicas: 'auto' }, 5)).toBe(3);
    expect(replicasFor({ replicas: 2 }, 5)).toBe(2);
  });

  it('creates the stream with the settings, and updates an existing one to changed settings at the next start', async () => {
    await ensureEventsStream(nc, DEFAULT_EVENTS_STREAM);
    const manager = await jetstreamManager(nc);
    const created = (await manager.streams.info(EVENTS_STREAM)).config;
    expect([created.num_replicas, created.max_age, created.max_bytes, created.duplicate_window, created.storage]).toEqual([1, 0, -1, nanos(120_000), 'file']);

    await ensureEventsStream(nc, { ...DEFAULT_EVENTS_STREAM, maxAgeMs: 3_600_000, maxBytes: 1_000_000, duplicateWindowMs: 60_000 });
    const updated = (await manager.streams.info(EVENTS_STREAM)).config;
    expect([updated.max_age, updated.max_bytes, updated.duplicate_window]).toEqual([nanos(3_600_000), 1_000_000, nanos(60_000)]);
    expect(updated.subjects).toEqual(['events.>']);
  });

  it('refuses to start with a storage type the stream cannot change to, naming both and the fix', async () => {
    const error = await ensureEventsStream(nc, { ...DEFAULT_EVENTS_STREAM, storage: 'memory' }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(StreamSettingsError);
    expect((error as StreamSettingsError).problem).toContain('stored in file, the configuration asks for memory');
    expect((error as StreamSettingsError).fix).toBe('set SEALBOX_EVENTS_STREAM_STORAGE=file, or move the events to a new stream first');
  });
});

describe('the events stream on a 3-node cluster', () => {
  it('creates the stream with 3 replicas (auto) once the cluster has formed', { timeout: 60_000 }, async () => {
    const base = mkdtempSync(join(tmpdir(), 'sealbox-cluster-'));
    const [clientPorts, routePorts] = [await Promise.all([freePort(), freePort(), freePort()]), await Promise.all([freePort(), freePort(), freePort()])];
    const nodes: ChildProcess[] = [];
    let first: NatsConnection | undefined;
    try {
      for (let index = 0; index < 3; index++) {
        const config = {
          server_name: `n${index + 1}`,
          listen: `127.0.0.1:${clientPorts[index]}`,
          jetstream: { store_dir: join(base, `n${index + 1}`) },
          cluster: { name: 'sealbox-test', listen: `127.0.0.1:${routePorts[index]}`, routes: routePorts.map((port) => `nats-route://127.0.0.1:${port}`) },
        };
        const file = join(base, `n${index + 1}.json`);
        writeFileSync(file, JSON.stringify(config));
        nodes.push(spawn('nats-server', ['-c', file], { stdio: 'ignore' }));
      }
      const servers = clientPorts.map((port) => `nats://127.0.0.1:${port}`);
      for (let attempt = 0; ; attempt++) {
        try {
          first = await connect({ servers: [servers[0] as string], reconnect: false, timeout: 1000 });
          // The cluster has formed when the server knows all three client URLs, and JetStream answers.
          if (new Set(first.info?.connect_urls ?? []).size >= 3) {
            await ensureEventsStream(first, DEFAULT_EVENTS_STREAM);
            break;
          }
          await first.close();
        } catch (error) {
          await first?.close().catch(() => undefined);
          if (attempt > 100) throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const manager = await jetstreamManager(first);
      const info = await manager.streams.info(EVENTS_STREAM);
      expect(info.config.num_replicas).toBe(3);
      expect(1 + (info.cluster?.replicas?.length ?? 0)).toBe(3);
    } finally {
      await first?.close().catch(() => undefined);
      for (const node of nodes) node.kill();
      await Promise.all(nodes.map((node) => (node.exitCode === null ? once(node, 'exit') : undefined)));
      rmSync(base, { recursive: true, force: true });
    }
  });
});
