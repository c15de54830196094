/**
 * A publish in flight when the NATS connection drops fails at once, not after its 5 s timeout: the
 * outbox relay then publishes again on the new connection (the stream drops the duplicate by its id).
 * On a nats-server of this file's own, frozen (SIGSTOP) so the publish stays unanswered, then killed.
 */
import { type CloudEvent } from '@sealbox/contracts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamPublisher } from './jetstream.js';

let server: ChildProcess | undefined;
let dir: string;
let url: string;
let publisher: JetStreamPublisher | undefined;

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  return typeof address === 'object' && address ? address.port : 0;
}

const event = (): CloudEvent => ({
  specversion: '1.0',
  id: randomUUID(),
  source: '/sealbox/test',
  type: 'com.sealbox.test.happened',
  time: '2026-01-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data: { n: 1 },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-stream-drop-'));
  const port = await freePort();
  url = `nats://127.0.0.1:${port}`;
  server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  publisher = new JetStreamPublisher({ servers: [url] }, 'drop-test', pino({ level: 'silent' }));
  for (let attempt = 0; ; attempt++) {
    try {
      await publisher.publish('events.test.drop', event());
      break;
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});

afterAll(async () => {
  await publisher?.close().catch(() => undefined);
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGKILL');
    await once(server, 'exit');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('a publish in flight when the NATS connection drops', () => {
  it('fails at once, well before its 5 s timeout', async () => {
    server?.kill('SIGSTOP');
    const started = Date.now();
    const inFlight = publisher?.publish('events.test.drop', event()).then(
      () => 'published',
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    server?.kill('SIGKILL');
    const outcome = await inFlight;
    expect(outcome).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(2500);
  }, 15_000);
});
