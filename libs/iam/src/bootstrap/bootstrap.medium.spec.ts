import { Test } from '@nestjs/testing';
import type { CloudEvent } from '@sealbox/contracts';
import {
  createLogger,
  dataSourceToken,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  ManualClock,
  PlatformModule,
  type DatabaseConfig,
} from '@sealbox/platform';
import { createTestDatabase, testDatabases } from '@sealbox/platform/testing';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyApiKey } from '../apikeys/apikey-secret.js';
import { ApiKeyEntity } from '../entities/index.js';
import { IamModule } from '../iam.module.js';
import { FakeAccessDecider, FakeAccountAdminGrant } from '../identities/testing/access-fakes.js';
import { AccountAdminGrant, ApiKeyVerifier } from '../ports.js';
import { IdentityService } from '../identities/identity.service.js';
import { IamBootstrap, type BootstrapResult } from './bootstrap.service.js';

/**
 * One IAM replica. Replicas of one database share its master key file, as a deployment does. The
 * account-admin grant is the policies area's (built in parallel): a recording fake stands in for it.
 */
async function startIam(database: DatabaseConfig, files: { adminKeyFile: string; masterKeyFile: string }, events = new InProcessEventBus()) {
  const announced: string[] = [];
  const adminGrant = new FakeAccountAdminGrant(new FakeAccessDecider());
  const moduleRef = await Test.createTestingModule({
    imports: [
      PlatformModule.forRoot({
        logger: createLogger({ app: 'test', level: 'silent' }),
        clientProxy: new InProcessClient(new InProcessBus()),
        rpcTimeoutMs: 1000,
        eventPublisher: events,
        eventSubscriber: events,
        clock: new ManualClock(),
      }),
      IamModule.register({
        database,
        bootstrap: { adminKeyFile: files.adminKeyFile, announce: (text) => announced.push(text), terminal: true },
        iam: {
          masterKeyFile: files.masterKeyFile,
          accessTokenTtlSeconds: 3600,
          refreshTokenTtlSeconds: 86_400,
          signingKeyOverlapSeconds: 3600,
          issuer: 'sealbox-test',
        },
      }),
    ],
  })
    .overrideProvider(AccountAdminGrant)
    .useValue(adminGrant)
    .compile();
  const app = await moduleRef.init();
  return { app, announced, adminGrant };
}

function describeBootstrap(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`IAM first start (${name})`, () => {
    let config: DatabaseConfig;
    let cleanup: () => Promise<void>;
    let dir: string;

    beforeAll(async () => {
      ({ config, cleanup } = await database());
      dir = mkdtempSync(join(tmpdir(), 'sealbox-iam-'));
    });
    afterAll(async () => {
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates the account, admin and one API key, shows the key once and stores only its hash', async () => {
      const events = new InProcessEventBus();
      const received: CloudEvent[] = [];
      events.subscribe('events.iam.>', (_subject, event) => {
        received.push(event);
      });
      const keyFile = join(dir, 'admin-apikey');
      const { app, announced, adminGrant } = await startIam(config, { adminKeyFile: keyFile, masterKeyFile: join(dir, 'master-key') }, events);
      try {
        expect(announced).toHaveLength(1);
        const apikey = readFileSync(keyFile, 'utf8').trim();
        expect(apikey).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(announced[0]).toContain(apikey);
        expect(statSync(keyFile).mode & 0o777).toBe(0o600);

        const rows = await app.get<DataSource>(dataSourceToken('iam')).getRepository(ApiKeyEntity).find();
        expect(rows).toHaveLength(1);
        const row = rows[0] as ApiKeyEntity;
        expect(JSON.stringify(row)).not.toContain(apikey);
        expect(await verifyApiKey(apikey, row.hash)).toBe(true);
        expect(await verifyApiKey(`${apikey}x`, row.hash)).toBe(false);

        const result = await app.get(IamBootstrap).ensureBootstrapped();
        expect(result).toEqual({ accountId: row.accountId, adminIamId: row.iamId, apikeyId: row.id });
        expect(await app.get(ApiKeyVerifier).verify(apikey)).toEqual({
          apikeyId: row.id,
          iamId: row.iamId,
          accountId: row.accountId,
          subType: 'user',
          name: 'admin',
        });
        // The administrator holds the account-admin grant, given in the creating transaction.
        expect(adminGrant.granted).toEqual([{ accountId: row.accountId, iamId: row.iamId, nowMs: row.createdAt }]);

        const identityEvents = ['com.sealbox.iam.account.created', 'com.sealbox.iam.apikey.created'];
        await expect
          .poll(() => received.map((event) => event.type).filter((type) => identityEvents.includes(type)).sort())
          .toEqual(identityEvents);
        expect(JSON.stringify(received)).not.toContain(apikey);
      } finally {
        await app.close();
      }
    });

    it('prints nothing secret on later starts and keeps the data', async () => {
      const { app, announced } = await startIam(config, { adminKeyFile: join(dir, 'second-apikey'), masterKeyFile: join(dir, 'master-key') });
      try {
        expect(announced).toEqual([]);
        const result = await app.get(IamBootstrap).ensureBootstrapped();
        expect(result.apikey).toBeUndefined();
        expect(await app.get<DataSource>(dataSourceToken('iam')).getRepository(ApiKeyEntity).count()).toBe(1);
      } finally {
        await app.close();
      }
    });

    it('starts again after the first-start key was deleted', async () => {
      const files = { adminKeyFile: join(dir, 'third-apikey'), masterKeyFile: join(dir, 'master-key') };
      const before = await startIam(config, files);
      let first: BootstrapResult;
      try {
        first = await before.app.get(IamBootstrap).ensureBootstrapped();
        await before.app.get(IdentityService).deleteApiKey({ iamId: first.adminIamId, accountId: first.accountId }, first.apikeyId);
      } finally {
        await before.app.close();
      }
      const after = await startIam(config, files);
      try {
        expect(after.announced).toEqual([]);
        expect(await after.app.get(IamBootstrap).ensureBootstrapped()).toEqual(first);
        expect(await after.app.get<DataSource>(dataSourceToken('iam')).getRepository(ApiKeyEntity).count()).toBe(0);
      } finally {
        await after.app.close();
      }
    });
  });
}

for (const database of testDatabases) describeBootstrap(database.name, database.open);

describe('IAM first start with replicas racing (PostgreSQL)', () => {
  it('bootstraps exactly once when two replicas start together', async () => {
    const database = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-iam-race-'));
    try {
      const config: DatabaseConfig = { type: 'postgres', url: database.url };
      const masterKeyFile = join(dir, 'master-key');
      const [first, second] = await Promise.all([
        startIam(config, { adminKeyFile: join(dir, 'a'), masterKeyFile }),
        startIam(config, { adminKeyFile: join(dir, 'b'), masterKeyFile }),
      ]);
      try {
        expect(first.announced.length + second.announced.length).toBe(1);
        // Only the winner created the account, so only it granted the administrator.
        expect(first.adminGrant.granted.length + second.adminGrant.granted.length).toBe(1);
        expect(await first.app.get<DataSource>(dataSourceToken('iam')).getRepository(ApiKeyEntity).count()).toBe(1);
      } finally {
        await Promise.all([first.app.close(), second.app.close()]);
      }
    } finally {
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
