/** `iam.policy.delete-for-instance`: lifecycle's permanent delete removes the authorizations scoped to one instance. */
import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { roleCrn, type CloudEvent, type IamWire } from '@sealbox/contracts';
import { dataSourceToken, InProcessEventBus, ManualClock, ServiceDatabaseModule } from '@sealbox/platform';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDecider, AccountAdminGrant, type Principal } from '../ports.js';
import { policyEntities, policyMigrations } from './index.js';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { PolicyService } from './policy.service.js';

const authorization = (accountId: string, source: { name: string; value: string }[], kmsInstance: string): IamWire.PolicyBody => ({
  type: 'authorization',
  subjects: [{ attributes: [{ name: 'accountId', value: accountId }, { name: 'serviceName', value: 'secrets-manager' }, ...source] }],
  roles: [{ role_id: roleCrn('Reader') }],
  resources: [{ attributes: [{ name: 'accountId', value: accountId }, { name: 'serviceName', value: 'kms' }, { name: 'serviceInstance', value: kmsInstance }] }],
});

for (const database of testDatabases) {
  describe(`Authorizations of one service instance (${database.name})`, () => {
    let moduleRef: TestingModule;
    let cleanup: () => Promise<void>;
    let policies: PolicyService;
    const events: CloudEvent[] = [];
    const clock = new ManualClock();

    beforeAll(async () => {
      const opened = await database.open();
      cleanup = opened.cleanup;
      const bus = new InProcessEventBus();
      bus.subscribe('events.iam.policy.>', (_subject, event) => {
        events.push(event);
      });
      moduleRef = await Test.createTestingModule({
        imports: [
          testPlatformModule({ events: bus, clock }),
          ServiceDatabaseModule.register({ service: 'iam', config: opened.config, entities: policyEntities, migrations: policyMigrations }),
        ],
        providers: [
          PolicyService,
          { provide: IAM_OPTIONS, useValue: {} satisfies Partial<IamOptions> },
          { provide: AccessDecider, useExisting: PolicyService },
          { provide: AccountAdminGrant, useExisting: PolicyService },
        ],
      }).compile();
      await moduleRef.init();
      policies = moduleRef.get(PolicyService);
    });
    afterAll(async () => {
      await moduleRef?.close();
      await cleanup?.();
    });

    it('deletes the authorizations whose subject is the instance, keeps those for all instances and other instances, and is idempotent', async () => {
      const accountId = randomUUID().replaceAll('-', '');
      const admin: Principal = { accountId, iamId: `IBMid-${randomUUID()}` };
      const dataSource = moduleRef.get<DataSource>(dataSourceToken('iam'));
      await dataSource.transaction((manager) => moduleRef.get(AccountAdminGrant).grantAccountAdmin(manager, accountId, admin.iamId, clock.nowMs()));
      const instance = randomUUID();
      const kms = randomUUID();
      const scoped = await policies.create(admin, authorization(accountId, [{ name: 'serviceInstance', value: instance }], kms));
      const everyInstance = await policies.create(admin, authorization(accountId, [], kms));
      const other = await policies.create(admin, authorization(accountId, [{ name: 'serviceInstance', value: randomUUID() }], kms));

      const source = { accountId, serviceName: 'secrets-manager', serviceInstance: instance };
      const target = { accountId, serviceName: 'kms', serviceInstance: kms };
      expect(await policies.deleteInstanceAuthorizations(source)).toEqual({ deleted: 1 });
      await expect(policies.get(admin, scoped.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect((await policies.get(admin, everyInstance.id)).id).toBe(everyInstance.id);
      expect((await policies.get(admin, other.id)).id).toBe(other.id);
      // The policy for every instance still authorizes it.
      expect((await policies.checkAuthorization({ source, target, role: 'Reader' })).allowed).toBe(true);
      await expect.poll(() => events.filter((event) => (event.data as { policyId: string }).policyId === scoped.id).map((event) => event.type)).toEqual([
        'com.sealbox.iam.policy.created',
        'com.sealbox.iam.policy.deleted',
      ]);
      expect(await policies.deleteInstanceAuthorizations(source)).toEqual({ deleted: 0 });
      expect(await policies.deleteInstanceAuthorizations({ ...source, accountId: randomUUID().replaceAll('-', '') })).toEqual({ deleted: 0 });
    });
  });
}
