import type { CloudEvent } from '@sealbox/contracts';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BufferedEventPublisher } from './buffered-publisher.js';
import type { EventPublisher } from './publisher.js';

const event = (id: string): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/sealbox/gateway',
  type: 'com.sealbox.audit.request',
  time: '2026-01-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data: {},
});

/** A broker whose publish calls the test settles one by one, in order. */
class ControlledBroker implements EventPublisher {
  readonly stored: string[] = [];
  readonly calls: { id: string; succeed(): void; fail(): void }[] = [];
  private arrived: (() => void) | undefined;

  publish(_subject: string, published: CloudEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        id: published.id,
        succeed: () => {
          this.stored.push(published.id);
          resolve();
        },
        fail: () => reject(new Error('broker unavailable')),
      });
      this.arrived?.();
    });
  }

  /** The n-th publish call (1-based), once it was made. */
  async call(n: number): Promise<{ id: string; succeed(): void; fail(): void }> {
    while (this.calls.length < n) await new Promise<void>((resolve) => (this.arrived = resolve));
    return this.calls[n - 1] as { id: string; succeed(): void; fail(): void };
  }
}

const lines: string[] = [];
const logger = () => pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });

beforeEach(() => {
  lines.length = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('BufferedEventPublisher', () => {
  it('publishes queued events in order, up to its window at a time without waiting for each answer', async () => {
    const broker = new ControlledBroker();
    const buffer = new BufferedEventPublisher(broker, logger(), 100, 2);
    buffer.enqueue('events.audit.request', event('e1'));
    buffer.enqueue('events.audit.request', event('e2'));
    buffer.enqueue('events.audit.request', event('e3'));
    expect(buffer.pending).toBe(3);
    await broker.call(2);
    // Two on their way at once; the third waits for the window.
    expect(broker.calls.map((call) => call.id)).toEqual(['e1', 'e2']);
    expect(buffer.pending).toBe(3);
    broker.calls[1]?.succeed();
    broker.calls[0]?.succeed();
    (await broker.call(3)).succeed();
    await vi.waitFor(() => expect(buffer.pending).toBe(0));
    expect(broker.calls.map((call) => call.id)).toEqual(['e1', 'e2', 'e3']);
    expect(broker.stored.sort()).toEqual(['e1', 'e2', 'e3']);
  });

  it('retries the same event with backoff while the broker fails, losing nothing', async () => {
    vi.useFakeTimers();
    const broker = new ControlledBroker();
    const buffer = new BufferedEventPublisher(broker, logger(), 100, 1);
    buffer.enqueue('events.audit.request', event('e1'));
    buffer.enqueue('events.audit.request', event('e2'));
    (await broker.call(1)).fail();
    // 250 ms, then twice that: not a moment earlier.
    await vi.advanceTimersByTimeAsync(249);
    expect(broker.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    (await broker.call(2)).fail();
    await vi.advanceTimersByTimeAsync(499);
    expect(broker.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    const third = await broker.call(3);
    expect(broker.calls.map((call) => call.id)).toEqual(['e1', 'e1', 'e1']);
    third.succeed();
    (await broker.call(4)).succeed();
    expect(broker.calls.map((call) => call.id)).toEqual(['e1', 'e1', 'e1', 'e2']);
    await vi.waitFor(() => expect(buffer.pending).toBe(0));
    expect(broker.stored).toEqual(['e1', 'e2']);
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'could not publish events; will retry',
      'could not publish events; will retry',
    ]);
  });

  it('drops the oldest queued events when full, and says how many', async () => {
    const broker = new ControlledBroker();
    const buffer = new BufferedEventPublisher(broker, logger(), 3, 1);
    buffer.enqueue('events.audit.request', event('e1'));
    const inFlight = await broker.call(1);
    for (const id of ['e2', 'e3', 'e4', 'e5']) buffer.enqueue('events.audit.request', event(id));
    // Three waiting (the capacity) and one on its way.
    expect(buffer.pending).toBe(4);
    inFlight.succeed();
    for (let n = 2; broker.stored.length < 4; n++) (await broker.call(n)).succeed();
    await vi.waitFor(() => expect(buffer.pending).toBe(0));
    // e1 was already on its way; the oldest waiting (e2) made room for e5.
    expect(broker.stored).toEqual(['e1', 'e3', 'e4', 'e5']);
    // One warning at the first drop (then one per thousand), not one per event.
    expect(lines.map((line) => JSON.parse(line) as { msg: string; dropped: number })).toEqual([
      expect.objectContaining({ msg: 'event buffer full: dropping the oldest events', dropped: 1 }),
    ]);
  });

  it('puts failed events of a batch back ahead of newer ones and publishes them again', async () => {
    vi.useFakeTimers();
    const broker = new ControlledBroker();
    const buffer = new BufferedEventPublisher(broker, logger(), 100, 3);
    for (const id of ['e1', 'e2', 'e3']) buffer.enqueue('events.audit.request', event(id));
    await broker.call(3);
    broker.calls[0]?.succeed();
    broker.calls[1]?.fail();
    broker.calls[2]?.fail();
    buffer.enqueue('events.audit.request', event('e4'));
    await vi.advanceTimersByTimeAsync(250);
    await broker.call(6);
    expect(broker.calls.slice(3).map((call) => call.id)).toEqual(['e2', 'e3', 'e4']);
    for (const call of broker.calls.slice(3)) call.succeed();
    await vi.waitFor(() => expect(buffer.pending).toBe(0));
    expect(broker.stored.sort()).toEqual(['e1', 'e2', 'e3', 'e4']);
  });

  it('stops accepting once closed, after trying to publish what was queued', async () => {
    const broker = new ControlledBroker();
    const buffer = new BufferedEventPublisher(broker, logger());
    buffer.enqueue('events.audit.request', event('e1'));
    const closing = buffer.close(5000);
    (await broker.call(1)).succeed();
    await closing;
    buffer.enqueue('events.audit.request', event('late'));
    expect(buffer.pending).toBe(0);
    expect(broker.calls.map((call) => call.id)).toEqual(['e1']);
  });
});
