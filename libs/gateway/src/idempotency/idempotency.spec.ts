import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import type { ResponseOf, SecretsWire, ValidatedRequestOf } from '@sealbox/contracts';
import { activeDeadline, DomainError, ManualClock, RpcHandler, serviceUnavailable, startTracing, type IdempotencyKey, type RpcMeta, type TracingHandle } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectIbmError, send } from '../testing/http-client.js';
import { startTestGateway, TEST_CALLER, type TestCaller, type TestGateway } from '../testing/test-gateway.js';
import { scopedKeyOf } from './idempotency.interceptor.js';
import { IDEMPOTENCY_KEY_TTL_MS, LEASE_GRACE_MS } from './idempotency.store.js';

/** The gateway's RPC deadline in these tests (startTestGateway's default). */
const RPC_TIMEOUT_MS = 2000;

const INSTANCE = randomUUID();
const BASE = `/secrets-manager/${INSTANCE}/api/v2/secret_groups`;

/** What the fake secrets service does with the next create. */
const script: { creates: number; fail: number; hold?: Promise<void> } = { creates: 0, fail: 0 };

/** What the fake secrets service received with its secret creates, and what it did with their keys. */
const forwarded: { keys: (IdempotencyKey | undefined)[]; groupKeys: (IdempotencyKey | undefined)[]; deadlines: (number | undefined)[]; done: Map<string, { fingerprint: string; id: string }> } = {
  keys: [],
  groupKeys: [],
  deadlines: [],
  done: new Map(),
};

/** Every create makes a new group: a request done twice is visible as two ids. */
@Controller()
class CountingSecretGroups {
  /**
   * A secrets service that records keys the way IdempotencyRecords does (the real one is tested in
   * libs/platform and libs/secrets): what the gateway must do is forward the key, and say when the
   * service replayed.
   */
  @RpcHandler('secrets.secret.create')
  async createSecret(request: ValidatedRequestOf<'secrets.secret.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.create'>> {
    forwarded.keys.push(meta.idempotency);
    forwarded.deadlines.push(activeDeadline());
    await script.hold;
    const once = meta.idempotency;
    const earlier = once && forwarded.done.get(once.key);
    if (once && earlier && earlier.fingerprint !== once.fingerprint) throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'another request');
    if (earlier) once?.onReplay?.();
    const id = earlier?.id ?? randomUUID();
    if (once && !earlier) forwarded.done.set(once.key, { fingerprint: once.fingerprint, id });
    if (!earlier) script.creates++;
    return { id, name: request.secret.name, secret_type: 'arbitrary' } as unknown as ResponseOf<'secrets.secret.create'>;
  }

  @RpcHandler('secrets.group.create')
  async create(request: ValidatedRequestOf<'secrets.group.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.create'>> {
    forwarded.groupKeys.push(meta.idempotency);
    forwarded.deadlines.push(activeDeadline());
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
    forwarded.keys = [];
    forwarded.groupKeys = [];
    forwarded.deadlines = [];
  });

  const createSecret = async (key: string | undefined, body: object = { secret_type: 'arbitrary', name: 's1', payload: 'p' }, caller: TestCaller = TEST_CALLER) =>
    send(gateway.url, {
      method: 'POST',
      path: `/secrets-manager/${INSTANCE}/api/v2/secrets`,
      headers: { ...(await gateway.auth(caller)), 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
      body: JSON.stringify(body),
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

  it('frees the claim of a request once its deadline (and the grace) passed: a dead attempt holds a key no longer', async () => {
    const key = randomUUID();
    let release: () => void = () => undefined;
    script.hold = new Promise<void>((resolve) => (release = resolve));
    const first = create(key);
    let concurrent = await create(key);
    for (let attempt = 0; attempt < 50 && concurrent.status === 201; attempt++) concurrent = await create(key);
    expectIbmError(concurrent, 409, 'IDEMPOTENCY_KEY_IN_USE');
    // The request's deadline is the RPC timeout from when it started: its service cannot commit after it.
    clock.advance(RPC_TIMEOUT_MS + LEASE_GRACE_MS - 100);
    expectIbmError(await create(key), 409, 'IDEMPOTENCY_KEY_IN_USE');
    clock.advance(100);
    const retry = create(key);
    await expect.poll(() => forwarded.deadlines.length).toBe(2);
    release();
    expect((await retry).status).toBe(201);
    expect((await first).status).toBe(201);
  });

  describe('on routes whose service records the key (secret create, new version)', () => {
    it('forwards the key scoped to the identity with the request fingerprint, and not the client string', async () => {
      const key = randomUUID();
      expect((await createSecret(key)).status).toBe(201);
      const sent = forwarded.keys[0];
      expect(sent?.key).toBe(scopedKeyOf(TEST_CALLER.iamId, key));
      expect(sent?.key).not.toContain(key);
      expect(sent?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect((await createSecret(undefined)).status).toBe(201);
      expect(forwarded.keys[1]).toBeUndefined();
    });

    it('does not send the key to a service that does not record it', async () => {
      expect((await create(randomUUID())).status).toBe(201);
      expect(forwarded.groupKeys).toEqual([undefined]);
    });

    it('answers the replay of the service with Idempotent-Replayed: true (the gateway keeps nothing)', async () => {
      const key = randomUUID();
      const first = await createSecret(key);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const retry = await createSecret(key);
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
      // Both attempts reached the service: the gateway did not answer from a store of its own.
      expect(forwarded.keys).toHaveLength(2);
      expect(script.creates).toBe(1);
    });

    it('forwards a retry while the first attempt still runs (no 409: the service serializes them)', async () => {
      const key = randomUUID();
      let release: () => void = () => undefined;
      script.hold = new Promise<void>((resolve) => (release = resolve));
      const first = createSecret(key);
      await expect.poll(() => forwarded.keys.length).toBe(1);
      const retry = createSecret(key);
      await expect.poll(() => forwarded.keys.length).toBe(2);
      release();
      const answers = await Promise.all([first, retry]);
      expect(answers.map((answer) => answer.status)).toEqual([201, 201]);
      expect(script.creates).toBe(1);
    });

    it('answers the service refusing the same key with another body: 422 IDEMPOTENCY_KEY_REUSED', async () => {
      const key = randomUUID();
      expect((await createSecret(key)).status).toBe(201);
      expectIbmError(await createSecret(key, { secret_type: 'arbitrary', name: 'other', payload: 'p' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('keeps keys per identity: another caller with the same key sends another scoped key', async () => {
      const key = randomUUID();
      await createSecret(key);
      await createSecret(key, undefined, { iamId: 'IBMid-other', accountId: TEST_CALLER.accountId });
      expect(forwarded.keys[1]?.key).toBe(scopedKeyOf('IBMid-other', key));
      expect(forwarded.keys[1]?.key).not.toBe(forwarded.keys[0]?.key);
      expect(script.creates).toBe(2);
    });
  });

  it('refuses a key that is too long: 400 VALIDATION_FAILED', async () => {
    expectIbmError(await create('k'.repeat(256)), 400, 'VALIDATION_FAILED');
    expect(script.creates).toBe(0);
  });
});
