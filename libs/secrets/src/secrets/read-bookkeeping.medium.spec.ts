/**
 * Read bookkeeping in SecretsModule on SQLite and PostgreSQL: the marks still in memory are written
 * when the application shuts down, before its database closes.
 */
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { dataSourceToken, ManualClock, openServiceDatabase } from '@sealbox/platform';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { lockEntities, lockMigrations } from '../locks/index.js';
import { registryEntities, registryMigrations, RegistryStore } from '../registry/index.js';
import { SecretsModule } from '../secrets.module.js';
import { secretEntities, secretMigrations } from './index.js';
import { ReadBookkeeping } from './read-bookkeeping.js';
import { SecretStore } from './store.js';
import { ROWS_T0 as T0, secretRow, versionRow } from './testing/rows.js';

for (const database of testDatabases) {
  describe(`Read bookkeeping on shutdown (${database.name})`, () => {
    it('writes the pending reads when the application closes, before the database does', async () => {
      const opened = await database.open();
      try {
        const clock = new ManualClock(T0);
        const moduleRef = await Test.createTestingModule({
          imports: [testPlatformModule({ clock }), SecretsModule.register({ database: opened.config, secrets: { schedulerIntervalMs: 0, orphanSweepIntervalMs: 0 } })],
        }).compile();
        await moduleRef.init();
        const dataSource = moduleRef.get<DataSource>(dataSourceToken('secrets'));
        const scope = { accountId: randomUUID().replaceAll('-', ''), instanceGuid: randomUUID() };
        const secret = secretRow(scope, { name: 'read-then-stopped' });
        const version = versionRow(secret, 1);
        await new RegistryStore(dataSource.manager).insertInstance({ ...scope, crn: 'crn:x', region: 'us-south', kmsInstanceId: 'k', kmsKeyId: 'k', kmsAccountId: null,
        planId: null, state: 'active', createdAt: T0, updatedAt: T0 });
        await new SecretStore(dataSource.manager).insertSecret(secret);
        await new SecretStore(dataSource.manager).insertVersion(version);

        await moduleRef.get(ReadBookkeeping).record(scope, secret, version, T0 + 42);
        await moduleRef.close();

        const reopened = await openServiceDatabase({
          service: 'secrets',
          config: opened.config,
          entities: [...registryEntities, ...secretEntities, ...lockEntities],
          migrations: [...registryMigrations, ...secretMigrations, ...lockMigrations],
        });
        try {
          const store = new SecretStore(reopened.manager);
          expect(await store.secret(scope, secret.id)).toMatchObject({ downloaded: true, retrievedAt: T0 + 42 });
          expect(await store.version(scope, secret.id, version.id)).toMatchObject({ downloaded: true });
        } finally {
          await reopened.destroy();
        }
      } finally {
        await opened.cleanup();
      }
    });
  });
}
