/**
 * The JetStream event feed on the NATS at 127.0.0.1:4222, which other runs share: test events go to a
 * subject of their own under `events.` and are purged from the stream afterwards; other events seen
 * on the way are skipped.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, type CloudEvent } from '@sealbox/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FedEvent } from './feed.js';
import { JetStreamEventFeed } from './jetstream-feed.js';
import { JetStreamPublisher } from './jetstream.js';

const NATS = { servers: ['nats://127.0.0.1:4222'] };
const quiet = pino({ level: 'silent' });
const subject = `events.test.feed-${randomBytes(6).toString('hex')}`;

const event = (n: number): CloudEvent => ({
  specversion: '1.0',
  id: randomUUID(),
  source: '/sealbox/test',
  type: 'com.sealbox.test.happened',
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data: { n },
});

let nc: NatsConnection;
const publisher = new JetStreamPublisher(NATS, 'feed-test', quiet);
const feed = new JetStreamEventFeed(NATS, 'feed-test', quiet);

beforeAll(async () => {
  nc = await connect(NATS);
});
afterAll(async () => {
  await feed.close();
  await publisher.close();
  await (await jetstreamManager(nc)).streams.purge(EVENTS_STREAM, { filter: subject }).catch(() => undefined);
  await nc.close();
});

/** The next `count` events of this test's subject. */
async function take(events: AsyncIterable<FedEvent>, count: number): Promise<FedEvent[]> {
  const taken: FedEvent[] = [];
  for await (const fed of events) {
    if (fed.subject !== subject) continue;
    taken.push(fed);
    if (taken.length === count) break;
  }
  return taken;
}

describe('JetStreamEventFeed', () => {
  it('delivers events published after open, with stream sequences as cursors; resuming after one delivers the rest', async () => {
    const stop = new AbortController();
    const events = await feed.open({ signal: stop.signal });
    for (const n of [1, 2, 3]) await publisher.publish(subject, event(n));
    const first = await take(events, 3);
    stop.abort();
    expect(first.map((fed) => (fed.event.data as { n: number }).n)).toEqual([1, 2, 3]);
    expect(first.every((fed) => /^[0-9]+$/.test(fed.cursor))).toBe(true);

    const again = new AbortController();
    const resumed = await feed.open({ after: first[0]?.cursor ?? '', signal: again.signal });
    const rest = await take(resumed, 2);
    again.abort();
    expect(rest.map((fed) => (fed.event.data as { n: number }).n)).toEqual([2, 3]);
  });

  it('ends the iteration when the signal aborts', async () => {
    const stop = new AbortController();
    const events = await feed.open({ signal: stop.signal });
    setTimeout(() => stop.abort(), 200);
    const started = performance.now();
    for await (const fed of events) void fed;
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
