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
import { createTestDatabase } from '@sealbox/platform/testing';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyApiKey } from '../apikeys/apikey-secret.js';
import { ApiKeyEntity } from '../entities/index.js';
import { IamModule } from '../iam.module.js';
import { IamBootstrap } from './bootstrap.service.js';

async function startIam(database: DatabaseConfig, adminKeyFile: string, events = new InProcessEventBus()) {
  const announced: string[] = [];
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
        bootstrap: { adminKeyFile, announce: (text) => announced.push(text) },
        iam: {
          masterKeyFile: `${adminKeyFile}.master`,
          accessTokenTtlSeconds: 3600,
          refreshTokenTtlSeconds: 86_400,
          signingKeyOverlapSeconds: 3600,
          issuer: 'sealbox-test',
        },
      }),
    ],
  }).compile();
  const app = await moduleRef.init();
  return { app, announced };
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
      const { app, announced } = await startIam(config, keyFile, events);
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

        await expect.poll(() => received.map((event) => event.type).sort()).toEqual([
          'com.sealbox.iam.account.created',
          'com.sealbox.iam.apikey.created',
        ]);
        expect(JSON.stringify(received)).not.toContain(apikey);
      } finally {
        await app.close();
      }
    });

    it('prints nothing secret on later starts and keeps the data', async () => {
      const { app, announced } = await startIam(config, join(dir, 'second-apikey'));
      try {
        expect(announced).toEqual([]);
        const result = await app.get(IamBootstrap).ensureBootstrapped();
        expect(result.apikey).toBeUndefined();
        expect(await app.get<DataSource>(dataSourceToken('iam')).getRepository(ApiKeyEntity).count()).toBe(1);
      } finally {
        await app.close();
      }
    });
  });
}

describeBootstrap('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-iam-db-'));
  return { config: { type: 'sqlite', path: join(dir, 'iam.sqlite') }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describeBootstrap('PostgreSQL', async () => {
  const database = await createTestDatabase();
  return { config: { type: 'postgres', url: database.url }, cleanup: () => database.drop() };
});

describe('IAM first start with replicas racing (PostgreSQL)', () => {
  it('bootstraps exactly once when two replicas start together', async () => {
    const database = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-iam-race-'));
    try {
      const config: DatabaseConfig = { type: 'postgres', url: database.url };
      const [first, second] = await Promise.all([startIam(config, join(dir, 'a')), startIam(config, join(dir, 'b'))]);
      try {
        expect(first.announced.length + second.announced.length).toBe(1);
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
