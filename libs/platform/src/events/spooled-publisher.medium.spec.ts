/** The durable audit spool on a real file system: order, a broker outage, SIGTERM and kill -9 lose nothing. */
import { eventSubject, type CloudEvent } from '@sealbox/contracts';
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingPublisher } from '../testing/service-database-conformance.js';
import { buildCloudEvent } from './outbox.js';
import type { EventPublisher } from './publisher.js';
import { SpooledEventPublisher } from './spooled-publisher.js';

const quiet = pino({ level: 'silent' });
const SUBJECT = eventSubject('audit.request');

let counter = 0;
function auditEvent(): CloudEvent {
  counter++;
  return buildCloudEvent(
    'gateway',
    'audit.request',
    { method: 'GET', route: `/r/${counter}`, status: 200, outcome: 'success', sourceIp: '127.0.0.1', traceId: '' },
    new Date(Date.UTC(2026, 0, 1) + counter),
  );
}

/** Resolves once `condition` holds (polling), or fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A broker that is down until `up` is set. */
class OutagePublisher implements EventPublisher {
  up = false;
  readonly inner = new RecordingPublisher();
  async publish(subject: string, event: CloudEvent): Promise<void> {
    if (!this.up) throw new Error('NATS is down');
    await this.inner.publish(subject, event);
  }
}

describe('SpooledEventPublisher', () => {
  let dir: string;
  const open: SpooledEventPublisher[] = [];
  const spool = async (publisher: EventPublisher, options = {}) => {
    const opened = await SpooledEventPublisher.open(dir, publisher, quiet, { maxBackoffMs: 50, ...options });
    open.push(opened);
    return opened;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealbox-spool-'));
  });
  afterEach(async () => {
    for (const opened of open.splice(0)) await opened.close(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes every event in the order enqueued, and keeps no segment it finished', async () => {
    const publisher = new RecordingPublisher();
    const audit = await spool(publisher, { segmentBytes: 2000, window: 7 });
    const events = Array.from({ length: 100 }, auditEvent);
    for (const event of events) audit.enqueue(SUBJECT, event);
    await publisher.until(100);
    expect(publisher.ids()).toEqual(events.map((event) => event.id));
    await until(() => audit.pending === 0);
    const segments = (await readdir(dir)).filter((name) => name.endsWith('.jsonl'));
    // Only the segment being written (and possibly the one just finished) remain.
    expect(segments.length).toBeLessThanOrEqual(2);
  });

  it('loses nothing while the broker is away, and publishes in order once it is back', async () => {
    const publisher = new OutagePublisher();
    const audit = await spool(publisher);
    const events = Array.from({ length: 500 }, auditEvent);
    for (const event of events) audit.enqueue(SUBJECT, event);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(audit.pending).toBe(500);
    publisher.up = true;
    await publisher.inner.until(500);
    expect(publisher.inner.ids()).toEqual(events.map((event) => event.id));
    await until(() => audit.pending === 0);
  });

  it('keeps what it could not publish by close (SIGTERM with the broker away), and the next run publishes it', async () => {
    const down = new OutagePublisher();
    const first = await spool(down);
    const events = Array.from({ length: 50 }, auditEvent);
    for (const event of events) first.enqueue(SUBJECT, event);
    await first.close(100);
    const publisher = new RecordingPublisher();
    const next = await spool(publisher);
    expect(next.pending).toBe(50);
    await publisher.until(50);
    expect(publisher.ids()).toEqual(events.map((event) => event.id));
  });

  it('replays what a killed run had written (a torn last line skipped), from where it got to', async () => {
    const hanging: EventPublisher = { publish: () => new Promise<void>(() => undefined) };
    const killed = await spool(hanging);
    open.pop(); // never closed: as after kill -9
    const events = Array.from({ length: 20 }, auditEvent);
    for (const event of events) killed.enqueue(SUBJECT, event);
    // Written within the write delay, though never closed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const segment = (await readdir(dir)).filter((name) => name.endsWith('.jsonl')).sort().at(-1)!;
    await appendFile(join(dir, segment), '["events.audit.request",{"id":"torn');
    // The owner is gone: a pid that cannot be running.
    await writeFile(join(dir, 'owner.pid'), '2147483646');
    const publisher = new RecordingPublisher();
    const next = await spool(publisher);
    await publisher.until(20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(publisher.ids()).toEqual(events.map((event) => event.id));
    expect(next.pending).toBe(0);
  });

  it('refuses a spool another running process owns', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'owner.pid'), String(process.ppid));
    await expect(SpooledEventPublisher.open(dir, new RecordingPublisher(), quiet)).rejects.toThrow(`in use by process ${process.ppid}`);
  });
});
