import { AsyncLocalStorage } from 'node:async_hooks';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { GroupSync } from './group-sync.js';

/**
 * fsync `<database>-wal` (and, once, its directory: the file's name must survive too); nothing to do
 * before the first write. With a GroupSync of it and `synchronous = NORMAL`, commits are durable
 * (group commit): SQLite's own `synchronous = FULL` fsyncs inside COMMIT, which better-sqlite3 runs
 * on the event loop, stalling every request of the process for each commit.
 */
export function walFsync(databasePath: string): () => Promise<void> {
  let directorySynced = false;
  return async () => {
    let handle;
    try {
      handle = await open(`${databasePath}-wal`, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!directorySynced) {
      const directory = await open(dirname(databasePath), 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
      directorySynced = true;
    }
  };
}

/** Statements that change the database (outside a transaction they commit on their own). */
const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH)\b/i;

/** A FIFO lock handed from one holder to the next. */
class HandOffLock {
  private holder: symbol | undefined;
  private readonly queue: { token: symbol; resolve: () => void }[] = [];

  isHeldBy(token: symbol | undefined): boolean {
    return token !== undefined && this.holder === token;
  }

  acquire(token: symbol): Promise<void> {
    if (this.holder === undefined) {
      this.holder = token;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push({ token, resolve }));
  }

  release(token: symbol): void {
    if (this.holder !== token) return;
    const next = this.queue.shift();
    this.holder = next?.token;
    next?.resolve();
  }
}

type Query = QueryRunner['query'];
type StartTransaction = QueryRunner['startTransaction'];
type EndTransaction = QueryRunner['commitTransaction'];
type Transaction = (...args: unknown[]) => Promise<unknown>;

/**
 * Give each transaction on an SQLite DataSource the connection to itself.
 *
 * TypeORM's better-sqlite3 driver has ONE connection and ONE QueryRunner for the whole DataSource.
 * Left alone, a transaction started while another is open becomes a savepoint inside it (its
 * "commit" is undone when the outer one rolls back, or fails with TransactionNotStartedError), and a
 * query from anywhere else runs inside the open transaction: it reads uncommitted rows (the outbox
 * relay published events of transactions that then rolled back) and its writes share their fate.
 *
 * Here a transaction holds the connection from BEGIN to COMMIT/ROLLBACK; everything else waits:
 * - `dataSource.transaction()` / `dataSource.manager.transaction()` (what domain code uses): the
 *   callback and everything it awaits own the connection (tracked with AsyncLocalStorage), so nested
 *   transactions there are savepoints of it, as intended;
 * - a transaction TypeORM starts by itself outside those (`save()`/`remove()` wrap their statements
 *   in one) holds the connection for its few statements; statements from elsewhere can still slip
 *   into that short window, which is no worse than without this;
 * - any other statement waits for the connection to be free and takes it for its own duration.
 *
 * SQLite executes one statement at a time anyway (better-sqlite3 is synchronous), so this costs
 * ordering, not throughput.
 *
 * With `durability` (a GroupSync of `walFsync`, the database in `synchronous = NORMAL`), every commit is made
 * durable before its caller continues: a top-level transaction, an implicit one and a write statement
 * outside any transaction resolve only after a WAL fsync that began after their commit. The
 * connection is released first, so the next transaction runs while the fsync does.
 */
export function serializeSqliteAccess(dataSource: DataSource, durability?: GroupSync): void {
  const lock = new HandOffLock();
  const owner = new AsyncLocalStorage<symbol>();
  let implicit: symbol | undefined;
  const runner = dataSource.createQueryRunner();

  const owns = () => lock.isHeldBy(owner.getStore()) || lock.isHeldBy(implicit);

  const durable = async () => {
    await durability?.durable();
  };

  const query = runner.query.bind(runner) as Query;
  runner.query = (async (...args: Parameters<Query>) => {
    if (owns()) return query(...args);
    const token = Symbol('statement');
    await lock.acquire(token);
    let result;
    try {
      result = await query(...args);
    } finally {
      lock.release(token);
    }
    if (WRITE.test(args[0])) await durable();
    return result;
  }) as Query;

  const startTransaction = runner.startTransaction.bind(runner);
  runner.startTransaction = (async (...args: Parameters<StartTransaction>) => {
    if (owns()) return startTransaction(...args);
    const token = Symbol('implicit transaction');
    await lock.acquire(token);
    implicit = token;
    try {
      await startTransaction(...args);
    } catch (error) {
      endImplicit();
      throw error;
    }
  }) as StartTransaction;

  /** Releases the connection when an implicit transaction ended; whether it did. */
  const endImplicit = (): boolean => {
    if (runner.isTransactionActive || implicit === undefined) return false;
    const token = implicit;
    implicit = undefined;
    lock.release(token);
    return true;
  };
  for (const method of ['commitTransaction', 'rollbackTransaction'] as const) {
    const end = runner[method].bind(runner) as EndTransaction;
    runner[method] = (async () => {
      let ended = false;
      try {
        await end();
      } finally {
        ended = endImplicit();
      }
      if (ended && method === 'commitTransaction') await durable();
    }) as EndTransaction;
  }

  const manager: EntityManager = dataSource.manager;
  const transaction = manager.transaction.bind(manager) as Transaction;
  const serialized: Transaction = async (...args) => {
    // Nested in the transaction that holds the connection: a savepoint of it.
    if (lock.isHeldBy(owner.getStore())) return transaction(...args);
    const token = Symbol('transaction');
    await lock.acquire(token);
    let result: unknown;
    try {
      result = await owner.run(token, () => transaction(...args));
    } finally {
      lock.release(token);
    }
    // Committed (a rollback threw above): on disk before the caller goes on.
    await durable();
    return result;
  };
  manager.transaction = serialized as unknown as EntityManager['transaction'];
}
