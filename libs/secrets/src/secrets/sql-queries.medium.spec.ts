/** The SecretQueries conformance suite against both implementations: a real PostgreSQL database and an SQLite file. */
import { testDatabases } from '@sealbox/platform/testing';
import { PostgresSecretQueries, SqliteSecretQueries } from './sql-queries.js';
import { describeSecretQueriesConformance } from './testing/secret-queries-conformance.js';

for (const database of testDatabases) {
  describeSecretQueriesConformance(database.name, {
    open: () => database.open(),
    queries: (dataSource) => (database.name === 'PostgreSQL' ? new PostgresSecretQueries(dataSource) : new SqliteSecretQueries(dataSource)),
  });
}
