/**
 * JetStream on the NATS at 127.0.0.1:4222. Test events go to a subject of their own under `events.`
 * (captured by the SEALBOX_EVENTS stream) and are deleted from the stream afterwards.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { CloudEvent, EVENTS_STREAM } from '@sealbox/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEventsStream, JetStreamPublisher } from './jetstream.js';
import { NatsEventSubscriber } from './nats-subscriber.js';

const NATS = { servers: ['nats://127.0.0.1:4222'] };
const quiet = pino({ level: 'silent' });

let nc: NatsConnection;
let jsm: JetStreamManager;
const subject = `events.test.${randomBytes(6).toString('hex')}`;

const event = (id: string = randomUUID(), data: unknown = { n: 1 }): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/sealbox/test',
  type: 'com.sealbox.test.happened',
  time: '2026-01-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data,
});

/** Every message stored on the test subject so far, in stream order. */
async function storedOnSubject(): Promise<{ seq: number; msgId: string | undefined; event: CloudEvent }[]> {
  // An ephemeral pull consumer on the test subject (`filter_subject`: the server here is 2.9).
  const created = await jsm.consumers.add(EVENTS_STREAM, {
    filter_subject: subject,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    inactive_threshold: nanos(30_000),
  });
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, created.name);
  const pending = created.num_pending;
  const stored: { seq: number; msgId: string | undefined; event: CloudEvent }[] = [];
  if (pending > 0) {
    const messages = await consumer.fetch({ max_messages: pending, expires: 5000 });
    for await (const message of messages) {
      stored.push({ seq: message.seq, msgId: message.headers?.get('Nats-Msg-Id'), event: CloudEvent.parse(message.json()) });
      if (stored.length === pending) break;
    }
  }
  await consumer.delete().catch(() => undefined);
  return stored;
}

beforeAll(async () => {
  nc = await connect(NATS);
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  // Leave no test event in the shared stream.
  for (const filter of [subject, `${subject}.>`]) await jsm?.streams.purge(EVENTS_STREAM, { filter }).catch(() => undefined);
  await nc?.close();
});

describe('ensureEventsStream', () => {
  it('creates SEALBOX_EVENTS over events.> with a duplicate window, and is safe to call concurrently', async () => {
    await Promise.all([ensureEventsStream(nc), ensureEventsStream(nc), ensureEventsStream(nc)]);
    const info = await jsm.streams.info(EVENTS_STREAM);
    expect(info.config.subjects).toContain('events.>');
    expect(info.config.duplicate_window).toBeGreaterThanOrEqual(nanos(60_000));
  });
});

describe('JetStreamPublisher', () => {
  it('stores the CloudEvent in the stream with its id as the message id; a consumer reads it back unchanged', async () => {
    const publisher = new JetStreamPublisher(NATS, 'platform-test', quiet);
    try {
      const sent = event(randomUUID(), { accountId: 'a1', nested: { list: [1, 2] } });
      await publisher.publish(subject, sent);
      const stored = await storedOnSubject();
      expect(stored.map((entry) => entry.event)).toEqual([sent]);
      expect(stored[0]?.msgId).toBe(sent.id);
    } finally {
      await publisher.close();
    }
  });

  it('drops a republish of the same event id (an outbox retry after a crash) as a duplicate', async () => {
    const publisher = new JetStreamPublisher(NATS, 'platform-test', quiet);
    try {
      const before = (await storedOnSubject()).length;
      const first = event();
      await publisher.publish(subject, first);
      await publisher.publish(subject, first);
      await publisher.publish(subject, { ...first, data: { changed: true } });
      const second = event();
      await publisher.publish(subject, second);
      const ids = (await storedOnSubject()).slice(before).map((entry) => entry.event.id);
      expect(ids).toEqual([first.id, second.id]);
    } finally {
      await publisher.close();
    }
  });

  it('keeps the publish order of one publisher', async () => {
    const publisher = new JetStreamPublisher(NATS, 'platform-test', quiet);
    try {
      const before = (await storedOnSubject()).length;
      const sent = Array.from({ length: 20 }, () => event());
      for (const item of sent) await publisher.publish(subject, item);
      expect((await storedOnSubject()).slice(before).map((entry) => entry.event.id)).toEqual(sent.map((item) => item.id));
    } finally {
      await publisher.close();
    }
  });

  it('rejects (so the outbox keeps the row) when the broker cannot be reached, and can be closed', async () => {
    const publisher = new JetStreamPublisher({ servers: ['nats://127.0.0.1:1'] }, 'platform-test', quiet);
    await expect(publisher.publish(subject, event())).rejects.toThrow();
    await publisher.close();
  });
});

describe('NatsEventSubscriber', () => {
  it('delivers CloudEvents on matching subjects, ignores other payloads, and stops after unsubscribe', async () => {
    const subscriber = new NatsEventSubscriber(NATS, 'platform-test', quiet);
    const received: { subject: string; event: CloudEvent }[] = [];
    const markers: string[] = [];
    let changed: () => void = () => undefined;
    const until = (done: () => boolean) =>
      new Promise<void>((resolve) => {
        changed = () => done() && resolve();
        changed();
      });
    try {
      const unsubscribe = subscriber.subscribe(`${subject}.data.>`, (deliveredSubject, delivered) => {
        received.push({ subject: deliveredSubject, event: delivered });
        changed();
      });
      // A second subscription on the same connection orders the checks below: when its marker
      // arrives, everything published before it on the data subject has arrived too.
      subscriber.subscribe(`${subject}.marker`, (_subject, delivered) => {
        markers.push(delivered.id);
        changed();
      });
      // Subscriptions are set up in the background: publish markers until one arrives.
      let pumped = 0;
      const pump = async () => {
        while (markers.length === 0 && pumped < 200) {
          pumped++;
          nc.publish(`${subject}.marker`, JSON.stringify(event(`warm-up-${pumped}`)));
          await nc.flush();
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      await Promise.all([until(() => markers.length > 0), pump()]);

      const sent = event();
      nc.publish(`${subject}.data.one`, JSON.stringify(sent));
      nc.publish(`${subject}.data.one`, 'not a CloudEvent');
      nc.publish(`${subject}.elsewhere`, JSON.stringify(event()));
      nc.publish(`${subject}.marker`, JSON.stringify(event('marker-1')));
      await until(() => markers.includes('marker-1'));
      expect(received).toEqual([{ subject: `${subject}.data.one`, event: sent }]);

      unsubscribe();
      nc.publish(`${subject}.data.one`, JSON.stringify(event()));
      nc.publish(`${subject}.marker`, JSON.stringify(event('marker-2')));
      await until(() => markers.includes('marker-2'));
      expect(received).toHaveLength(1);
    } finally {
      await subscriber.close();
    }
  });
});
