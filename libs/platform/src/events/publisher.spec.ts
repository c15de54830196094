import type { CloudEvent } from '@sealbox/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, rootLogger, setRootLogger } from '../logging/logger.js';
import { InProcessEventBus, subjectMatches, type EventListener } from './publisher.js';

describe('subjectMatches', () => {
  it.each([
    ['events.iam.account.created', 'events.iam.account.created', true],
    ['events.iam.account.created', 'events.iam.account.deleted', false],
    ['events.iam.account', 'events.iam.account.created', false],
    ['events.iam.account.created', 'events.iam.account', false],
    ['events.*.account.created', 'events.iam.account.created', true],
    ['events.*.apikey.created', 'events.iam.account.created', false],
    ['events.*', 'events.iam.account', false],
    ['events.*.*.*', 'events.iam.account.created', true],
    ['events.iam.>', 'events.iam.account.created', true],
    ['events.iam.>', 'events.iam.account', true],
    ['events.iam.>', 'events.iam', false],
    ['events.iam.>', 'events.kms.key.created', false],
    ['events.>', 'events.iam.signing-key.rotated', true],
    ['>', 'anything.at.all', true],
    ['*', 'one', true],
    ['*', 'one.two', false],
    ['events.*.>', 'events.iam', false],
    ['events.*.>', 'events.iam.x', true],
    ['events.ia*', 'events.iam', false],
    ['events.iam', 'events.iam.', false],
  ])('%s against %s is %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});

const event = (id: string, data: unknown = { n: 1 }): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/sealbox/iam',
  type: 'com.sealbox.iam.account.created',
  time: '2026-01-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data,
});

/** A listener that records deliveries and lets a test await the next one. */
function recorder() {
  const received: { subject: string; event: CloudEvent }[] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  const listener: EventListener = (subject, delivered) => {
    received.push({ subject, event: delivered });
    if (waiting && received.length >= waiting.count) waiting.resolve();
  };
  const until = (count: number) =>
    received.length >= count ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { count, resolve }));
  return { received, listener, until };
}

describe('InProcessEventBus', () => {
  let bus: InProcessEventBus;
  const logLines: string[] = [];
  const previousRoot = rootLogger();

  beforeEach(() => {
    bus = new InProcessEventBus();
    logLines.length = 0;
    setRootLogger(createLogger({ app: 'test', level: 'error' }, { write: (line: string) => void logLines.push(line) }));
  });

  afterEach(() => {
    setRootLogger(previousRoot);
  });

  it('delivers to the listeners whose pattern matches, with the subject', async () => {
    const all = recorder();
    const iam = recorder();
    const kms = recorder();
    bus.subscribe('events.>', all.listener);
    bus.subscribe('events.iam.>', iam.listener);
    bus.subscribe('events.kms.>', kms.listener);
    await bus.publish('events.iam.account.created', event('e1'));
    await Promise.all([all.until(1), iam.until(1)]);
    expect(iam.received).toEqual([{ subject: 'events.iam.account.created', event: event('e1') }]);
    expect(all.received).toEqual(iam.received);
    expect(kms.received).toEqual([]);
  });

  it('delivers asynchronously, after publish returned', async () => {
    const listener = recorder();
    bus.subscribe('events.>', listener.listener);
    await bus.publish('events.iam.account.created', event('e1'));
    expect(listener.received).toHaveLength(0);
    await listener.until(1);
    expect(listener.received).toHaveLength(1);
  });

  it('gives each listener its own JSON copy (as from a broker)', async () => {
    const first = recorder();
    const second = recorder();
    bus.subscribe('events.>', first.listener);
    bus.subscribe('events.>', second.listener);
    const original = event('e1', { when: new Date(Date.UTC(2026, 0, 2)), gone: undefined, list: [1] });
    await bus.publish('events.iam.account.created', original);
    (original.data as { list: number[] }).list.push(2);
    await Promise.all([first.until(1), second.until(1)]);
    const delivered = first.received[0]?.event;
    expect(delivered).not.toBe(original);
    expect(delivered?.data).toEqual({ when: '2026-01-02T00:00:00.000Z', list: [1] });
    expect(second.received[0]?.event).not.toBe(delivered);
  });

  it('delivers events in publish order', async () => {
    const listener = recorder();
    bus.subscribe('events.>', listener.listener);
    for (const id of ['e1', 'e2', 'e3', 'e4']) await bus.publish('events.iam.account.created', event(id));
    await listener.until(4);
    expect(listener.received.map((entry) => entry.event.id)).toEqual(['e1', 'e2', 'e3', 'e4']);
  });

  it('stops delivering to a listener once unsubscribed', async () => {
    const kept = recorder();
    const dropped = recorder();
    bus.subscribe('events.>', kept.listener);
    const unsubscribe = bus.subscribe('events.>', dropped.listener);
    await bus.publish('events.iam.account.created', event('e1'));
    await Promise.all([kept.until(1), dropped.until(1)]);
    unsubscribe();
    await bus.publish('events.iam.account.created', event('e2'));
    await kept.until(2);
    expect(dropped.received.map((entry) => entry.event.id)).toEqual(['e1']);
  });

  it('publishes to nobody without error', async () => {
    await expect(bus.publish('events.iam.account.created', event('e1'))).resolves.toBeUndefined();
  });

  it('isolates a failing listener: the others still get the event and the failure is logged, not thrown', async () => {
    const healthy = recorder();
    bus.subscribe('events.>', () => {
      throw new Error('listener bug');
    });
    bus.subscribe('events.>', async () => {
      throw new Error('async listener bug');
    });
    bus.subscribe('events.>', healthy.listener);
    await bus.publish('events.iam.account.created', event('e1'));
    await healthy.until(1);
    // The rejected listener settles on a later turn than the healthy one's delivery.
    await new Promise((resolve) => setImmediate(resolve));
    const logged = logLines.map((line) => JSON.parse(line) as { msg: string; subject: string; err: { message: string } });
    expect(logged.map((line) => [line.msg, line.subject, line.err.message]).sort()).toEqual([
      ['an event listener failed', 'events.iam.account.created', 'async listener bug'],
      ['an event listener failed', 'events.iam.account.created', 'listener bug'],
    ]);
  });
});
