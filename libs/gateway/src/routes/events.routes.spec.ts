import { eventSubject, type CloudEvent, type EventDataOf, type EventName } from '@sealbox/contracts';
import { buildCloudEvent, startTracing, type TracingHandle } from '@sealbox/platform';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serverSentEvents, type ServerSentEvent } from '../../../../tools/cli/src/events/sse.js';
import { expectIbmError, send } from '../testing/http-client.js';
import { startTestGateway, TEST_CALLER, type TestGateway } from '../testing/test-gateway.js';

const OTHER = { iamId: 'IBMid-other', accountId: 'acc-other' };
const INSTANCE = '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';

let tracing: TracingHandle;
let gateway: TestGateway;
let denyEvents = false;
const open: AbortController[] = [];

beforeAll(async () => {
  // Real trace ids in error bodies, as every app has.
  tracing = startTracing('gateway-test', { exporter: 'none' });
  gateway = await startTestGateway({ authorize: (request) => ({ allowed: !(denyEvents && request.action === 'event-stream.event.read') }) });
});
afterEach(() => {
  denyEvents = false;
  for (const controller of open.splice(0)) controller.abort();
});
afterAll(async () => {
  await gateway.close();
  await tracing.shutdown();
});

function publish<E extends EventName>(name: E, data: EventDataOf<E>): Promise<void> {
  return gateway.events.publish(eventSubject(name), buildCloudEvent('secrets', name, data, new Date()));
}

const secretEvent = (accountId: string, secretId: string) => ({ accountId, instanceId: INSTANCE, secretId, secretType: 'arbitrary', groupId: 'default' });

/** Opens the stream; `next()` gives the next event (CloudEvent and SSE id). */
async function follow(query = '', headers: Record<string, string> = {}) {
  const controller = new AbortController();
  open.push(controller);
  const response = await fetch(`${gateway.url}/v1/events${query}`, { headers: { ...await gateway.auth(), ...headers }, signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = serverSentEvents(response.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return {
    async next(): Promise<{ sse: ServerSentEvent; event: CloudEvent }> {
      const result = await events.next();
      if (result.done) throw new Error('the stream ended');
      return { sse: result.value, event: JSON.parse(result.value.data) as CloudEvent };
    },
    close: () => controller.abort(),
  };
}

describe('GET /v1/events (Server-Sent Events)', () => {
  it('streams the events of the caller\'s account only, as CloudEvents with a cursor id, in order', async () => {
    const stream = await follow();
    await publish('secrets.secret.created', secretEvent(OTHER.accountId, 'theirs'));
    await publish('secrets.secret.created', secretEvent(TEST_CALLER.accountId, 's1'));
    await publish('secrets.secret.deleted', secretEvent(TEST_CALLER.accountId, 's1'));
    const first = await stream.next();
    const second = await stream.next();
    expect(first.event).toMatchObject({ type: 'com.sealbox.secrets.secret.created', data: { secretId: 's1', accountId: TEST_CALLER.accountId } });
    expect(second.event).toMatchObject({ type: 'com.sealbox.secrets.secret.deleted', data: { secretId: 's1' } });
    expect(first.sse.id).toMatch(/\S/);
    expect(second.sse.id).not.toBe(first.sse.id);
  });

  it('filters by type prefix (with or without com.sealbox.), several comma-separated', async () => {
    const stream = await follow('?type=secrets.secret.deleted,com.sealbox.lifecycle.');
    await publish('secrets.secret.created', secretEvent(TEST_CALLER.accountId, 's2'));
    await publish('secrets.secret.deleted', secretEvent(TEST_CALLER.accountId, 's2'));
    await publish('lifecycle.instance.updated', { accountId: TEST_CALLER.accountId, instanceId: INSTANCE, crn: 'crn:x', service: 'secrets-manager', planId: 'p' });
    expect((await stream.next()).event.type).toBe('com.sealbox.secrets.secret.deleted');
    expect((await stream.next()).event.type).toBe('com.sealbox.lifecycle.instance.updated');
  });

  it('resumes after Last-Event-ID: the events published while away come first', async () => {
    const stream = await follow('?type=secrets.');
    await publish('secrets.secret.created', secretEvent(TEST_CALLER.accountId, 'r1'));
    const seen = await stream.next();
    stream.close();
    await publish('secrets.secret.created', secretEvent(TEST_CALLER.accountId, 'r2'));
    await publish('secrets.secret.created', secretEvent(TEST_CALLER.accountId, 'r3'));
    const resumed = await follow('?type=secrets.', { 'last-event-id': seen.sse.id ?? '' });
    expect((await resumed.next()).event.data).toMatchObject({ secretId: 'r2' });
    expect((await resumed.next()).event.data).toMatchObject({ secretId: 'r3' });
  });

  it('answers 400 VALIDATION_FAILED naming type for a prefix no event type has', async () => {
    const response = await send(gateway.url, { path: '/v1/events?type=secrets.,sekrets.', headers: await gateway.auth() });
    const body = expectIbmError(response, 400, 'VALIDATION_FAILED');
    expect(body.errors[0]?.message).toMatch(/^type: no event type starts with sekrets\./);
  });

  it('answers 401 UNAUTHORIZED without a token', async () => {
    expectIbmError(await send(gateway.url, { path: '/v1/events' }), 401, 'UNAUTHORIZED');
  });

  it('answers 403 FORBIDDEN when no policy grants event-stream.event.read', async () => {
    denyEvents = true;
    expectIbmError(await send(gateway.url, { path: '/v1/events', headers: await gateway.auth() }), 403, 'FORBIDDEN');
    expect(gateway.authorizations.at(-1)).toMatchObject({ action: 'event-stream.event.read', resource: { serviceName: 'event-stream', accountId: TEST_CALLER.accountId } });
  });

  it('ends open streams when the gateway shuts down (it does not wait for them)', async () => {
    const own = await startTestGateway();
    const response = await fetch(`${own.url}/v1/events`, { headers: await own.auth() });
    const reading = (async () => {
      for await (const _chunk of response.body as unknown as AsyncIterable<Uint8Array>) void _chunk;
    })();
    const started = performance.now();
    await own.close();
    await reading;
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
