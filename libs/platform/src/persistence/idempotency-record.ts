import { randomUUID } from 'node:crypto';
import { Column, Entity, Index, LessThanOrEqual, PrimaryColumn, Table, TableIndex, type EntityManager, type MigrationInterface, type QueryRunner } from 'typeorm';
import { DomainError, serviceUnavailable } from '../errors/domain-error.js';
import { activeDeadline } from '../rpc/deadline.js';
import type { IdempotencyKey } from '../rpc/idempotency.js';
import type { Clock } from '../time/clock.js';
import { EpochMsColumn } from './columns.js';

/** How long a key and the result of its first attempt are kept (the IETF draft suggests at least 24 hours). */
export const IDEMPOTENCY_RECORD_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * One Idempotency-Key a service acted on, written in the same transaction as the work it guards:
 * if the work committed, so did the key, and the other way round.
 */
@Entity({ name: 'idempotency_records' })
@Index('idempotency_records_expiry', ['expiresAt'])
export class IdempotencyRecordEntity {
  /** SHA-256 hex of the identity and the client's key (the gateway scopes it). */
  @PrimaryColumn({ name: 'idempotency_key', type: 'varchar', length: 64 })
  key!: string;

  /** SHA-256 hex of the request the key was first sent with. */
  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  /** A random id of the attempt that wrote the row: an attempt tells its own row from another's. */
  @Column({ type: 'varchar', length: 36 })
  attempt!: string;

  /**
   * What the service kept of the result, as JSON, to answer a retry with: references (ids), never
   * secret material (a replay reads the rest again).
   */
  @Column({ type: 'text', nullable: true })
  result!: string | null;

  @EpochMsColumn('created_at')
  createdAt!: number;

  @EpochMsColumn('expires_at')
  expiresAt!: number;
}

/** Creates `idempotency_records`; a service that records keys lists it among its migrations. */
export class CreateIdempotencyRecords1765200000000 implements MigrationInterface {
  name = 'CreateIdempotencyRecords1765200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'idempotency_records',
        columns: [
          { name: 'idempotency_key', type: 'varchar', length: '64', isPrimary: true },
          { name: 'fingerprint', type: 'varchar', length: '64' },
          { name: 'attempt', type: 'varchar', length: '36' },
          { name: 'result', type: 'text', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await runner.createIndex('idempotency_records', new TableIndex({ name: 'idempotency_records_expiry', columnNames: ['expires_at'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('idempotency_records');
  }
}

/** What `inTransactionOnce` did: ran the work (first attempt), or found the key done by an earlier one. */
export type OnceOutcome<T> =
  | { readonly replayed: false; readonly result: T }
  | { readonly replayed: true; readonly kept: unknown };

export const idempotencyKeyReused = () =>
  new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request (method, path or body)');

/**
 * Do a write at most once per Idempotency-Key, any service, any database: the key is recorded in
 * the same transaction as the write, so a retry after a lost answer (the caller's process died, the
 * broker stopped, the deadline passed on the way back) finds it committed with the write, or not at
 * all. The unique key serializes two attempts running together: the second one's insert waits for
 * the first's transaction (PostgreSQL), then finds its row and replays it; if the first rolled back,
 * the second goes on as the first. On SQLite one transaction runs at a time anyway.
 */
export class IdempotencyRecords {
  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = IDEMPOTENCY_RECORD_TTL_MS,
  ) {}

  /**
   * The kept result of a key done by a committed attempt, undefined if none (or expired);
   * IDEMPOTENCY_KEY_REUSED if the key came with another request. A cheap check before doing work
   * outside the transaction (sealing, storing objects) that a replay would throw away.
   */
  async find(manager: EntityManager, once: IdempotencyKey): Promise<{ readonly kept: unknown } | undefined> {
    const row = await manager.findOneBy(IdempotencyRecordEntity, { key: once.key });
    if (!row || row.expiresAt <= this.clock.nowMs()) return undefined;
    if (row.fingerprint !== once.fingerprint) throw idempotencyKeyReused();
    return { kept: parse(row.result) };
  }

  /**
   * In the caller's transaction (`manager` must be a transaction's, and this its first write): claim
   * the key, then `run` the work and keep `keep(result)` with the key; or, when an earlier attempt
   * committed the key, do nothing and answer what it kept (IDEMPOTENCY_KEY_REUSED if it came with
   * another request). On a replay the caller must write nothing more and answer from `kept`.
   */
  async inTransactionOnce<T>(
    manager: EntityManager,
    once: IdempotencyKey,
    run: () => Promise<T>,
    keep: (result: T) => unknown,
  ): Promise<OnceOutcome<T>> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('inTransactionOnce needs the EntityManager of an open transaction');
    const attempt = randomUUID();
    const now = this.clock.nowMs();
    const fresh = { fingerprint: once.fingerprint, attempt, result: null, createdAt: now, expiresAt: now + this.ttlMs };
    // ON CONFLICT DO NOTHING (PostgreSQL), INSERT OR IGNORE (SQLite): a key in use is not an error
    // that would abort the transaction. On PostgreSQL this waits for an uncommitted row of the same key.
    await this.claim(manager, manager.createQueryBuilder().insert().into(IdempotencyRecordEntity).values({ key: once.key, ...fresh }).orIgnore());
    let row = await manager.findOneBy(IdempotencyRecordEntity, { key: once.key });
    if (row && row.attempt !== attempt && row.expiresAt <= now) {
      // Expired but not purged yet: the key starts over (the row lock makes one attempt win).
      await manager.update(IdempotencyRecordEntity, { key: once.key, expiresAt: LessThanOrEqual(now) }, fresh);
      row = await manager.findOneBy(IdempotencyRecordEntity, { key: once.key });
    }
    if (!row) throw new Error('the idempotency record vanished within its transaction');
    if (row.attempt !== attempt) {
      if (row.fingerprint !== once.fingerprint) throw idempotencyKeyReused();
      return { replayed: true, kept: parse(row.result) };
    }
    const result = await run();
    await manager.update(IdempotencyRecordEntity, { key: once.key }, { result: JSON.stringify(keep(result) ?? null) });
    return { replayed: false, result };
  }

  /**
   * Run the claiming insert. On PostgreSQL it waits for another attempt's open transaction with the
   * same key for at most what remains of this request's deadline: an attempt stuck mid-transaction (a
   * frozen replica) would otherwise hold every retry, and a connection for each, until it resumes.
   * Past the deadline the retry is answered 503 and tries again later.
   */
  private async claim(manager: EntityManager, insert: { execute(): Promise<unknown> }): Promise<void> {
    const deadline = activeDeadline();
    if (manager.connection.options.type !== 'postgres' || deadline === undefined) {
      await insert.execute();
      return;
    }
    const waitMs = Math.max(1, deadline - Date.now());
    await manager.query(`SET LOCAL lock_timeout = '${waitMs}ms'`);
    try {
      await insert.execute();
    } catch (error) {
      if (codeOf(error) === LOCK_NOT_AVAILABLE) throw serviceUnavailable('An earlier attempt with this Idempotency-Key is still running: retry in a moment');
      throw error;
    }
    await manager.query('SET LOCAL lock_timeout TO DEFAULT');
  }

  /** Remove expired records; how many (a scheduler calls it). */
  async purgeExpired(manager: EntityManager): Promise<number> {
    const result = await manager.delete(IdempotencyRecordEntity, { expiresAt: LessThanOrEqual(this.clock.nowMs()) });
    return result.affected ?? 0;
  }
}

/** PostgreSQL's SQLSTATE when lock_timeout ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

function codeOf(error: unknown): string | undefined {
  const driverError = (error as { driverError?: unknown } | null)?.driverError ?? error;
  const code = (driverError as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function parse(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}
