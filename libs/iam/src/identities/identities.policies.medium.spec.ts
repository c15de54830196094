import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IamWire, roleCrn } from '@sealbox/contracts';
import {
  createLogger,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  ManualClock,
  PlatformModule,
  type DatabaseConfig,
} from '@sealbox/platform';
import { testDatabases } from '@sealbox/platform/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IamBootstrap } from '../bootstrap/bootstrap.service.js';
import { PolicyService } from '../policies/policy.service.js';
import { ApiKeyVerifier, type Principal } from '../ports.js';
import { IdentityService } from './identity.service.js';
import { codeOf, iamTestModule } from './testing/iam-harness.js';

/** The identities area with the real policies area behind its ports: the resources it asks about match real policies. */

const createKey = (fields: { name: string; iam_id: string }) => IamWire.CreateApiKeyRequest.parse(fields);

function describeWithPolicies(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`IAM identities with real policies (${name})`, () => {
    let app: INestApplicationContext;
    let cleanup: () => Promise<void>;
    let dir: string;

    beforeAll(async () => {
      let config: DatabaseConfig;
      ({ config, cleanup } = await database());
      dir = mkdtempSync(join(tmpdir(), 'sealbox-identities-policies-'));
      const bus = new InProcessEventBus();
      const moduleRef = await Test.createTestingModule({
        imports: [
          PlatformModule.forRoot({
            logger: createLogger({ app: 'test', level: 'silent' }),
            clientProxy: new InProcessClient(new InProcessBus()),
            rpcTimeoutMs: 1000,
            eventPublisher: bus,
            eventSubscriber: bus,
            clock: new ManualClock(),
          }),
          iamTestModule(config, dir),
        ],
      }).compile();
      app = await moduleRef.init();
    });
    afterAll(async () => {
      await app?.close();
      await cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it('gives the first-start administrator the account-admin policy', async () => {
      const first = await app.get(IamBootstrap).ensureBootstrapped();
      const caller: Principal = { iamId: first.adminIamId, accountId: first.accountId };
      const robot = await app.get(IdentityService).createServiceId(caller, { account_id: caller.accountId, name: 'first' });
      expect(robot.account_id).toBe(first.accountId);
    });

    it('lets a new account administrator manage identities, and a granted service ID only what it was granted', async () => {
      const identities = app.get(IdentityService);
      const created = await identities.createAccount({ name: 'Account P' });
      const admin = await app.get(ApiKeyVerifier).verify(created.apikey);
      const adminCaller: Principal = { iamId: admin.iamId, accountId: admin.accountId };

      const robot = await identities.createServiceId(adminCaller, { account_id: adminCaller.accountId, name: 'robot' });
      const target = await identities.createServiceId(adminCaller, { account_id: adminCaller.accountId, name: 'target' });
      const adminKey = await identities.createApiKey(adminCaller, createKey({ name: 'for target', iam_id: target.iam_id }));
      const robotCaller: Principal = { iamId: robot.iam_id, accountId: robot.account_id };

      // No policy yet: the target and its keys do not exist for the robot.
      expect(await codeOf(identities.createApiKey(robotCaller, createKey({ name: 'x', iam_id: target.iam_id })))).toBe('NOT_FOUND');
      expect(await codeOf(identities.getApiKey(robotCaller, adminKey.id))).toBe('NOT_FOUND');
      expect(await codeOf(identities.createServiceId(robotCaller, { account_id: robotCaller.accountId, name: 'y' }))).toBe('FORBIDDEN');

      await app.get(PolicyService).create(adminCaller, {
        type: 'access',
        subjects: [{ attributes: [{ name: 'iam_id', value: robot.iam_id }] }],
        roles: [{ role_id: roleCrn('Operator') }],
        resources: [
          {
            attributes: [
              { name: 'accountId', value: adminCaller.accountId },
              { name: 'serviceName', value: 'iam-identity' },
              { name: 'resourceType', value: 'serviceid' },
              { name: 'resource', value: target.id },
            ],
          },
        ],
      });

      const granted = await identities.createApiKey(robotCaller, createKey({ name: 'granted', iam_id: target.iam_id }));
      expect(granted.created_by).toBe(robot.iam_id);
      expect((await identities.getApiKey(robotCaller, adminKey.id)).id).toBe(adminKey.id);
      const listed = await identities.listApiKeys(robotCaller, IamWire.ListApiKeysRequest.parse({}));
      expect(listed.apikeys.map((key) => key.id).sort()).toEqual([adminKey.id, granted.id].sort());
      // The grant names one service ID: the account's other identities stay hidden.
      expect(await codeOf(identities.createApiKey(robotCaller, createKey({ name: 'x', iam_id: adminCaller.iamId })))).toBe('NOT_FOUND');
      expect(await codeOf(identities.createServiceId(robotCaller, { account_id: robotCaller.accountId, name: 'y' }))).toBe('FORBIDDEN');

      // Deleting the robot takes its policy with it: nothing of a deleted identity keeps granting.
      const policies = app.get(PolicyService);
      const before = await policies.list(adminCaller, IamWire.ListPoliciesRequest.parse({ account_id: adminCaller.accountId, iam_id: robot.iam_id }));
      expect(before.policies).toHaveLength(1);
      await identities.deleteServiceId(adminCaller, robot.id);
      const after = await policies.list(adminCaller, IamWire.ListPoliciesRequest.parse({ account_id: adminCaller.accountId, iam_id: robot.iam_id }));
      expect(after.policies).toEqual([]);
      expect(await codeOf(policies.get(adminCaller, before.policies[0]?.id ?? ''))).toBe('NOT_FOUND');
    });
  });
}

for (const database of testDatabases) describeWithPolicies(database.name, database.open);
