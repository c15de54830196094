/** The Idempotency-Key store on both databases the gateway uses: PostgreSQL (distributed) and SQLite (standalone). */
import { ManualClock, openServiceDatabase, type DatabaseConfig } from '@sealbox/platform';
import { createTestDatabase } from '@sealbox/platform/testing';
import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateIdempotencyKeys1765065600000, IdempotencyKeyEntity } from './idempotency.entity.js';
import { IDEMPOTENCY_KEY_TTL_MS, IdempotencyStore } from './idempotency.store.js';

/** A request's deadline (SEALBOX_RPC_TIMEOUT_MS) and the grace: how long its claim holds. */
const LEASE_MS = 5_250;

const RESPONSE = { status: 201, headers: { 'content-type': 'application/json; charset=utf-8', location: '/x/1' }, body: '{"id":"1"}' };

describe.each([
  ['SQLite', async () => ({ config: { type: 'sqlite', path: ':memory:' } as DatabaseConfig, drop: async () => undefined })],
  [
    'PostgreSQL',
    async () => {
      const database = await createTestDatabase();
      return { config: { type: 'postgres', url: database.url } as DatabaseConfig, drop: () => database.drop() };
    },
  ],
])('IdempotencyStore on %s', (_name, fresh) => {
  let dataSource: DataSource | undefined;
  let drop: () => Promise<void> = async () => undefined;
  const clock = new ManualClock(Date.UTC(2026, 11, 7));

  async function store(): Promise<IdempotencyStore> {
    const database = await fresh();
    drop = database.drop;
    dataSource = await openServiceDatabase({ service: 'gateway', config: database.config, entities: [IdempotencyKeyEntity], migrations: [CreateIdempotencyKeys1765065600000] });
    return new IdempotencyStore(dataSource, clock);
  }

  afterEach(async () => {
    await dataSource?.destroy();
    dataSource = undefined;
    await drop();
  });

  const claimed = (at: number) => ({ kind: 'claimed', leaseUntil: at + LEASE_MS });

  it('claims a new key, refuses a second claim while it runs, replays once completed', async () => {
    const keys = await store();
    expect(await keys.claim('iam-a', 'k1', 'f1', LEASE_MS)).toEqual(claimed(clock.nowMs()));
    expect(await keys.claim('iam-a', 'k1', 'f1', LEASE_MS)).toEqual({ kind: 'in-use' });
    await keys.complete('iam-a', 'k1', clock.nowMs() + LEASE_MS, RESPONSE);
    expect(await keys.claim('iam-a', 'k1', 'f1', LEASE_MS)).toEqual({ kind: 'replay', response: RESPONSE });
    expect(await keys.claim('iam-a', 'k1', 'f2', LEASE_MS)).toEqual({ kind: 'reused' });
  });

  it('frees a released key, keeps keys per scope, and only one of two racing claims wins', async () => {
    const keys = await store();
    await keys.claim('iam-a', 'k1', 'f1', LEASE_MS);
    await keys.release('iam-a', 'k1', clock.nowMs() + LEASE_MS);
    expect(await keys.claim('iam-a', 'k1', 'f1', LEASE_MS)).toEqual(claimed(clock.nowMs()));
    expect(await keys.claim('iam-b', 'k1', 'f1', LEASE_MS)).toEqual(claimed(clock.nowMs()));
    const racing = await Promise.all([keys.claim('iam-a', 'k2', 'f', LEASE_MS), keys.claim('iam-a', 'k2', 'f', LEASE_MS), keys.claim('iam-a', 'k2', 'f', LEASE_MS)]);
    expect(racing.filter((claim) => claim.kind === 'claimed')).toHaveLength(1);
  });

  it('takes over a claim once the deadline of its request passed (its gateway stopped), and forgets keys after 24 h', async () => {
    const keys = await store();
    const start = clock.nowMs();
    await keys.claim('iam-a', 'stuck', 'f1', LEASE_MS);
    clock.advance(LEASE_MS - 1);
    expect(await keys.claim('iam-a', 'stuck', 'f1', LEASE_MS)).toEqual({ kind: 'in-use' });
    clock.advance(1);
    expect(await keys.claim('iam-a', 'stuck', 'f1', LEASE_MS)).toEqual(claimed(clock.nowMs()));
    // The first request's late answer does not complete the retry's claim (its lease end names it).
    await keys.complete('iam-a', 'stuck', start + LEASE_MS, RESPONSE);
    expect(await keys.claim('iam-a', 'stuck', 'f1', LEASE_MS)).toEqual({ kind: 'in-use' });
    const done = await keys.claim('iam-a', 'done', 'f1', LEASE_MS);
    await keys.complete('iam-a', 'done', (done as { leaseUntil: number }).leaseUntil, RESPONSE);
    clock.advance(IDEMPOTENCY_KEY_TTL_MS - 1);
    expect((await keys.claim('iam-a', 'done', 'f1', LEASE_MS)).kind).toBe('replay');
    clock.advance(1);
    expect(await keys.purgeExpired()).toBe(2);
    expect(await keys.claim('iam-a', 'done', 'f1', LEASE_MS)).toEqual(claimed(clock.nowMs()));
  });
});
