/**
 * `events tail` on the NATS at 127.0.0.1:4222 (JetStream): the ordered consumer of the SEALBOX_EVENTS
 * stream. Test events go to a subject of their own under `events.` and are purged afterwards.
 */
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX } from '@sealbox/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '../cli.js';
import { ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { natsEventSource } from './nats-source.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const topic = `test.${randomBytes(6).toString('hex')}`;
let nc: NatsConnection;
let jsm: JetStreamManager;

const cloudEvent = (name: string) => ({
  specversion: '1.0',
  id: randomUUID(),
  source: '/sealbox/test',
  type: `com.sealbox.${topic}.${name}`,
  time: '2027-01-15T08:00:00.000Z',
  datacontenttype: 'application/json',
  data: { name },
});

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
  // The stream every service creates at start (platform's ensureEventsStream), if no service ran here yet.
  await jsm.streams.info(EVENTS_STREAM).catch(() => jsm.streams.add({ name: EVENTS_STREAM, subjects: [`${EVENTS_SUBJECT_PREFIX}.>`], duplicate_window: nanos(120_000) }));
});

afterAll(async () => {
  await jsm?.streams.purge(EVENTS_STREAM, { filter: `${EVENTS_SUBJECT_PREFIX}.${topic}.>` }).catch(() => undefined);
  await nc?.close();
});

/** Runs `sealbox events tail …`; `whenReady` runs once the consumer exists. */
async function tail(argv: readonly string[], whenReady: () => Promise<void>, signal?: AbortSignal) {
  let stdout = '';
  let stderr = '';
  let ready: Promise<void> | undefined;
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: {
      write: (text: string) => {
        stderr += text;
        if (text.startsWith('Following')) ready = whenReady();
      },
    },
    env: {},
    homedir: '/nonexistent',
    fetch: globalThis.fetch,
    nowMs: () => Date.now(),
    sleep: async () => undefined,
    pollIntervalMs: 1,
    events: natsEventSource,
    ...(signal ? { signal } : {}),
  };
  const code = await run(['events', 'tail', ...argv, '--nats', NATS_URL], io);
  await ready;
  return { code, stdout, stderr };
}

it('follows new events of the --type filter in stream order, as JSON lines, and stops after --count', async () => {
  const js = jetstream(nc);
  // Stored before the tail starts: not shown (new events only).
  await js.publish(`${EVENTS_SUBJECT_PREFIX}.${topic}.before`, JSON.stringify(cloudEvent('before')));
  const sent = [cloudEvent('one'), cloudEvent('other'), cloudEvent('two')];
  const result = await tail(['--type', `${topic}.*`, '--count', '2', '--output', 'json'], async () => {
    await js.publish(`${EVENTS_SUBJECT_PREFIX}.${topic}.one`, JSON.stringify(sent[0]));
    await js.publish(`${EVENTS_SUBJECT_PREFIX}.unrelated-${topic}`, JSON.stringify(sent[1]));
    await js.publish(`${EVENTS_SUBJECT_PREFIX}.${topic}.two`, JSON.stringify(sent[2]));
  });

  expect(result.code).toBe(ExitCode.OK);
  expect(result.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([sent[0], sent[2]]);
  await jsm.streams.purge(EVENTS_STREAM, { filter: `${EVENTS_SUBJECT_PREFIX}.unrelated-${topic}` });
});

it('--from-start replays what the stream holds; Ctrl-C (the abort signal) ends the tail with exit 0', async () => {
  const interrupt = new AbortController();
  const result = await tail(['--type', `${topic}.>`, '--from-start'], async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    interrupt.abort();
  }, interrupt.signal);

  expect(result.code).toBe(ExitCode.OK);
  expect(result.stdout).toContain(`${topic}.before  {"name":"before"}`);
});

it('a NATS that does not answer exits 5', async () => {
  const unreachable = await run(['events', 'tail', '--nats', 'nats://127.0.0.1:1', '--count', '1'], {
    stdout: { write: () => true },
    stderr: { write: () => true },
    env: {},
    homedir: '/nonexistent',
    fetch: globalThis.fetch,
    nowMs: () => Date.now(),
    sleep: async () => undefined,
    pollIntervalMs: 1,
    events: natsEventSource,
  });
  expect(unreachable).toBe(ExitCode.UNREACHABLE);
});
