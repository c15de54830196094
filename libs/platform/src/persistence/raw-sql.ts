import Database from 'better-sqlite3';
import type pg from 'pg';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

/**
 * Hand-written SQL through the driver, for hot paths: no query building, each statement prepared once
 * (PostgreSQL: a named statement, parsed and planned once per connection; SQLite: a cached prepared
 * statement). TypeORM stays for entities, migrations and everything that is not hot.
 */
export interface SqlStatement {
  /** PostgreSQL prepares the statement under this name on each connection: one name, one text. */
  readonly name: string;
  /** `$1`, `$2`, … placeholders (SQLite reads them as named parameters `1`, `2`, …: a value may be used twice). */
  readonly text: string;
}

/** A bound value: text, numbers, booleans, NULL; arrays only on PostgreSQL. */
export type SqlValue = string | number | boolean | null | readonly string[] | readonly number[];

export type SqlRow = Record<string, unknown>;

/** Reads committed rows only (never another request's open transaction). */
export interface SqlReader {
  rows(statement: SqlStatement, values: readonly SqlValue[]): Promise<SqlRow[]>;
  close(): Promise<void>;
}

/** Statements inside the caller's TypeORM transaction (the one `manager` belongs to). */
export interface SqlTransaction {
  rows(statement: SqlStatement, values: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Run a write; how many rows it changed. */
  run(statement: SqlStatement, values: readonly SqlValue[]): Promise<number>;
}

type PgQueryable = Pick<pg.Pool, 'query'>;

async function pgQuery(on: PgQueryable, statement: SqlStatement, values: readonly SqlValue[]): Promise<pg.QueryResult<SqlRow>> {
  return on.query<SqlRow>({ name: statement.name, text: statement.text, values: values as unknown[] });
}

/** `$1`, `$2`, … bound by name on SQLite; no booleans there (1/0, as TypeORM stores them), no arrays. */
function sqliteValues(values: readonly SqlValue[]): Record<number, string | number | null> {
  const named: Record<number, string | number | null> = {};
  values.forEach((value, index) => {
    if (Array.isArray(value)) throw new Error('SQLite binds no arrays');
    named[index + 1] = typeof value === 'boolean' ? (value ? 1 : 0) : (value as string | number | null);
  });
  return named;
}

/** Prepared statements of one SQLite connection, by text (a fixed set: the hot statements). */
const sqlitePrepared = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function sqliteStatement(connection: Database.Database, statement: SqlStatement): Database.Statement {
  let cache = sqlitePrepared.get(connection);
  if (!cache) {
    cache = new Map();
    sqlitePrepared.set(connection, cache);
  }
  let prepared = cache.get(statement.text);
  if (!prepared) {
    prepared = connection.prepare(statement.text);
    cache.set(statement.text, prepared);
  }
  return prepared;
}

/**
 * A reader for a DataSource opened by `openServiceDatabase`:
 * - PostgreSQL: TypeORM's own pg pool (same connections, same search_path), named statements; a
 *   statement outside a transaction sees committed rows only.
 * - SQLite: a SECOND connection to the same file, read-only. TypeORM's better-sqlite3 driver has one
 *   connection for everything and `serializeSqliteAccess` lends it to one transaction at a time, from
 *   BEGIN to COMMIT; a raw read on that connection would run inside whichever transaction holds it and
 *   see its uncommitted rows (or wait behind it). The database is in WAL mode, so the read-only
 *   connection reads the last committed snapshot at each statement and never waits for a writer (nor
 *   makes one wait). It needs a database file: `:memory:` is refused.
 */
export function openSqlReader(dataSource: DataSource): SqlReader {
  const options = dataSource.options;
  switch (options.type) {
    case 'postgres': {
      const pool = postgresPool(dataSource);
      return { rows: async (statement, values) => (await pgQuery(pool, statement, values)).rows, close: async () => undefined };
    }
    case 'better-sqlite3': {
      if (typeof options.database !== 'string' || options.database === ':memory:') {
        throw new Error('Hand-written SQLite reads use a second, read-only connection and need a database file, not :memory:');
      }
      const connection = new Database(options.database, { readonly: true, fileMustExist: true });
      return {
        rows: async (statement, values) => sqliteStatement(connection, statement).all(sqliteValues(values)) as SqlRow[],
        close: async () => {
          sqlitePrepared.delete(connection);
          connection.close();
        },
      };
    }
    default:
      throw new Error(`No hand-written SQL reader for ${options.type}`);
  }
}

/** TypeORM's pg pool of a PostgreSQL DataSource. */
function postgresPool(dataSource: DataSource): pg.Pool {
  return (dataSource.driver as unknown as { master: pg.Pool }).master;
}

/**
 * Hand-written statements in the transaction `manager` belongs to (`dataSource.transaction(manager =>
 * …)`), on that transaction's own connection: on PostgreSQL its pg client with named statements; on
 * SQLite the one better-sqlite3 connection, which `serializeSqliteAccess` lends to the transaction from
 * BEGIN to COMMIT (prepared statements cached per connection).
 */
export function sqlInTransaction(manager: EntityManager): SqlTransaction {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) throw new Error('sqlInTransaction needs the manager of an open transaction');
  if (manager.connection.options.type === 'postgres') {
    const client = (): Promise<pg.PoolClient> => runner.connect() as Promise<pg.PoolClient>;
    return {
      rows: async (statement, values) => (await pgQuery(await client(), statement, values)).rows,
      run: async (statement, values) => (await pgQuery(await client(), statement, values)).rowCount ?? 0,
    };
  }
  const connection = (): Promise<Database.Database> => runner.connect() as Promise<Database.Database>;
  return {
    rows: async (statement, values) => sqliteStatement(await connection(), statement).all(sqliteValues(values)) as SqlRow[],
    run: async (statement, values) => sqliteStatement(await connection(), statement).run(sqliteValues(values)).changes,
  };
}

/**
 * One entity's columns for hand-written SQL, from its TypeORM metadata (the entity stays the one
 * definition): the column list of a SELECT, a row back into the entity (the driver's hydration and
 * the column transformers, as TypeORM itself does) and an entity into bound values.
 */
export class EntityColumns<T extends ObjectLiteral> {
  private readonly columns: readonly ColumnMetadata[];
  /** A primary key column: NULL in a row only when an outer join found no entity. */
  private readonly key: string;
  /** Database column names, in the order of `values`. */
  readonly names: readonly string[];
  /** Their database types (e.g. to cast the parameters of a PostgreSQL `INSERT … SELECT $1::varchar`). */
  readonly types: readonly string[];

  constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<T>,
  ) {
    const metadata = dataSource.getMetadata(target);
    this.columns = metadata.columns;
    this.names = this.columns.map((column) => column.databaseName);
    this.types = this.columns.map((column) => dataSource.driver.normalizeType(column));
    const key = metadata.primaryColumns[0];
    if (!key) throw new Error(`${metadata.name} has no primary key column`);
    this.key = key.databaseName;
  }

  /** `alias.a AS prefixa, alias.b AS prefixb, …` */
  select(alias: string, prefix: string): string {
    return this.names.map((name) => `${alias}.${name} AS ${prefix}${name}`).join(', ');
  }

  /** The entity from the columns `select(…, prefix)` named; undefined when the row has none (an outer join found nothing). */
  fromRow(row: SqlRow, prefix: string): T | undefined {
    const key = row[`${prefix}${this.key}`];
    if (key === null || key === undefined) return undefined;
    const entity: ObjectLiteral = {};
    for (const column of this.columns) {
      entity[column.propertyName] = this.dataSource.driver.prepareHydratedValue(row[`${prefix}${column.databaseName}`], column);
    }
    return entity as T;
  }

  /** The entity's values in the order of `names`, as the driver stores them. */
  values(entity: T): SqlValue[] {
    return this.columns.map((column) => this.dataSource.driver.preparePersistentValue(entity[column.propertyName as keyof T], column) as SqlValue);
  }
}
