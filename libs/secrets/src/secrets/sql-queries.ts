import type { OnApplicationShutdown } from '@nestjs/common';
import { EntityColumns, openSqlReader, sqlInTransaction, type SqlReader, type SqlRow, type SqlStatement, type SqlValue } from '@sealbox/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { InstanceEntity } from '../registry/entities.js';
import type { TenantScope } from '../registry/store.js';
import { SecretEntity, SecretLabelEntity, SecretVersionEntity } from './entities.js';
import { SecretQueries, tenantOf, type Placement, type ReadMark, type SecretView, type SecretViewByName } from './queries.js';

/** `$from, $from+1, …` for `count` values, each cast to its column's type (PostgreSQL types the parameters of an INSERT … SELECT from these). */
function placeholders(from: number, types: readonly string[] | number): string {
  const list = typeof types === 'number' ? Array.from({ length: types }, () => '') : types;
  return list.map((type, index) => `$${from + index}${type ? `::${type}` : ''}`).join(', ');
}

/**
 * The statements both databases run with the same text (`$n` placeholders: SQLite binds them by
 * name), and the entity columns from TypeORM's metadata.
 */
abstract class SqlSecretQueries extends SecretQueries implements OnApplicationShutdown {
  protected readonly instances: EntityColumns<InstanceEntity>;
  protected readonly secrets: EntityColumns<SecretEntity>;
  protected readonly versions: EntityColumns<SecretVersionEntity>;
  protected readonly labels: EntityColumns<SecretLabelEntity>;
  private readonly reader: SqlReader;

  private readonly view: SqlStatement;
  private readonly viewByName: SqlStatement;
  private readonly placementStatement: SqlStatement;

  constructor(protected readonly dataSource: DataSource) {
    super();
    this.instances = new EntityColumns(dataSource, InstanceEntity);
    this.secrets = new EntityColumns(dataSource, SecretEntity);
    this.versions = new EntityColumns(dataSource, SecretVersionEntity);
    this.labels = new EntityColumns(dataSource, SecretLabelEntity);
    this.reader = openSqlReader(dataSource);
    // The instance ($1, $2), the secret `secretJoin` finds, its current version and its lock count.
    const view = (extra: string, joins: string) =>
      `SELECT ${this.instances.select('i', 'i_')}, ${this.secrets.select('s', 's_')}, ${this.versions.select('v', 'v_')}${extra},` +
      ' (SELECT COUNT(*) FROM secret_locks l WHERE l.account_id = $2 AND l.instance_guid = $1 AND l.secret_id = s.id) AS locks_total' +
      ` FROM secret_instances i ${joins}` +
      ' LEFT JOIN secret_versions v ON v.instance_guid = s.instance_guid AND v.account_id = s.account_id AND v.secret_id = s.id AND v.ordinal = s.current_ordinal' +
      ' WHERE i.instance_guid = $1 AND i.account_id = $2';
    this.view = {
      name: 'sealbox_secrets_view',
      text: view('', 'LEFT JOIN secrets s ON s.instance_guid = i.instance_guid AND s.account_id = i.account_id AND s.id = $3'),
    };
    this.viewByName = {
      name: 'sealbox_secrets_view_by_name',
      text: view(
        ', g.id AS group_id',
        'LEFT JOIN secret_groups g ON g.instance_guid = i.instance_guid AND g.account_id = i.account_id AND g.name = $3' +
          ' LEFT JOIN secrets s ON s.instance_guid = i.instance_guid AND s.account_id = i.account_id AND s.secret_group_id = g.id AND s.secret_type = $4 AND s.name = $5',
      ),
    };
    this.placementStatement = {
      name: 'sealbox_secrets_placement',
      text:
        `SELECT ${this.instances.select('i', 'i_')},` +
        ' EXISTS (SELECT 1 FROM secret_groups g WHERE g.instance_guid = $1 AND g.account_id = $2 AND g.id = $3) AS group_exists,' +
        ' EXISTS (SELECT 1 FROM secrets s WHERE s.instance_guid = $1 AND s.account_id = $2 AND s.secret_group_id = $3 AND s.secret_type = $4 AND s.name = $5) AS name_taken,' +
        // Counted only as far as the largest quota: the cost stays bounded however many secrets there are.
        ' (SELECT COUNT(*) FROM (SELECT 1 FROM secrets c WHERE c.instance_guid = $1 AND c.account_id = $2 LIMIT $6) AS up_to) AS secrets_total' +
        ' FROM secret_instances i WHERE i.instance_guid = $1 AND i.account_id = $2',
    };
  }

  async secretView(scope: TenantScope, secretId: string): Promise<SecretView> {
    const { accountId, instanceGuid } = tenantOf(scope);
    const [row] = await this.reader.rows(this.view, [instanceGuid, accountId, secretId]);
    return this.viewOf(row);
  }

  async secretViewByName(scope: TenantScope, groupName: string, secretType: string, name: string): Promise<SecretViewByName> {
    const { accountId, instanceGuid } = tenantOf(scope);
    const [row] = await this.reader.rows(this.viewByName, [instanceGuid, accountId, groupName, secretType, name]);
    return { ...this.viewOf(row), groupExists: row?.['group_id'] !== null && row?.['group_id'] !== undefined };
  }

  private viewOf(row: SqlRow | undefined): SecretView {
    if (!row) return { locks: 0 };
    const instance = this.instances.fromRow(row, 'i_');
    const secret = this.secrets.fromRow(row, 's_');
    const current = this.versions.fromRow(row, 'v_');
    return { ...(instance ? { instance } : {}), ...(secret ? { secret } : {}), ...(current ? { current } : {}), locks: Number(row['locks_total'] ?? 0) };
  }

  async placement(scope: TenantScope, groupId: string, secretType: string, name: string, countUpTo: number): Promise<Placement> {
    const { accountId, instanceGuid } = tenantOf(scope);
    const [row] = await this.reader.rows(this.placementStatement, [instanceGuid, accountId, groupId, secretType, name, countUpTo]);
    const instance = row ? this.instances.fromRow(row, 'i_') : undefined;
    return {
      ...(instance ? { instance } : {}),
      groupExists: Boolean(row?.['group_exists']),
      nameTaken: Boolean(row?.['name_taken']),
      secretsTotal: Number(row?.['secrets_total'] ?? 0),
    };
  }

  /** `INSERT INTO table (columns)` of an entity. */
  protected insertInto(table: string, columns: EntityColumns<object>): string {
    return `INSERT INTO ${table} (${columns.names.join(', ')})`;
  }

  /** The instance is active and has the group: `$from` instance GUID, `$from+1` account, `$from+2` group. */
  protected placedGuard(from: number): string {
    return (
      'SELECT 1 FROM secret_instances i JOIN secret_groups g ON g.instance_guid = i.instance_guid AND g.account_id = i.account_id' +
      ` WHERE i.instance_guid = $${from} AND i.account_id = $${from + 1} AND i.state = 'active' AND g.id = $${from + 2}`
    );
  }

  protected guardValues(secret: SecretEntity): SqlValue[] {
    return [secret.instanceGuid, secret.accountId, secret.groupId];
  }

  async close(): Promise<void> {
    await this.reader.close();
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}

/**
 * PostgreSQL: reads on TypeORM's pg pool as named statements; a create's rows in ONE statement
 * (data-modifying CTEs: the guard, the secret, its labels, its version); read bookkeeping as one
 * UPDATE per table for the whole batch (`unnest` of arrays).
 */
export class PostgresSecretQueries extends SqlSecretQueries {
  private readonly create: SqlStatement;
  private readonly readSecrets: SqlStatement = {
    name: 'sealbox_secrets_record_reads',
    text:
      'UPDATE secrets AS s SET retrieved_at = GREATEST(COALESCE(s.retrieved_at, 0), m.retrieved_at),' +
      ' downloaded = s.downloaded OR COALESCE(s.current_ordinal = m.ordinal, FALSE)' +
      ' FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::bigint[], $5::integer[]) AS m(instance_guid, account_id, id, retrieved_at, ordinal)' +
      ' WHERE s.instance_guid = m.instance_guid AND s.account_id = m.account_id AND s.id = m.id',
  };
  private readonly readVersions: SqlStatement = {
    name: 'sealbox_secrets_record_version_reads',
    text:
      'UPDATE secret_versions AS v SET downloaded = TRUE' +
      ' FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[]) AS m(instance_guid, account_id, secret_id, id)' +
      ' WHERE v.instance_guid = m.instance_guid AND v.account_id = m.account_id AND v.secret_id = m.secret_id AND v.id = m.id AND NOT v.downloaded',
  };

  constructor(dataSource: DataSource) {
    super(dataSource);
    const secretCount = this.secrets.names.length;
    const versionFrom = secretCount + 4;
    const labelsAt = versionFrom + this.versions.names.length;
    this.create = {
      name: 'sealbox_secrets_create',
      text:
        `WITH placed AS (${this.placedGuard(secretCount + 1)}),` +
        ` s AS (${this.insertInto('secrets', this.secrets)} SELECT ${placeholders(1, this.secrets.types)} FROM placed RETURNING instance_guid, id, account_id),` +
        ` l AS (INSERT INTO secret_labels (instance_guid, secret_id, label, account_id) SELECT s.instance_guid, s.id, x.label, s.account_id FROM s, unnest($${labelsAt}::varchar[]) AS x(label)),` +
        ` v AS (${this.insertInto('secret_versions', this.versions)} SELECT ${placeholders(versionFrom, this.versions.types)} FROM s)` +
        ' SELECT COUNT(*) AS inserted FROM s',
    };
  }

  async insertCreated(manager: EntityManager, secret: SecretEntity, version: SecretVersionEntity): Promise<boolean> {
    tenantOf(secret);
    const [row] = await sqlInTransaction(manager).rows(this.create, [
      ...this.secrets.values(secret),
      ...this.guardValues(secret),
      ...this.versions.values(version),
      secret.labels,
    ]);
    return Number(row?.['inserted'] ?? 0) > 0;
  }

  async recordReads(marks: readonly ReadMark[]): Promise<void> {
    if (marks.length === 0) return;
    marks.forEach(tenantOf);
    await this.dataSource.transaction(async (manager) => {
      const sql = sqlInTransaction(manager);
      await sql.run(this.readSecrets, [
        marks.map((mark) => mark.instanceGuid),
        marks.map((mark) => mark.accountId),
        marks.map((mark) => mark.secretId),
        marks.map((mark) => mark.retrievedAt),
        marks.map((mark) => mark.currentOrdinal ?? null) as number[],
      ]);
      const versions = marks.flatMap((mark) => mark.versionIds.map((id) => ({ mark, id })));
      if (versions.length > 0) {
        await sql.run(this.readVersions, [
          versions.map(({ mark }) => mark.instanceGuid),
          versions.map(({ mark }) => mark.accountId),
          versions.map(({ mark }) => mark.secretId),
          versions.map(({ id }) => id),
        ]);
      }
    });
  }
}

/**
 * SQLite: reads on a second, read-only connection (WAL: the last committed snapshot, never another
 * request's open transaction; see `openSqlReader`); writes in TypeORM's serialized transactions on the
 * one read-write connection, a statement per row (in-process: no round trips to save).
 */
export class SqliteSecretQueries extends SqlSecretQueries {
  private readonly insertSecret: SqlStatement;
  private readonly insertVersion: SqlStatement;
  private readonly insertLabel: SqlStatement;
  private readonly readSecret: SqlStatement = {
    name: 'sealbox_secrets_record_read',
    text:
      'UPDATE secrets SET retrieved_at = MAX(COALESCE(retrieved_at, 0), $4),' +
      ' downloaded = CASE WHEN downloaded = 1 OR current_ordinal = $5 THEN 1 ELSE 0 END' +
      ' WHERE instance_guid = $1 AND account_id = $2 AND id = $3',
  };
  private readonly readVersion: SqlStatement = {
    name: 'sealbox_secrets_record_version_read',
    text: 'UPDATE secret_versions SET downloaded = 1 WHERE instance_guid = $1 AND account_id = $2 AND secret_id = $3 AND id = $4 AND downloaded = 0',
  };

  constructor(dataSource: DataSource) {
    super(dataSource);
    const secretCount = this.secrets.names.length;
    this.insertSecret = {
      name: 'sealbox_secrets_insert_secret',
      text: `${this.insertInto('secrets', this.secrets)} SELECT ${placeholders(1, secretCount)} WHERE EXISTS (${this.placedGuard(secretCount + 1)})`,
    };
    this.insertVersion = {
      name: 'sealbox_secrets_insert_version',
      text: `${this.insertInto('secret_versions', this.versions)} VALUES (${placeholders(1, this.versions.names.length)})`,
    };
    this.insertLabel = {
      name: 'sealbox_secrets_insert_label',
      text: `${this.insertInto('secret_labels', this.labels)} VALUES (${placeholders(1, this.labels.names.length)})`,
    };
  }

  async insertCreated(manager: EntityManager, secret: SecretEntity, version: SecretVersionEntity): Promise<boolean> {
    tenantOf(secret);
    const sql = sqlInTransaction(manager);
    if ((await sql.run(this.insertSecret, [...this.secrets.values(secret), ...this.guardValues(secret)])) === 0) return false;
    for (const label of secret.labels) {
      await sql.run(this.insertLabel, this.labels.values({ instanceGuid: secret.instanceGuid, secretId: secret.id, label, accountId: secret.accountId }));
    }
    await sql.run(this.insertVersion, this.versions.values(version));
    return true;
  }

  async recordReads(marks: readonly ReadMark[]): Promise<void> {
    if (marks.length === 0) return;
    marks.forEach(tenantOf);
    await this.dataSource.transaction(async (manager) => {
      const sql = sqlInTransaction(manager);
      for (const mark of marks) {
        const scope: SqlValue[] = [mark.instanceGuid, mark.accountId, mark.secretId];
        await sql.run(this.readSecret, [...scope, mark.retrievedAt, mark.currentOrdinal ?? null]);
        for (const id of mark.versionIds) await sql.run(this.readVersion, [...scope, id]);
      }
    });
  }
}

/** The implementation for the service's database. */
export function secretQueriesFor(dataSource: DataSource): SecretQueries {
  switch (dataSource.options.type) {
    case 'postgres':
      return new PostgresSecretQueries(dataSource);
    case 'better-sqlite3':
      return new SqliteSecretQueries(dataSource);
    default:
      throw new Error(`No secrets queries for a ${dataSource.options.type} database`);
  }
}
