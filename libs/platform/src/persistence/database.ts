import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import type { MigrationInterface } from 'typeorm';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServiceName } from '@sealbox/contracts';
import { CommitDeadlineGuard } from './commit-deadline.js';
import { GroupSync } from './group-sync.js';
import { postgresTlsError, type PostgresTls } from './postgres-tls.js';
import { serializeSqliteAccess, walFsync } from './sqlite-access.js';

/**
 * Where a service keeps its tables: its own PostgreSQL schema (over TLS when `tls` is set:
 * `postgresConfigOf` builds it from the SEALBOX_DATABASE_* settings), or its own SQLite file.
 */
export type DatabaseConfig =
  | { readonly type: 'postgres'; readonly url: string; readonly tls?: PostgresTls }
  | { readonly type: 'sqlite'; readonly path: string };

// TypeORM's own typing of entity lists.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = MixedList<Function | string | EntitySchema>;
export type MigrationList = (new () => MigrationInterface)[];

/** The processes that keep a database: the services, and the gateway (its Idempotency-Keys). */
export type DatabaseOwner = ServiceName | 'gateway';

export interface ServiceDatabaseOptions {
  readonly service: DatabaseOwner;
  readonly config: DatabaseConfig;
  readonly entities: EntityList;
  readonly migrations: MigrationList;
}

/** The schema (PostgreSQL) a service owns. */
export const schemaOf = (service: DatabaseOwner) => `sealbox_${service}`;

export function dataSourceOptions(options: ServiceDatabaseOptions): DataSourceOptions {
  const common = {
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'sealbox_migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
  } as const;
  switch (options.config.type) {
    case 'postgres':
      return {
        ...common,
        type: 'postgres',
        url: options.config.url,
        ...(options.config.tls ? { ssl: options.config.tls.connectionOptions() } : {}),
        schema: schemaOf(options.service),
        applicationName: `sealbox-${options.service}`,
        // Unqualified names (raw SQL in a migration or query) resolve in the service's own schema,
        // never in `public` or another service's.
        extra: { max: 10, options: `-c search_path=${schemaOf(options.service)}` },
      };
    case 'sqlite':
      return {
        ...common,
        type: 'better-sqlite3',
        database: options.config.path,
        enableWAL: options.config.path !== ':memory:',
      };
  }
}

/**
 * Open a service's database and bring its schema up to date. On PostgreSQL the schema is created if
 * missing and migrations run under an advisory lock, so replicas starting together migrate once. On
 * SQLite one transaction at a time holds the connection, and every commit is on disk before its
 * caller goes on (`serializeSqliteAccess` with a WAL group fsync); hand-written reads use a second,
 * read-only connection (`openSqlReader`).
 */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<DataSource> {
  if (options.config.type === 'sqlite' && options.config.path !== ':memory:') {
    mkdirSync(dirname(options.config.path), { recursive: true, mode: 0o700 });
  }
  const dataSource = new DataSource(dataSourceOptions(options));
  try {
    await dataSource.initialize();
  } catch (error) {
    throw (options.config.type === 'postgres' ? postgresTlsError(error, options.config.tls) : undefined) ?? error;
  }
  // Added after initialize (which builds the subscriber list from the options): it needs the service's name.
  dataSource.subscribers.push(new CommitDeadlineGuard(options.service));
  try {
    if (options.config.type === 'postgres') {
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      const lockKey = `sealbox:migrate:${options.service}`;
      try {
        await runner.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
        await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schemaOf(options.service)}"`);
        await dataSource.runMigrations({ transaction: 'each' });
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
        await runner.release();
      }
    } else {
      // SQLite does not fsync a commit in WAL mode at `synchronous = NORMAL` (this build's default):
      // an OS crash or power loss could lose an acknowledged write. FULL would fsync inside COMMIT, on
      // the event loop. Instead every commit awaits a shared WAL fsync on the thread pool (group commit).
      await dataSource.query('PRAGMA synchronous = NORMAL');
      await dataSource.runMigrations({ transaction: 'each' });
      const path = options.config.path;
      serializeSqliteAccess(dataSource, path === ':memory:' ? undefined : new GroupSync(walFsync(path)));
    }
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

/** A cheap round trip, for health checks. */
export async function pingDatabase(dataSource: DataSource): Promise<void> {
  await dataSource.query('SELECT 1');
}
