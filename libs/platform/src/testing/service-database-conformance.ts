/**
 * ONE suite for a service's database and its transactional outbox, run against both backends the
 * services use: PostgreSQL (distributed) and SQLite (standalone). A backend is "done" when it passes.
 *
 * Covers `openServiceDatabase` (schema, migrations once, also when two replicas open at once),
 * transaction isolation as domain code relies on it, `Outbox.record` (atomic with the state change),
 * `OutboxRelay` (in order, nothing lost, rows kept until the broker took them) and the Nest wiring
 * (`ServiceDatabaseModule` publishing through the process's EventPublisher).
 *
 * Lives under src/testing/ so the library build (which excludes that folder) never ships it.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { NestFactory } from '@nestjs/core';
import { CloudEvent, type ServiceName } from '@sealbox/contracts';
import { pino } from 'pino';
import { Column, Entity, PrimaryColumn, Table, type DataSource, type EntityManager, type MigrationInterface, type QueryRunner } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox } from '../events/outbox.js';
import { OutboxEventEntity } from '../events/outbox.entity.js';
import { CreateOutbox1764374400000 } from '../events/outbox.migration.js';
import { InProcessEventBus, type EventPublisher } from '../events/publisher.js';
import { OutboxRelay, type RelayOptions } from '../events/relay.js';
import { PlatformModule } from '../nest/platform.module.js';
import { ServiceDatabaseModule } from '../nest/service-database.module.js';
import { dataSourceToken, outboxToken } from '../nest/tokens.js';
import { openServiceDatabase, pingDatabase, type DatabaseConfig } from '../persistence/database.js';
import { withDeadline } from '../rpc/deadline.js';
import { ManualClock } from '../time/clock.js';

/** A database of one backend, fresh for one test. */
export interface TestDatabase {
  readonly config: DatabaseConfig;
  /** Remove it (after every DataSource on it was destroyed). */
  drop(): Promise<void>;
}

export interface DatabaseBackend {
  fresh(): Promise<TestDatabase>;
  /** Names of the tables a service owns (its PostgreSQL schema, or its SQLite file). */
  tablesOf(dataSource: DataSource, service: ServiceName): Promise<string[]>;
}

/** A domain table, to show the outbox row commits or rolls back with the state change. */
@Entity({ name: 'widgets' })
export class WidgetEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;
}

/** Counts how often it really ran, so "migrations run once" is observable. */
export class CreateWidgets1764374400001 implements MigrationInterface {
  static runs = 0;
  name = 'CreateWidgets1764374400001';

  async up(runner: QueryRunner): Promise<void> {
    CreateWidgets1764374400001.runs++;
    await runner.createTable(
      new Table({
        name: 'widgets',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('widgets');
  }
}

/** Fails while `failing` is set, after creating a table: the failure must leave no trace. */
export class FlakyMigration1764374400002 implements MigrationInterface {
  static failing = false;
  name = 'FlakyMigration1764374400002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(new Table({ name: 'flaky', columns: [{ name: 'id', type: 'varchar', length: '36', isPrimary: true }] }));
    if (FlakyMigration1764374400002.failing) throw new Error('migration failed halfway');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('flaky');
  }
}

const SERVICE: ServiceName = 'iam';
const ENTITIES = [OutboxEventEntity, WidgetEntity];
const MIGRATIONS = [CreateOutbox1764374400000, CreateWidgets1764374400001];
const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const quiet = () => pino({ level: 'silent' });

/** A publisher that records what it was given; `failures` makes the next N publish calls throw. */
export class RecordingPublisher implements EventPublisher {
  readonly published: { subject: string; event: CloudEvent }[] = [];
  attempts = 0;
  failures = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  async publish(subject: string, event: CloudEvent): Promise<void> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('broker unavailable');
    }
    this.published.push({ subject, event: JSON.parse(JSON.stringify(event)) as CloudEvent });
    for (const waiter of this.waiters.filter((entry) => this.published.length >= entry.count)) waiter.resolve();
  }

  /** Resolves once `count` events were published in total. */
  until(count: number): Promise<void> {
    if (this.published.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  ids(): string[] {
    return this.published.map((entry) => entry.event.id);
  }
}

/** Holds a transaction open until the test lets it go. */
function gate(): { opened: Promise<void>; open(): void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open: () => open() };
}

/** Counts the drains a started relay runs and lets a test await the next one to finish. */
function observeDrains(relay: OutboxRelay): { count: number; next(): Promise<number> } {
  const drain = relay.drain.bind(relay);
  let waiting: ((published: number) => void)[] = [];
  const observed = {
    count: 0,
    next: () => new Promise<number>((resolve) => waiting.push(resolve)),
  };
  relay.drain = async () => {
    const published = await drain();
    observed.count++;
    const resolvers = waiting;
    waiting = [];
    for (const resolve of resolvers) resolve(published);
    return published;
  };
  return observed;
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

export function describeServiceDatabaseConformance(name: string, backend: DatabaseBackend): void {
  describe(`service database and outbox: ${name}`, () => {
    let database: TestDatabase;
    const opened: DataSource[] = [];
    let clock: ManualClock;

    const openDatabase = async () => {
      const dataSource = await openServiceDatabase({ service: SERVICE, config: database.config, entities: ENTITIES, migrations: MIGRATIONS });
      opened.push(dataSource);
      return dataSource;
    };
    const outboxRows = (dataSource: DataSource) =>
      dataSource.getRepository(OutboxEventEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    const recordAccount = (outbox: Outbox, manager: EntityManager, accountId: string) =>
      outbox.record(manager, 'iam.account.created', { accountId, adminIamId: `IBMid-${accountId}` });

    beforeEach(async () => {
      CreateWidgets1764374400001.runs = 0;
      clock = new ManualClock(START);
      database = await backend.fresh();
    });

    afterEach(async () => {
      for (const dataSource of opened.splice(0)) {
        if (dataSource.isInitialized) await dataSource.destroy();
      }
      await database.drop();
    });

    describe('openServiceDatabase', () => {
      it('creates the service schema and runs every migration', async () => {
        const dataSource = await openDatabase();
        expect((await backend.tablesOf(dataSource, SERVICE)).sort()).toEqual(['outbox_events', 'sealbox_migrations', 'widgets']);
        const executed = await dataSource.query('SELECT name FROM sealbox_migrations ORDER BY name');
        expect(executed).toEqual([{ name: 'CreateOutbox1764374400000' }, { name: 'CreateWidgets1764374400001' }]);
        expect(CreateWidgets1764374400001.runs).toBe(1);
      });

      it('runs no migration again when reopened', async () => {
        const first = await openDatabase();
        await first.getRepository(WidgetEntity).insert({ id: 'w1', name: 'kept' });
        await first.destroy();
        const second = await openDatabase();
        expect(CreateWidgets1764374400001.runs).toBe(1);
        expect(await second.getRepository(WidgetEntity).find()).toEqual([{ id: 'w1', name: 'kept' }]);
      });

      it('answers a ping once open', async () => {
        await expect(pingDatabase(await openDatabase())).resolves.toBeUndefined();
      });

      it('fails to open when a migration fails, keeps what migrated before it, and retries it on the next open', async () => {
        const open = (failing: boolean) => {
          FlakyMigration1764374400002.failing = failing;
          return openServiceDatabase({ service: SERVICE, config: database.config, entities: ENTITIES, migrations: [...MIGRATIONS, FlakyMigration1764374400002] });
        };
        await expect(open(true)).rejects.toThrow('migration failed halfway');
        const reopened = await open(false);
        opened.push(reopened);
        expect((await backend.tablesOf(reopened, SERVICE)).sort()).toEqual(['flaky', 'outbox_events', 'sealbox_migrations', 'widgets']);
        expect(CreateWidgets1764374400001.runs).toBe(1);
        const executed = await reopened.query('SELECT name FROM sealbox_migrations ORDER BY name');
        expect(executed.map((row: { name: string }) => row.name)).toEqual([
          'CreateOutbox1764374400000',
          'CreateWidgets1764374400001',
          'FlakyMigration1764374400002',
        ]);
      });

      it('migrates once when two replicas open the same database at the same time', async () => {
        const [first, second] = await Promise.all([openDatabase(), openDatabase()]);
        expect(CreateWidgets1764374400001.runs).toBe(1);
        const executed = await first.query('SELECT name FROM sealbox_migrations ORDER BY name');
        expect(executed).toEqual([{ name: 'CreateOutbox1764374400000' }, { name: 'CreateWidgets1764374400001' }]);
        await first.getRepository(WidgetEntity).insert({ id: 'w1', name: 'seen by both' });
        expect(await second.getRepository(WidgetEntity).count()).toBe(1);
      });
    });

    describe('transactions', () => {
      it('does not let a commit made while another transaction is open be undone by its rollback', async () => {
        const dataSource = await openDatabase();
        const hold = gate();
        let entered: () => void = () => undefined;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const failing = dataSource.transaction(async (manager) => {
          await manager.insert(WidgetEntity, { id: 'rolled-back', name: 'a' });
          entered();
          await hold.opened;
          throw new Error('business rule failed');
        });
        await inside;
        const committing = dataSource.transaction(async (manager) => {
          await manager.insert(WidgetEntity, { id: 'committed', name: 'b' });
        });
        hold.open();
        expect((await rejectionOf(failing)).message).toBe('business rule failed');
        await committing;
        expect(await dataSource.getRepository(WidgetEntity).find()).toEqual([{ id: 'committed', name: 'b' }]);
      });

      it('does not show rows of an open transaction to readers outside it', async () => {
        const dataSource = await openDatabase();
        const hold = gate();
        let entered: () => void = () => undefined;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const transaction = dataSource.transaction(async (manager) => {
          await manager.insert(WidgetEntity, { id: 'w1', name: 'never committed' });
          entered();
          await hold.opened;
          throw new Error('rolled back');
        });
        await inside;
        // Issued while the row exists only inside the open transaction.
        const reading = dataSource.getRepository(WidgetEntity).find();
        hold.open();
        await rejectionOf(transaction);
        expect(await reading).toEqual([]);
      });

      it('keeps writes made outside an open transaction when that transaction rolls back', async () => {
        const dataSource = await openDatabase();
        const hold = gate();
        let entered: () => void = () => undefined;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const transaction = dataSource.transaction(async (manager) => {
          await manager.insert(WidgetEntity, { id: 'inside', name: 'rolled back' });
          entered();
          await hold.opened;
          throw new Error('rolled back');
        });
        await inside;
        const repository = dataSource.getRepository(WidgetEntity);
        // A plain statement, and save() (which wraps itself in a transaction of its own).
        const writes = Promise.all([repository.insert({ id: 'plain', name: 'kept' }), repository.save({ id: 'saved', name: 'kept' })]);
        hold.open();
        await rejectionOf(transaction);
        await writes;
        expect(await repository.find({ order: { id: 'ASC' } })).toEqual([
          { id: 'plain', name: 'kept' },
          { id: 'saved', name: 'kept' },
        ]);
      });

      it('does not commit a transaction whose request deadline passed (rolled back, 503), and commits one with time left', async () => {
        const dataSource = await openDatabase();
        const contextManager = new AsyncLocalStorageContextManager().enable();
        context.setGlobalContextManager(contextManager);
        try {
          const late = await rejectionOf(
            context.with(withDeadline(ROOT_CONTEXT, Date.now() + 30), () =>
              dataSource.transaction(async (manager) => {
                await manager.insert(WidgetEntity, { id: 'late', name: 'nobody waits for it' });
                // The caller gives up while the work is under way (a slow dependency, a frozen replica).
                await new Promise((resolve) => setTimeout(resolve, 60));
              }),
            ),
          );
          expect(late).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
          await context.with(withDeadline(ROOT_CONTEXT, Date.now() + 10_000), () =>
            dataSource.transaction((manager) => manager.insert(WidgetEntity, { id: 'in-time', name: 'kept' })),
          );
          // Outside any request (relay, schedulers): no deadline, commits.
          await dataSource.transaction((manager) => manager.insert(WidgetEntity, { id: 'no-deadline', name: 'kept' }));
          expect((await dataSource.getRepository(WidgetEntity).find({ order: { id: 'ASC' } })).map((widget) => widget.id)).toEqual(['in-time', 'no-deadline']);
        } finally {
          context.disable();
        }
      });

      it('treats a transaction inside a transaction as part of it (savepoint)', async () => {
        const dataSource = await openDatabase();
        await dataSource.transaction(async (manager) => {
          await manager.insert(WidgetEntity, { id: 'outer', name: 'kept' });
          await rejectionOf(
            manager.transaction(async (inner) => {
              await inner.insert(WidgetEntity, { id: 'inner', name: 'rolled back' });
              throw new Error('inner failed');
            }),
          );
          await manager.transaction((inner) => inner.insert(WidgetEntity, { id: 'inner-ok', name: 'kept' }));
        });
        expect(await dataSource.getRepository(WidgetEntity).find({ order: { id: 'ASC' } })).toEqual([
          { id: 'inner-ok', name: 'kept' },
          { id: 'outer', name: 'kept' },
        ]);
      });

      it('runs many concurrent transactions, each committing or rolling back on its own', async () => {
        const dataSource = await openDatabase();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 12 }, (_, index) =>
            dataSource.transaction(async (manager) => {
              await manager.insert(WidgetEntity, { id: `w${String(index).padStart(2, '0')}`, name: 'x' });
              await new Promise((resolve) => setImmediate(resolve));
              if (index % 3 === 0) throw new Error(`fail ${index}`);
            }),
          ),
        );
        expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(4);
        const kept = (await dataSource.getRepository(WidgetEntity).find({ order: { id: 'ASC' } })).map((widget) => widget.id);
        expect(kept).toEqual(['w01', 'w02', 'w04', 'w05', 'w07', 'w08', 'w10', 'w11']);
      });
    });

    describe('Outbox.record', () => {
      it('records a CloudEvent in the caller transaction, committed with the state change', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const event = await dataSource.transaction(async (manager) => {
          await manager.insert(WidgetEntity, { id: 'w1', name: 'state' });
          return recordAccount(outbox, manager, 'a1');
        });
        expect(CloudEvent.parse(event)).toEqual(event);
        expect(event).toMatchObject({
          specversion: '1.0',
          source: '/sealbox/iam',
          type: 'com.sealbox.iam.account.created',
          time: new Date(START).toISOString(),
          datacontenttype: 'application/json',
          data: { accountId: 'a1', adminIamId: 'IBMid-a1' },
        });
        const rows = await outboxRows(dataSource);
        expect(rows).toEqual([
          { id: event.id, subject: 'events.iam.account.created', envelope: JSON.stringify(event), createdAt: START, attempts: 0 },
        ]);
      });

      it('leaves no row when the transaction rolls back', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const failure = await rejectionOf(
          dataSource.transaction(async (manager) => {
            await manager.insert(WidgetEntity, { id: 'w1', name: 'state' });
            await recordAccount(outbox, manager, 'a1');
            throw new Error('later step failed');
          }),
        );
        expect(failure.message).toBe('later step failed');
        expect(await outboxRows(dataSource)).toEqual([]);
        expect(await dataSource.getRepository(WidgetEntity).count()).toBe(0);
      });

      it('refuses event data that breaks the registry schema and records nothing', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const invalid = { accountId: 42 } as unknown as { accountId: string; adminIamId: string };
        await rejectionOf(dataSource.transaction((manager) => outbox.record(manager, 'iam.account.created', invalid)));
        expect(await outboxRows(dataSource)).toEqual([]);
      });
    });

    describe('OutboxRelay', () => {
      const relayOf = (dataSource: DataSource, publisher: EventPublisher, options?: Partial<RelayOptions>) =>
        new OutboxRelay(dataSource, publisher, quiet(), { batchSize: 100, idleMs: 60_000, baseBackoffMs: 500, maxBackoffMs: 60_000, ...options });

      it('publishes committed events in the order they were recorded, then deletes them', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const recorded: CloudEvent[] = [];
        // Several events of one transaction share the clock's millisecond.
        await dataSource.transaction(async (manager) => {
          for (const account of ['a1', 'a2', 'a3', 'a4', 'a5']) recorded.push(await recordAccount(outbox, manager, account));
        });
        clock.advance(1);
        await dataSource.transaction(async (manager) => {
          recorded.push(await outbox.record(manager, 'iam.apikey.created', { accountId: 'a1', apikeyId: 'k1', iamId: 'i1', name: 'ci', createdBy: 'i1' }));
        });
        const publisher = new RecordingPublisher();
        expect(await relayOf(dataSource, publisher).drain()).toBe(6);
        expect(publisher.ids()).toEqual(recorded.map((event) => event.id));
        expect(publisher.published.map((entry) => entry.subject)).toEqual([
          ...Array(5).fill('events.iam.account.created'),
          'events.iam.apikey.created',
        ]);
        expect(publisher.published.map((entry) => entry.event)).toEqual(recorded);
        expect(await outboxRows(dataSource)).toEqual([]);
      });

      it('drains more events than one batch', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const ids: string[] = [];
        for (const account of ['a1', 'a2', 'a3', 'a4', 'a5']) {
          ids.push((await dataSource.transaction((manager) => recordAccount(outbox, manager, account))).id);
        }
        const publisher = new RecordingPublisher();
        expect(await relayOf(dataSource, publisher, { batchSize: 2 }).drain()).toBe(5);
        expect(publisher.ids()).toEqual(ids);
      });

      it('does not publish an event whose transaction has not committed yet', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const publisher = new RecordingPublisher();
        const relay = relayOf(dataSource, publisher);
        const hold = gate();
        let entered: () => void = () => undefined;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const transaction = dataSource.transaction(async (manager) => {
          await recordAccount(outbox, manager, 'a1');
          entered();
          await hold.opened;
          throw new Error('rolled back after all');
        });
        await inside;
        const draining = relay.drain();
        hold.open();
        await rejectionOf(transaction);
        expect(await draining).toBe(0);
        expect(publisher.published).toEqual([]);
        expect(await outboxRows(dataSource)).toEqual([]);
      });

      it('loses nothing while the broker fails: rows stay, attempts count up, order holds', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const ids: string[] = [];
        for (const account of ['a1', 'a2', 'a3']) {
          ids.push((await dataSource.transaction((manager) => recordAccount(outbox, manager, account))).id);
          clock.advance(1000);
        }
        const publisher = new RecordingPublisher();
        const relay = relayOf(dataSource, publisher);
        // The broker is down: every publish of each of three drains fails.
        publisher.failures = 9;
        for (let attempt = 1; attempt <= 3; attempt++) {
          expect((await rejectionOf(relay.drain())).message).toBe('broker unavailable');
          const rows = await outboxRows(dataSource);
          expect(rows.map((row) => [row.id, row.attempts])).toEqual([
            [ids[0], attempt],
            [ids[1], attempt],
            [ids[2], attempt],
          ]);
        }
        expect(publisher.published).toEqual([]);
        expect(await relay.drain()).toBe(3);
        expect(publisher.ids()).toEqual(ids);
        expect(publisher.attempts).toBe(12);
        expect(await outboxRows(dataSource)).toEqual([]);
      });

      it('keeps only the events the broker refused; the rest of the batch, stored, is deleted; the refused go out next time', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const ids: string[] = [];
        for (const account of ['a1', 'a2', 'a3']) {
          ids.push((await dataSource.transaction((manager) => recordAccount(outbox, manager, account))).id);
          clock.advance(1000);
        }
        const flaky: EventPublisher & { calls: number; inner: RecordingPublisher } = {
          calls: 0,
          inner: new RecordingPublisher(),
          async publish(subject, event) {
            this.calls++;
            if (this.calls === 2) throw new Error('connection reset');
            await this.inner.publish(subject, event);
          },
        };
        const relay = relayOf(dataSource, flaky);
        expect((await rejectionOf(relay.drain())).message).toBe('connection reset');
        expect(flaky.inner.ids()).toEqual([ids[0], ids[2]]);
        expect((await outboxRows(dataSource)).map((row) => [row.id, row.attempts])).toEqual([[ids[1], 1]]);
        expect(await relay.drain()).toBe(1);
        expect(flaky.inner.ids()).toEqual([ids[0], ids[2], ids[1]]);
        expect(await outboxRows(dataSource)).toEqual([]);
      });

      it("sends a batch's events back to back, in order, without waiting for each acknowledgement", async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const ids: string[] = [];
        for (const account of ['a1', 'a2', 'a3', 'a4']) {
          ids.push((await dataSource.transaction((manager) => recordAccount(outbox, manager, account))).id);
          clock.advance(1000);
        }
        const sent: string[] = [];
        let inFlight = 0;
        let mostInFlight = 0;
        const acks = gate();
        const slow: EventPublisher = {
          async publish(_subject, event) {
            sent.push(event.id);
            mostInFlight = Math.max(mostInFlight, ++inFlight);
            await acks.opened;
            inFlight--;
          },
        };
        const drained = relayOf(dataSource, slow).drain();
        await expect.poll(() => sent.length).toBe(4);
        expect(mostInFlight).toBe(4);
        expect(sent).toEqual(ids);
        acks.open();
        expect(await drained).toBe(4);
        expect(await outboxRows(dataSource)).toEqual([]);
      });

      it('drains at once when the broker says it is reachable again, without waiting out the backoff', async () => {
        const dataSource = await openDatabase();
        const outbox = new Outbox(SERVICE, clock);
        const recorded = await dataSource.transaction((manager) => recordAccount(outbox, manager, 'a1'));
        const listeners = new Set<() => void>();
        const publisher = new RecordingPublisher();
        publisher.failures = 1;
        const reachable: EventPublisher = {
          publish: (subject, event) => publisher.publish(subject, event),
          onReachable: (listener) => {
            listeners.add(listener);
            return () => listeners.delete(listener);
          },
        };
        // After a failure the next try would be two minutes away.
        const relay = relayOf(dataSource, reachable, { baseBackoffMs: 120_000, maxBackoffMs: 120_000 });
        relay.start();
        try {
          await expect.poll(() => publisher.attempts).toBe(1);
          expect(publisher.published).toEqual([]);
          for (const listener of listeners) listener();
          await publisher.until(1);
          expect(publisher.ids()).toEqual([recorded.id]);
        } finally {
          await relay.stop();
        }
        expect(listeners.size).toBe(0);
      });

      it('publishes by itself once started: an event recorded in a transaction is published after its commit', async () => {
        const dataSource = await openDatabase();
        const publisher = new RecordingPublisher();
        const relay = relayOf(dataSource, publisher);
        const outbox = new Outbox(SERVICE, clock, () => relay.nudge());
        relay.start();
        try {
          const hold = gate();
          const transaction = dataSource.transaction(async (manager) => {
            const event = await recordAccount(outbox, manager, 'a1');
            // The nudge fires while this transaction is still open.
            await new Promise((resolve) => setImmediate(resolve));
            await hold.opened;
            return event;
          });
          await new Promise((resolve) => setImmediate(resolve));
          hold.open();
          const event = await transaction;
          await publisher.until(1);
          expect(publisher.ids()).toEqual([event.id]);
        } finally {
          await relay.stop();
        }
      });

      it('is nudged by the commit of a transaction that recorded an event (no polling needed)', { timeout: 10_000 }, async () => {
        const dataSource = await openDatabase();
        const publisher = new RecordingPublisher();
        // Polls only once a minute: a publication within the test timeout must come from the commit.
        const relay = relayOf(dataSource, publisher);
        const drains = observeDrains(relay);
        // No nudge from Outbox.record itself.
        const outbox = new Outbox(SERVICE, clock);
        relay.start();
        try {
          expect(await drains.next()).toBe(0);
          const event = await dataSource.transaction((manager) => recordAccount(outbox, manager, 'a1'));
          await publisher.until(1);
          expect(publisher.ids()).toEqual([event.id]);
        } finally {
          await relay.stop();
        }
      });

      it('drains outside the context of whoever nudged it (not in their trace, not in their transaction)', async () => {
        const dataSource = await openDatabase();
        const relay = relayOf(dataSource, new RecordingPublisher());
        const drains = observeDrains(relay);
        const caller = new AsyncLocalStorage<string>();
        let seenByDrain: string | undefined = 'not drained yet';
        const drain = relay.drain.bind(relay);
        relay.drain = () => {
          seenByDrain = caller.getStore();
          return drain();
        };
        relay.start();
        try {
          await drains.next();
          // Let the start-up tick finish, so the nudge schedules the next drain itself.
          await new Promise((resolve) => setImmediate(resolve));
          caller.run('request 42', () => relay.nudge());
          await drains.next();
          expect(seenByDrain).toBeUndefined();
        } finally {
          await relay.stop();
        }
      });

      it('is nudged once by each commit that recorded events, not by other commits nor rollbacks', async () => {
        const dataSource = await openDatabase();
        const relay = relayOf(dataSource, new RecordingPublisher());
        let nudges = 0;
        const nudge = relay.nudge.bind(relay);
        relay.nudge = () => {
          nudges++;
          nudge();
        };
        const outbox = new Outbox(SERVICE, clock);
        relay.start();
        try {
          await dataSource.transaction((manager) => manager.insert(WidgetEntity, { id: 'w1', name: 'no event' }));
          expect(nudges).toBe(0);
          await rejectionOf(
            dataSource.transaction(async (manager) => {
              await recordAccount(outbox, manager, 'a1');
              throw new Error('rolled back');
            }),
          );
          expect(nudges).toBe(0);
          await dataSource.transaction(async (manager) => {
            await recordAccount(outbox, manager, 'a2');
            await recordAccount(outbox, manager, 'a3');
            // A nested transaction's commit is not the commit.
            await manager.transaction((inner) => recordAccount(outbox, inner, 'a4'));
            expect(nudges).toBe(0);
          });
          expect(nudges).toBe(1);
        } finally {
          await relay.stop();
        }
      });
    });

    describe('ServiceDatabaseModule', () => {
      it('provides the DataSource and Outbox, and publishes recorded events through the process EventPublisher', async () => {
        const bus = new InProcessEventBus();
        const received: CloudEvent[] = [];
        let delivered: () => void = () => undefined;
        const arrived = new Promise<void>((resolve) => (delivered = resolve));
        bus.subscribe('events.iam.>', (_subject, event) => {
          received.push(event);
          delivered();
        });

        @Module({
          imports: [
            PlatformModule.forRoot({
              logger: quiet(),
              clientProxy: { request: () => Promise.reject(new Error('no RPC in this test')), close: async () => undefined },
              rpcTimeoutMs: 1000,
              eventPublisher: bus,
              clock,
            }),
            ServiceDatabaseModule.register({ service: SERVICE, config: database.config, entities: [WidgetEntity], migrations: [CreateWidgets1764374400001] }),
          ],
        })
        class ServiceUnderTestModule {}

        const app = await NestFactory.createApplicationContext(ServiceUnderTestModule, { logger: false, abortOnError: false });
        let dataSource: DataSource | undefined;
        try {
          await app.init();
          dataSource = app.get<DataSource>(dataSourceToken(SERVICE));
          const outbox = app.get<Outbox>(outboxToken(SERVICE));
          expect((await backend.tablesOf(dataSource, SERVICE)).sort()).toEqual(['outbox_events', 'sealbox_migrations', 'widgets']);
          const manager = dataSource.manager;
          const event = await manager.transaction(async (tx) => {
            await tx.insert(WidgetEntity, { id: 'w1', name: 'state' });
            return recordAccount(outbox, tx, 'a1');
          });
          await arrived;
          expect(received).toEqual([event]);
        } finally {
          await app.close();
        }
        expect(dataSource?.isInitialized).toBe(false);
      });
    });
  });
}
