import type { CloudEvent } from '@sealbox/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { RecentEventsFeed, type FedEvent } from './feed.js';
import { InProcessEventBus } from './publisher.js';

const event = (n: number): CloudEvent => ({
  specversion: '1.0',
  id: `id-${n}`,
  source: '/sealbox/test',
  type: 'com.sealbox.test.happened',
  time: '2026-01-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data: { n },
});

const stops: AbortController[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop.abort()));

async function open(feed: RecentEventsFeed, after?: string) {
  const stop = new AbortController();
  stops.push(stop);
  const iterator = (await feed.open({ ...(after !== undefined ? { after } : {}), signal: stop.signal }))[Symbol.asyncIterator]();
  return { next: async (): Promise<FedEvent> => (await iterator.next()).value as FedEvent, stop };
}

const numbers = (events: readonly FedEvent[]) => events.map((fed) => (fed.event.data as { n: number }).n);

describe('RecentEventsFeed (standalone)', () => {
  it('delivers only events published after open, in order, each with a cursor', async () => {
    const bus = new InProcessEventBus();
    const feed = new RecentEventsFeed(bus);
    await bus.publish('events.test.a', event(0));
    await new Promise((resolve) => setImmediate(resolve));
    const follower = await open(feed);
    for (const n of [1, 2]) await bus.publish('events.test.a', event(n));
    const got = [await follower.next(), await follower.next()];
    expect(numbers(got)).toEqual([1, 2]);
    expect(got[0]?.subject).toBe('events.test.a');
    expect(new Set(got.map((fed) => fed.cursor)).size).toBe(2);
  });

  it('resumes after a cursor; an unknown cursor (another run) starts at the oldest event kept', async () => {
    const bus = new InProcessEventBus();
    const feed = new RecentEventsFeed(bus, 3);
    const follower = await open(feed);
    for (const n of [1, 2, 3]) await bus.publish('events.test.a', event(n));
    const [first] = [await follower.next()];
    const resumed = await open(feed, first?.cursor);
    expect(numbers([await resumed.next(), await resumed.next()])).toEqual([2, 3]);
    const unknown = await open(feed, 'other-run-42');
    expect(numbers([await unknown.next()])).toEqual([1]);
  });

  it('keeps at most capacity (plus a trimming margin) events: a follower far behind goes on from the oldest kept', async () => {
    const bus = new InProcessEventBus();
    const feed = new RecentEventsFeed(bus, 10);
    const behind = await open(feed);
    for (let n = 1; n <= 2000; n++) await bus.publish('events.test.a', event(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = await behind.next();
    expect((next.event.data as { n: number }).n).toBeGreaterThan(900);
  });

  it('ends a follower when its signal aborts, and every follower on close', async () => {
    const bus = new InProcessEventBus();
    const feed = new RecentEventsFeed(bus);
    const follower = await open(feed);
    const pending = follower.next();
    follower.stop.abort();
    await expect(pending).resolves.toBeUndefined();
    const other = await open(feed);
    const waiting = other.next();
    await feed.close();
    await expect(waiting).resolves.toBeUndefined();
  });
});
