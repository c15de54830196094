/** IdempotencyRecords on both databases a service uses: PostgreSQL (distributed) and SQLite (standalone). */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context as activeContext, ROOT_CONTEXT } from '@opentelemetry/api';
import { Entity, PrimaryColumn, Table, type DataSource, type EntityManager, type MigrationInterface, type QueryRunner } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { withDeadline } from '../rpc/deadline.js';
import type { IdempotencyKey } from '../rpc/idempotency.js';
import { startTracing, type TracingHandle } from '../tracing/sdk.js';
import { createTestDatabase } from '../testing/postgres.js';
import { ManualClock } from '../time/clock.js';
import { openServiceDatabase, type DatabaseConfig } from './database.js';
import { CreateIdempotencyRecords1765200000000, IDEMPOTENCY_RECORD_TTL_MS, IdempotencyRecordEntity, IdempotencyRecords } from './idempotency-record.js';

/** The write a key guards: one row per attempt that did the work. */
@Entity({ name: 'probe_writes' })
class ProbeWriteEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;
}

class CreateProbeWrites1765200000001 implements MigrationInterface {
  name = 'CreateProbeWrites1765200000001';
  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(new Table({ name: 'probe_writes', columns: [{ name: 'id', type: 'varchar', length: '36', isPrimary: true }] }));
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('probe_writes');
  }
}

const hex = (text: string) => createHash('sha256').update(text).digest('hex');
const keyOf = (name: string, request = 'POST /things {"a":1}'): IdempotencyKey => ({ key: hex(`iam-a\n${name}`), fingerprint: hex(request) });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe.each([
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sealbox-once-'));
      return { config: { type: 'sqlite', path: join(dir, 'secrets.sqlite') } as DatabaseConfig, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const database = await createTestDatabase();
      return { config: { type: 'postgres', url: database.url } as DatabaseConfig, drop: () => database.drop() };
    },
  ],
])('IdempotencyRecords on %s', (name, fresh) => {
  let dataSource: DataSource | undefined;
  let drop: () => Promise<void> = async () => undefined;
  const clock = new ManualClock(Date.UTC(2026, 11, 8));
  const records = new IdempotencyRecords(clock);

  async function open(): Promise<DataSource> {
    const database = await fresh();
    drop = database.drop;
    dataSource = await openServiceDatabase({
      service: 'secrets',
      config: database.config,
      entities: [IdempotencyRecordEntity, ProbeWriteEntity],
      migrations: [CreateIdempotencyRecords1765200000000, CreateProbeWrites1765200000001],
    });
    return dataSource;
  }

  afterEach(async () => {
    await dataSource?.destroy();
    dataSource = undefined;
    await drop();
  });

  /** One attempt: in a transaction, write a probe row once per key, keep its id. */
  function attempt(db: DataSource, once: IdempotencyKey, hold?: Promise<void>) {
    const id = randomUUID();
    return db.transaction((manager: EntityManager) =>
      records.inTransactionOnce(
        manager,
        once,
        async () => {
          await manager.insert(ProbeWriteEntity, { id });
          await hold;
          return id;
        },
        (written) => ({ id: written }),
      ),
    );
  }
  const writes = (db: DataSource) => db.getRepository(ProbeWriteEntity).count();

  it('runs the first attempt and keeps its result; a retry is answered what it kept without writing', async () => {
    const db = await open();
    const once = keyOf('k1');
    const first = await attempt(db, once);
    expect(first.replayed).toBe(false);
    const id = (first as { result: string }).result;
    expect(await attempt(db, once)).toEqual({ replayed: true, kept: { id } });
    expect(await records.find(db.manager, once)).toEqual({ kept: { id } });
    expect(await records.find(db.manager, keyOf('never-used'))).toBeUndefined();
    expect(await writes(db)).toBe(1);
  });

  it('refuses the same key with another request: IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
    const db = await open();
    await attempt(db, keyOf('k1', 'POST /things {"a":1}'));
    const other = keyOf('k1', 'POST /things {"a":2}');
    for (const refused of [await rejection(attempt(db, other)), await rejection(records.find(db.manager, other))]) {
      expect(refused).toBeInstanceOf(DomainError);
      expect((refused as DomainError).code).toBe('IDEMPOTENCY_KEY_REUSED');
    }
    expect(await writes(db)).toBe(1);
  });

  it('leaves no key behind when the work rolls back: the retry runs', async () => {
    const db = await open();
    const once = keyOf('k1');
    const failed = db.transaction((manager) =>
      records.inTransactionOnce(
        manager,
        once,
        async () => {
          await manager.insert(ProbeWriteEntity, { id: randomUUID() });
          throw new DomainError('SERVICE_UNAVAILABLE', 'the deadline passed');
        },
        () => null,
      ),
    );
    expect(((await rejection(failed)) as DomainError).code).toBe('SERVICE_UNAVAILABLE');
    expect(await records.find(db.manager, once)).toBeUndefined();
    expect((await attempt(db, once)).replayed).toBe(false);
    expect(await writes(db)).toBe(1);
  });

  it('forgets a key after 24 hours: the key starts over, and the purge removes expired records', async () => {
    const db = await open();
    const once = keyOf('k1');
    await attempt(db, once);
    clock.advance(IDEMPOTENCY_RECORD_TTL_MS - 1);
    expect((await attempt(db, once)).replayed).toBe(true);
    clock.advance(1);
    expect(await records.find(db.manager, once)).toBeUndefined();
    expect((await attempt(db, once)).replayed).toBe(false);
    expect(await writes(db)).toBe(2);
    await attempt(db, keyOf('k2'));
    clock.advance(IDEMPOTENCY_RECORD_TTL_MS);
    expect(await records.purgeExpired(db.manager)).toBe(2);
    expect(await db.getRepository(IdempotencyRecordEntity).count()).toBe(0);
  });

  it('refuses to run outside a transaction (the key must commit with the work)', async () => {
    const db = await open();
    await expect(records.inTransactionOnce(db.manager, keyOf('k1'), async () => 1, () => 1)).rejects.toThrow(/open transaction/);
  });

  it.runIf(name === 'PostgreSQL')('serializes attempts running together: the second waits for the first transaction, then replays it', async () => {
    const db = await open();
    const once = keyOf('k1');
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const first = attempt(db, once, hold);
    // Until the first attempt has written its (uncommitted) record.
    await expect.poll(() => db.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'transactionid' AND granted"), { timeout: 5000 }).not.toEqual([{ n: 0 }]);
    let secondDone = false;
    const second = attempt(db, once).finally(() => (secondDone = true));
    const others = Promise.all([attempt(db, once), attempt(db, once)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondDone).toBe(false);
    release();
    const firstOutcome = await first;
    expect(firstOutcome.replayed).toBe(false);
    const id = (firstOutcome as { result: string }).result;
    expect(await second).toEqual({ replayed: true, kept: { id } });
    expect(await others).toEqual([
      { replayed: true, kept: { id } },
      { replayed: true, kept: { id } },
    ]);
    expect(await writes(db)).toBe(1);
  });

  describe.runIf(name === 'PostgreSQL')('with a request deadline', () => {
    let tracing: TracingHandle;
    // The AsyncLocalStorage context a request's deadline travels in.
    beforeAll(() => void (tracing = startTracing('once-test', { exporter: 'none' })));
    afterAll(() => tracing.shutdown());

    it('waits for an attempt stuck mid-transaction only until its own deadline: 503, connection released', async () => {
      const db = await open();
      const once = keyOf('k1');
      let release: () => void = () => undefined;
      const first = attempt(db, once, new Promise<void>((resolve) => (release = resolve)));
      await expect.poll(() => db.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'transactionid' AND granted"), { timeout: 5000 }).not.toEqual([{ n: 0 }]);
      const started = Date.now();
      const waited = await rejection(activeContext.with(withDeadline(ROOT_CONTEXT, Date.now() + 300), () => attempt(db, once)));
      expect((waited as DomainError).code).toBe('SERVICE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(3000);
      release();
      expect((await first).replayed).toBe(false);
      // Within a deadline that has time left, the same wait ends in a replay.
      expect((await activeContext.with(withDeadline(ROOT_CONTEXT, Date.now() + 5000), () => attempt(db, once))).replayed).toBe(true);
      expect(await writes(db)).toBe(1);
    });
  });

  it.runIf(name === 'PostgreSQL')('lets the waiting attempt do the work when the first one rolls back', async () => {
    const db = await open();
    const once = keyOf('k1');
    let fail: (error: Error) => void = () => undefined;
    const hold = new Promise<void>((_resolve, reject) => (fail = reject));
    const first = attempt(db, once, hold);
    await expect.poll(() => db.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'transactionid' AND granted"), { timeout: 5000 }).not.toEqual([{ n: 0 }]);
    const second = attempt(db, once);
    await new Promise((resolve) => setTimeout(resolve, 100));
    fail(new Error('the first attempt failed'));
    await expect(first).rejects.toThrow('the first attempt failed');
    expect((await second).replayed).toBe(false);
    expect(await writes(db)).toBe(1);
  });
});
