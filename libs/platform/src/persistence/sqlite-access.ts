import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

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
 */
export function serializeSqliteAccess(dataSource: DataSource): void {
  const lock = new HandOffLock();
  const owner = new AsyncLocalStorage<symbol>();
  let implicit: symbol | undefined;
  const runner = dataSource.createQueryRunner();

  const owns = () => lock.isHeldBy(owner.getStore()) || lock.isHeldBy(implicit);

  const query = runner.query.bind(runner) as Query;
  runner.query = (async (...args: Parameters<Query>) => {
    if (owns()) return query(...args);
    const token = Symbol('statement');
    await lock.acquire(token);
    try {
      return await query(...args);
    } finally {
      lock.release(token);
    }
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

  const endImplicit = () => {
    if (runner.isTransactionActive || implicit === undefined) return;
    const token = implicit;
    implicit = undefined;
    lock.release(token);
  };
  for (const method of ['commitTransaction', 'rollbackTransaction'] as const) {
    const end = runner[method].bind(runner) as EndTransaction;
    runner[method] = (async () => {
      try {
        await end();
      } finally {
        endImplicit();
      }
    }) as EndTransaction;
  }

  const manager: EntityManager = dataSource.manager;
  const transaction = manager.transaction.bind(manager) as Transaction;
  const serialized: Transaction = async (...args) => {
    // Nested in the transaction that holds the connection: a savepoint of it.
    if (lock.isHeldBy(owner.getStore())) return transaction(...args);
    const token = Symbol('transaction');
    await lock.acquire(token);
    try {
      return await owner.run(token, () => transaction(...args));
    } finally {
      lock.release(token);
    }
  };
  manager.transaction = serialized as unknown as EntityManager['transaction'];
}
