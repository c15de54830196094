import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import type { ResponseOf, SecretsWire, ValidatedRequestOf } from '@sealbox/contracts';
import { ManualClock, RpcHandler, serviceUnavailable, startTracing, type TracingHandle } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectIbmError, send } from '../testing/http-client.js';
import { startTestGateway, TEST_CALLER, type TestCaller, type TestGateway } from '../testing/test-gateway.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.store.js';

const INSTANCE = randomUUID();
const BASE = `/secrets-manager/${INSTANCE}/api/v2/secret_groups`;

/** What the fake secrets service does with the next create. */
const script: { creates: number; fail: number; hold?: Promise<void> } = { creates: 0, fail: 0 };

/** Every create makes a new group: a request done twice is visible as two ids. */
@Controller()
class CountingSecretGroups {
  @RpcHandler('secrets.group.create')
  async create(request: ValidatedRequestOf<'secrets.group.create'>): Promise<ResponseOf<'secrets.group.create'>> {
    await script.hold;
    if (script.fail > 0) {
      script.fail--;
      throw serviceUnavailable('The storage service did not answer within 100 ms');
    }
    script.creates++;
    const group: SecretsWire.SecretGroup = {
      id: randomUUID(),
      name: request.name,
      created_at: '2026-12-07T00:00:00.000Z',
      created_by: TEST_CALLER.iamId,
      updated_at: '2026-12-07T00:00:00.000Z',
    };
    return group;
  }
}

describe('Idempotency-Key', () => {
  let tracing: TracingHandle;
  let gateway: TestGateway;
  const clock = new ManualClock(Date.now());

  const create = async (key: string | undefined, body: object = { name: 'g1' }, caller: TestCaller = TEST_CALLER) =>
    send(gateway.url, {
      method: 'POST',
      path: BASE,
      headers: { ...await gateway.auth(caller), 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
      body: JSON.stringify(body),
    });
  const idOf = (response: { json<T>(): T }) => response.json<SecretsWire.SecretGroup>().id;

  beforeAll(async () => {
    tracing = startTracing('gateway-idempotency-test', { exporter: 'none' });
    gateway = await startTestGateway({ controllers: [CountingSecretGroups], clock });
  });
  afterAll(async () => {
    await gateway.close();
    await tracing.shutdown();
  });
  beforeEach(() => {
    script.creates = 0;
    script.fail = 0;
    script.hold = undefined;
  });

  it('answers a retry with the first response (same status, body, headers) and does the work once', async () => {
    const key = randomUUID();
    const first = await create(key);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const retry = await create(key);
    expect(retry.status).toBe(201);
    expect(retry.text()).toBe(first.text());
    expect(retry.headers['content-type']).toBe(first.headers['content-type']);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(script.creates).toBe(1);
  });

  it('does the work twice without a key (the IBM behaviour is unchanged)', async () => {
    const [first, second] = [await create(undefined), await create(undefined)];
    expect(idOf(first)).not.toBe(idOf(second));
    expect(script.creates).toBe(2);
  });

  it('runs a retry after a 503 (nothing was done), then replays the success', async () => {
    const key = randomUUID();
    script.fail = 1;
    expectIbmError(await create(key), 503, 'SERVICE_UNAVAILABLE');
    const retry = await create(key);
    expect(retry.status).toBe(201);
    const again = await create(key);
    expect(idOf(again)).toBe(idOf(retry));
    expect(script.creates).toBe(1);
  });

  it('refuses the same key with another body: 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const key = randomUUID();
    expect((await create(key, { name: 'g1' })).status).toBe(201);
    expectIbmError(await create(key, { name: 'g2' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(script.creates).toBe(1);
  });

  it('refuses a retry while the first request still runs: 409 IDEMPOTENCY_KEY_IN_USE', async () => {
    const key = randomUUID();
    let release: () => void = () => undefined;
    script.hold = new Promise<void>((resolve) => (release = resolve));
    const first = create(key);
    // Until the first one holds the key.
    let concurrent = await create(key);
    for (let attempt = 0; attempt < 50 && concurrent.status === 201; attempt++) concurrent = await create(key);
    expectIbmError(concurrent, 409, 'IDEMPOTENCY_KEY_IN_USE');
    release();
    expect((await first).status).toBe(201);
    expect(script.creates).toBe(1);
  });

  it('keeps keys per identity: another caller with the same key gets its own create', async () => {
    const key = randomUUID();
    const mine = await create(key);
    const theirs = await create(key, { name: 'g1' }, { iamId: 'IBMid-other', accountId: TEST_CALLER.accountId });
    expect(theirs.status).toBe(201);
    expect(idOf(theirs)).not.toBe(idOf(mine));
    expect(script.creates).toBe(2);
  });

  it('forgets a key after 24 hours (the clock moves, nothing sleeps)', async () => {
    const key = randomUUID();
    const first = await create(key);
    clock.advance(IDEMPOTENCY_KEY_TTL_MS - 1000);
    expect(idOf(await create(key))).toBe(idOf(first));
    clock.advance(1000);
    const later = await create(key);
    expect(later.status).toBe(201);
    expect(idOf(later)).not.toBe(idOf(first));
    expect(script.creates).toBe(2);
  });

  it('refuses a key that is too long: 400 VALIDATION_FAILED', async () => {
    expectIbmError(await create('k'.repeat(256)), 400, 'VALIDATION_FAILED');
    expect(script.creates).toBe(0);
  });
});
