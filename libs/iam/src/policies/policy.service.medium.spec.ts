import { Test, type TestingModule } from '@nestjs/testing';
import { roleCrn, Subjects, type CloudEvent, type ErrorCode, type IamWire, type ResponseOf, type RoleName } from '@sealbox/contracts';
import {
  dataSourceToken,
  DomainError,
  InProcessEventBus,
  ManualClock,
  ServiceDatabaseModule,
  type DatabaseConfig,
} from '@sealbox/platform';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessDecider, AccountAdminGrant, type Principal } from '../ports.js';
import { policyEntities, policyMigrations } from './index.js';
import { PolicyEntity } from './policy.entity.js';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { PolicyService } from './policy.service.js';

const PROVIDER_ACCOUNT = 'provider-account-test';

type Attr = { name: string; value: string; operator?: 'stringEquals' | 'stringMatch' };
const attr = (name: string, value: string, operator?: 'stringEquals' | 'stringMatch'): Attr =>
  operator ? { name, value, operator } : { name, value };

const accessPolicy = (iamId: string, roles: RoleName[], resource: Attr[], description?: string): IamWire.PolicyBody => ({
  type: 'access',
  subjects: [{ attributes: [attr('iam_id', iamId)] }],
  roles: roles.map((role) => ({ role_id: roleCrn(role) })),
  resources: [{ attributes: resource }],
  ...(description ? { description } : {}),
});

const authorizationPolicy = (accountId: string, source: Attr[], target: Attr[], roles: RoleName[] = ['Reader']): IamWire.PolicyBody => ({
  type: 'authorization',
  subjects: [{ attributes: [attr('accountId', accountId), ...source] }],
  roles: roles.map((role) => ({ role_id: roleCrn(role) })),
  resources: [{ attributes: [attr('accountId', accountId), ...target] }],
});

type PolicyList = ResponseOf<'iam.policy.list'>;
const listRequest = (request: Record<string, unknown>) => Subjects['iam.policy.list'].request.parse(request);

/** Await a promise that must fail with a DomainError of `code`; returns it for more checks. */
async function failure(promise: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

interface Harness {
  readonly moduleRef: TestingModule;
  readonly policies: PolicyService;
  readonly dataSource: DataSource;
  readonly clock: ManualClock;
  readonly events: CloudEvent[];
}

async function startPolicies(database: DatabaseConfig): Promise<Harness> {
  const bus = new InProcessEventBus();
  const events: CloudEvent[] = [];
  bus.subscribe('events.iam.policy.>', (_subject, event) => {
    events.push(event);
  });
  const clock = new ManualClock();
  const moduleRef = await Test.createTestingModule({
    imports: [
      testPlatformModule({ events: bus, clock }),
      ServiceDatabaseModule.register({ service: 'iam', config: database, entities: policyEntities, migrations: policyMigrations }),
    ],
    providers: [
      PolicyService,
      { provide: IAM_OPTIONS, useValue: { providerAccountId: PROVIDER_ACCOUNT } satisfies Partial<IamOptions> },
      { provide: AccessDecider, useExisting: PolicyService },
      { provide: AccountAdminGrant, useExisting: PolicyService },
    ],
  }).compile();
  await moduleRef.init();
  return {
    moduleRef,
    policies: moduleRef.get(PolicyService),
    dataSource: moduleRef.get<DataSource>(dataSourceToken('iam')),
    clock,
    events,
  };
}

function describePolicies(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`PolicyService (${name})`, () => {
    let harness: Harness;
    let cleanup: () => Promise<void>;
    let service: PolicyService;

    /** A fresh account with its administrator (granted as account creation does). */
    async function newAccount(): Promise<{ accountId: string; admin: Principal }> {
      const accountId = randomUUID().replaceAll('-', '');
      const admin = { accountId, iamId: `IBMid-${randomUUID()}` };
      const grant = harness.moduleRef.get(AccountAdminGrant);
      await harness.dataSource.transaction((manager) => grant.grantAccountAdmin(manager, accountId, admin.iamId, harness.clock.nowMs()));
      return { accountId, admin };
    }

    const user = (accountId: string): Principal => ({ accountId, iamId: `IBMid-${randomUUID()}` });

    const eventsOf = (policyId: string) =>
      harness.events.filter((event) => (event.data as { policyId?: string }).policyId === policyId).map((event) => event.type);

    beforeAll(async () => {
      const opened = await database();
      cleanup = opened.cleanup;
      harness = await startPolicies(opened.config);
      service = harness.policies;
    });
    afterAll(async () => {
      await harness?.moduleRef.close();
      await cleanup?.();
    });

    describe('account administrator grant', () => {
      it('grants every role on the account inside the caller transaction, with its event', async () => {
        const { accountId, admin } = await newAccount();
        const [row] = await harness.dataSource.getRepository(PolicyEntity).findBy({ accountId });
        expect(row).toBeDefined();
        const policy = await service.get(admin, row?.id ?? '');
        expect(policy.description).toBe('Account administrator');
        expect(policy.created_by_id).toBe('system');
        expect(policy.roles.map((role) => role.display_name).sort()).toEqual([
          'Administrator',
          'Editor',
          'Manager',
          'Operator',
          'Reader',
          'SecretsReader',
          'Viewer',
          'Writer',
        ]);
        expect(policy.resources).toEqual([{ attributes: [{ name: 'accountId', value: accountId }] }]);
        await expect.poll(() => eventsOf(policy.id)).toEqual(['com.sealbox.iam.policy.created']);

        for (const action of ['secrets-manager.secret.delete', 'kms.key.purge', 'resource-controller.reclamation.reclaim'] as const) {
          const decision = await service.authorize(admin, action, {
            accountId,
            serviceName: action.split('.')[0] ?? '',
            serviceInstance: 'x',
          });
          expect(decision).toEqual({ allowed: true, policyId: policy.id });
        }
      });

      it('leaves nothing behind when the creating transaction rolls back', async () => {
        const accountId = randomUUID();
        const grant = harness.moduleRef.get(AccountAdminGrant);
        await expect(
          harness.dataSource.transaction(async (manager) => {
            await grant.grantAccountAdmin(manager, accountId, 'IBMid-rolled-back', harness.clock.nowMs());
            throw new Error('account creation failed later');
          }),
        ).rejects.toThrow('account creation failed later');
        expect(await harness.dataSource.getRepository(PolicyEntity).countBy({ accountId })).toBe(0);
      });
    });

    describe('access policies', () => {
      it('creates a policy that then grants its roles, and records the event', async () => {
        const { accountId, admin } = await newAccount();
        const bob = user(accountId);
        const instance = { accountId, serviceName: 'secrets-manager', serviceInstance: 'sm-1' };
        expect((await service.authorize(bob, 'secrets-manager.secret.list', instance)).allowed).toBe(false);

        const created = await service.create(
          admin,
          accessPolicy(bob.iamId, ['Reader'], [attr('accountId', accountId), attr('serviceName', 'secrets-manager')], 'sm readers'),
        );
        expect(created).toMatchObject({
          type: 'access',
          description: 'sm readers',
          href: `/v1/policies/${created.id}`,
          created_by_id: admin.iamId,
          last_modified_by_id: admin.iamId,
          state: 'active',
          roles: [{ role_id: roleCrn('Reader'), display_name: 'Reader' }],
        });
        expect(created.etag).toMatch(/^[0-9a-f]{32}$/);
        expect(await service.get(admin, created.id)).toEqual(created);
        await expect.poll(() => eventsOf(created.id)).toEqual(['com.sealbox.iam.policy.created']);

        expect(await service.authorize(bob, 'secrets-manager.secret.list', instance)).toEqual({ allowed: true, policyId: created.id });
        expect((await service.authorize(bob, 'secrets-manager.secret.read', instance)).allowed).toBe(false);
        expect((await service.authorize(bob, 'kms.key.list', { accountId, serviceName: 'kms', serviceInstance: 'k' })).allowed).toBe(false);
        expect((await service.hasRole(bob, ['Reader'], instance)).policyId).toBe(created.id);
        expect((await service.hasRole(bob, ['Manager'], instance)).allowed).toBe(false);
      });

      it('refuses a malformed policy with the field, before anything is stored', async () => {
        const { accountId, admin } = await newAccount();
        const before = await harness.dataSource.getRepository(PolicyEntity).countBy({ accountId });
        const error = await failure(
          service.create(admin, accessPolicy('IBMid-x', ['Viewer'], [attr('serviceName', 'kms')])),
          'VALIDATION_FAILED',
        );
        expect(error.fields?.map((issue) => issue.field)).toEqual(['resources.0.attributes']);
        const unknownRole = await failure(
          service.create(admin, {
            ...accessPolicy('IBMid-x', ['Viewer'], [attr('accountId', accountId)]),
            roles: [{ role_id: 'crn:v1:bluemix:public:iam::::role:Owner' }],
          }),
          'VALIDATION_FAILED',
        );
        expect(unknownRole.fields?.map((issue) => issue.field)).toEqual(['roles.0.role_id']);
        expect(await harness.dataSource.getRepository(PolicyEntity).countBy({ accountId })).toBe(before);
      });

      it('lets only an Administrator covering the resource manage access policies', async () => {
        const { accountId, admin } = await newAccount();
        const smAdmin = user(accountId);
        const editor = user(accountId);
        await service.create(
          admin,
          accessPolicy(smAdmin.iamId, ['Administrator'], [attr('accountId', accountId), attr('serviceName', 'secrets-manager')]),
        );
        await service.create(admin, accessPolicy(editor.iamId, ['Editor', 'Manager'], [attr('accountId', accountId)]));

        const onSm = accessPolicy(
          'IBMid-carol',
          ['Writer'],
          [attr('accountId', accountId), attr('serviceName', 'secrets-manager'), attr('serviceInstance', 'sm-9')],
        );
        const onKms = accessPolicy('IBMid-carol', ['Writer'], [attr('accountId', accountId), attr('serviceName', 'kms')]);
        expect((await service.create(smAdmin, onSm)).type).toBe('access');
        const forbidden = await failure(service.create(smAdmin, onKms), 'FORBIDDEN');
        expect(forbidden.message).toContain('Administrator');
        await failure(service.create(editor, onSm), 'FORBIDDEN');
        await failure(service.create(user(accountId), onSm), 'FORBIDDEN');
      });

      it('hides policies of other accounts and from callers who cannot read them, as NOT_FOUND', async () => {
        const a = await newAccount();
        const b = await newAccount();
        const policy = await service.create(a.admin, accessPolicy('IBMid-x', ['Viewer'], [attr('accountId', a.accountId)]));
        await failure(service.get(b.admin, policy.id), 'NOT_FOUND');
        await failure(service.get(a.admin, randomUUID()), 'NOT_FOUND');
        await failure(service.get(user(a.accountId), policy.id), 'NOT_FOUND');
        const body = { ...accessPolicy('IBMid-x', ['Editor'], [attr('accountId', b.accountId)]), id: policy.id, if_match: policy.etag };
        await failure(service.replace(b.admin, body), 'NOT_FOUND');
        await failure(service.delete(b.admin, policy.id), 'NOT_FOUND');
        await failure(service.delete(user(a.accountId), policy.id), 'NOT_FOUND');
        expect((await service.get(a.admin, policy.id)).id).toBe(policy.id);
      });

      it('replaces a policy only with the current etag, changing the etag each time', async () => {
        const { accountId, admin } = await newAccount();
        const bob = user(accountId);
        const original = await service.create(
          admin,
          accessPolicy(bob.iamId, ['Reader'], [attr('accountId', accountId), attr('serviceName', 'kms')]),
        );
        harness.clock.advance(60_000);
        const otherAdmin = user(accountId);
        await service.create(admin, accessPolicy(otherAdmin.iamId, ['Administrator', 'Viewer'], [attr('accountId', accountId)]));

        const replacement = accessPolicy(
          bob.iamId,
          ['Manager'],
          [attr('accountId', accountId), attr('serviceName', 'hs-crypto')],
          'now hpcs',
        );
        const replaced = await service.replace(otherAdmin, { ...replacement, id: original.id, if_match: `"${original.etag}"` });
        expect(replaced.etag).not.toBe(original.etag);
        expect(replaced).toMatchObject({
          id: original.id,
          description: 'now hpcs',
          created_at: original.created_at,
          created_by_id: admin.iamId,
          last_modified_by_id: otherAdmin.iamId,
          last_modified_at: harness.clock.now().toISOString(),
          roles: [{ role_id: roleCrn('Manager'), display_name: 'Manager' }],
        });
        expect(await service.get(admin, original.id)).toEqual(replaced);
        await expect.poll(() => eventsOf(original.id)).toEqual(['com.sealbox.iam.policy.created', 'com.sealbox.iam.policy.updated']);

        const stale = await failure(
          service.replace(admin, { ...replacement, id: original.id, if_match: original.etag }),
          'PRECONDITION_FAILED',
        );
        expect(stale.message).toContain('If-Match');
        expect((await service.get(admin, original.id)).etag).toBe(replaced.etag);

        const any = await service.replace(admin, { ...replacement, description: 'any etag', id: original.id, if_match: '*' });
        expect(any.description).toBe('any etag');
        expect(
          (await service.authorize(bob, 'hs-crypto.key.delete', { accountId, serviceName: 'hs-crypto', serviceInstance: 'h' })).allowed,
        ).toBe(true);
        expect((await service.authorize(bob, 'kms.key.list', { accountId, serviceName: 'kms', serviceInstance: 'k' })).allowed).toBe(false);
      });

      it('lets exactly one of two concurrent replaces with the same etag win', async () => {
        const { accountId, admin } = await newAccount();
        const original = await service.create(admin, accessPolicy('IBMid-x', ['Viewer'], [attr('accountId', accountId)]));
        const replaceWith = (description: string) =>
          service.replace(admin, {
            ...accessPolicy('IBMid-x', ['Editor'], [attr('accountId', accountId)], description),
            id: original.id,
            if_match: original.etag,
          });
        const outcomes = await Promise.allSettled([replaceWith('first'), replaceWith('second')]);
        const won = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
        const lost = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as DomainError] : []));
        expect(won).toHaveLength(1);
        expect(lost.map((error) => error.code)).toEqual(['PRECONDITION_FAILED']);
        expect(await service.get(admin, original.id)).toEqual(won[0]);
      });

      it('refuses to change the type of a policy, and a reader without Administrator gets FORBIDDEN', async () => {
        const { accountId, admin } = await newAccount();
        const original = await service.create(admin, accessPolicy('IBMid-x', ['Viewer'], [attr('accountId', accountId)]));
        const asAuthorization = authorizationPolicy(
          accountId,
          [attr('serviceName', 'secrets-manager')],
          [attr('serviceName', 'kms'), attr('serviceInstance', 'k')],
        );
        const changed = await failure(
          service.replace(admin, { ...asAuthorization, id: original.id, if_match: original.etag }),
          'VALIDATION_FAILED',
        );
        expect(changed.fields?.map((issue) => issue.field)).toEqual(['type']);

        const auditor = user(accountId);
        await service.create(
          admin,
          accessPolicy(auditor.iamId, ['Viewer'], [attr('accountId', accountId), attr('serviceName', 'iam-access-management')]),
        );
        expect((await service.get(auditor, original.id)).id).toBe(original.id);
        const body = { ...accessPolicy('IBMid-x', ['Editor'], [attr('accountId', accountId)]), id: original.id, if_match: original.etag };
        expect((await failure(service.replace(auditor, body), 'FORBIDDEN')).message).toContain('Administrator');
        await failure(service.delete(auditor, original.id), 'FORBIDDEN');
      });

      it('deletes a policy completely, with its event, after which it grants nothing', async () => {
        const { accountId, admin } = await newAccount();
        const bob = user(accountId);
        const policy = await service.create(admin, accessPolicy(bob.iamId, ['Viewer'], [attr('accountId', accountId)]));
        const resource = { accountId, serviceName: 'resource-controller' };
        expect((await service.authorize(bob, 'resource-controller.instance.list', resource)).allowed).toBe(true);

        await service.delete(admin, policy.id);
        expect(await harness.dataSource.getRepository(PolicyEntity).countBy({ id: policy.id })).toBe(0);
        await expect.poll(() => eventsOf(policy.id)).toEqual(['com.sealbox.iam.policy.created', 'com.sealbox.iam.policy.deleted']);
        expect((await service.authorize(bob, 'resource-controller.instance.list', resource)).allowed).toBe(false);
        await failure(service.get(admin, policy.id), 'NOT_FOUND');
        await failure(service.delete(admin, policy.id), 'NOT_FOUND');
      });
    });

    describe('list', () => {
      let accountId: string;
      let admin: Principal;
      const bob = `IBMid-${randomUUID()}`;
      const created: string[] = [];

      beforeAll(async () => {
        ({ accountId, admin } = await newAccount());
        const [grantRow] = await harness.dataSource.getRepository(PolicyEntity).findBy({ accountId });
        created.push(grantRow?.id ?? '');
        for (let index = 0; index < 120; index++) {
          // Several policies share a millisecond, so paging must order ties by id.
          if (index % 7 === 0) harness.clock.advance(1);
          const iamId = index % 3 === 0 ? bob : `IBMid-user-${index}`;
          const service_ = index % 2 === 0 ? 'secrets-manager' : 'kms';
          const policy = await service.create(
            admin,
            accessPolicy(iamId, ['Reader'], [attr('accountId', accountId), attr('serviceName', service_)]),
          );
          created.push(policy.id);
        }
      });

      async function all(request: Record<string, unknown>): Promise<{ ids: string[]; pages: PolicyList[] }> {
        const pages: PolicyList[] = [];
        let start: string | undefined;
        do {
          const page = await service.list(admin, listRequest({ ...request, ...(start ? { start } : {}) }));
          pages.push(page);
          start = page.next?.start;
          expect(pages.length).toBeLessThan(20);
        } while (start);
        return { ids: pages.flatMap((page) => page.policies.map((policy) => policy.id)), pages };
      }

      it('pages through every policy exactly once, and has no next on the last page', async () => {
        const { ids, pages } = await all({ account_id: accountId });
        expect(pages.map((page) => page.policies.length)).toEqual([50, 50, 21]);
        expect(ids).toHaveLength(121);
        expect(new Set(ids)).toEqual(new Set(created));
        const times = pages.flatMap((page) => page.policies.map((policy) => Date.parse(policy.created_at)));
        expect(times).toEqual([...times].sort((x, y) => x - y));
        expect(pages.at(-1)?.next).toBeUndefined();
        for (const page of pages) {
          expect(page.limit).toBe(50);
          expect(page.first.href).toBe(`/v1/policies?account_id=${accountId}&limit=50`);
        }
        const next = pages[0]?.next;
        expect(next?.href).toBe(`/v1/policies?account_id=${accountId}&limit=50&start=${next?.start}`);
      });

      it('honours limit, including a last page that is exactly full', async () => {
        const { pages } = await all({ account_id: accountId, limit: 100 });
        expect(pages.map((page) => page.policies.length)).toEqual([100, 21]);
        const exact = await all({ account_id: accountId, type: 'access', iam_id: bob, limit: 20 });
        expect(exact.pages.map((page) => page.policies.length)).toEqual([20, 20]);
        expect(exact.pages.at(-1)?.next).toBeUndefined();
        expect(Subjects['iam.policy.list'].request.safeParse({ account_id: accountId, limit: 101 }).success).toBe(false);
      });

      it('filters by iam_id, type and service_name, and keeps the filters in the hrefs', async () => {
        const byBob = await all({ account_id: accountId, iam_id: bob, limit: 15 });
        expect(byBob.ids).toHaveLength(40);
        expect(byBob.pages.every((page) => page.policies.every((policy) => policy.subjects[0]?.attributes[0]?.value === bob))).toBe(true);
        expect(byBob.pages[0]?.next?.href).toContain(`iam_id=${bob}`);

        const kms = await all({ account_id: accountId, service_name: 'kms' });
        expect(kms.ids).toHaveLength(60);
        const bobOnSm = await all({ account_id: accountId, iam_id: bob, service_name: 'secrets-manager' });
        expect(bobOnSm.ids).toHaveLength(20);
        expect((await all({ account_id: accountId, type: 'authorization' })).ids).toEqual([]);
        expect((await all({ account_id: accountId, service_type: 'platform_service' })).ids).toEqual([]);
        expect((await all({ account_id: accountId, service_type: 'service' })).ids).toHaveLength(120);
        expect((await all({ account_id: accountId, state: 'deleted' })).ids).toEqual([]);
      });

      it('refuses another account, a caller without the list role and a forged start token', async () => {
        const other = await newAccount();
        expect((await failure(service.list(other.admin, listRequest({ account_id: accountId })), 'FORBIDDEN')).message).toContain(
          'own account',
        );
        expect((await failure(service.list(user(accountId), listRequest({ account_id: accountId })), 'FORBIDDEN')).message).toContain(
          'iam-access-management',
        );
        const forged = await failure(
          service.list(admin, listRequest({ account_id: accountId, start: 'bm90LWEtdG9rZW4' })),
          'VALIDATION_FAILED',
        );
        expect(forged.fields?.map((issue) => issue.field)).toEqual(['start']);
        const badType = await failure(
          service.list(admin, listRequest({ account_id: accountId, service_type: 'other' })),
          'VALIDATION_FAILED',
        );
        expect(badType.fields?.map((issue) => issue.field)).toEqual(['service_type']);
      });
    });

    describe('authorization policies', () => {
      const smToKms = (accountId: string, source: Attr[] = [], target: Attr[] = []) =>
        authorizationPolicy(
          accountId,
          [attr('serviceName', 'secrets-manager'), ...source],
          [attr('serviceName', 'kms'), attr('serviceInstance', 'kms-1'), ...target],
        );

      it('needs Administrator on the target KMS instance and at least Viewer on the source service', async () => {
        const { accountId, admin } = await newAccount();
        const kmsAdmin = user(accountId);
        const smViewer = user(accountId);
        const both = user(accountId);
        await service.create(
          admin,
          accessPolicy(
            kmsAdmin.iamId,
            ['Administrator'],
            [attr('accountId', accountId), attr('serviceName', 'kms'), attr('serviceInstance', 'kms-1')],
          ),
        );
        await service.create(
          admin,
          accessPolicy(smViewer.iamId, ['Viewer'], [attr('accountId', accountId), attr('serviceName', 'secrets-manager')]),
        );
        await service.create(
          admin,
          accessPolicy(
            both.iamId,
            ['Administrator'],
            [attr('accountId', accountId), attr('serviceName', 'kms'), attr('serviceInstance', 'kms-1')],
          ),
        );
        await service.create(
          admin,
          accessPolicy(
            both.iamId,
            ['Viewer'],
            [attr('accountId', accountId), attr('serviceName', 'secrets-manager'), attr('serviceInstance', 'sm-1')],
          ),
        );

        expect((await failure(service.create(kmsAdmin, smToKms(accountId)), 'FORBIDDEN')).message).toBe(
          'Managing this authorization needs at least the Viewer role on the source service secrets-manager',
        );
        expect((await failure(service.create(smViewer, smToKms(accountId)), 'FORBIDDEN')).message).toBe(
          'Managing this authorization needs the Administrator role on kms instance kms-1',
        );
        // Viewer on one source instance is enough for an authorization of that instance only.
        await failure(service.create(both, smToKms(accountId)), 'FORBIDDEN');
        const created = await service.create(both, smToKms(accountId, [attr('serviceInstance', 'sm-1')]));
        expect(created.type).toBe('authorization');
        await expect.poll(() => eventsOf(created.id)).toEqual(['com.sealbox.iam.policy.created']);
        expect((await service.create(admin, smToKms(accountId))).type).toBe('authorization');
      });

      it('refuses any role but Reader and a non-KMS target with the field', async () => {
        const { accountId, admin } = await newAccount();
        const writer = await failure(
          service.create(
            admin,
            authorizationPolicy(
              accountId,
              [attr('serviceName', 'secrets-manager')],
              [attr('serviceName', 'kms'), attr('serviceInstance', 'k')],
              ['Writer'],
            ),
          ),
          'VALIDATION_FAILED',
        );
        expect(writer.fields?.map((issue) => issue.field)).toEqual(['roles.0.role_id']);
        const target = await failure(
          service.create(
            admin,
            authorizationPolicy(
              accountId,
              [attr('serviceName', 'secrets-manager')],
              [attr('serviceName', 'secrets-manager'), attr('serviceInstance', 'k')],
            ),
          ),
          'VALIDATION_FAILED',
        );
        expect(target.fields?.map((issue) => issue.field)).toEqual(['resources.0.attributes.1.value']);
      });

      it('answers checkAuthorization for exactly what the policies cover', async () => {
        const { accountId, admin } = await newAccount();
        const other = await newAccount();
        const instanceWide = await service.create(admin, smToKms(accountId, [attr('serviceInstance', 'sm-1')]));
        const keyOnly = await service.create(
          admin,
          authorizationPolicy(
            accountId,
            [attr('serviceName', 'secrets-manager')],
            [attr('serviceName', 'hs-crypto'), attr('serviceInstance', 'hpcs-1'), attr('resourceType', 'key'), attr('resource', 'key-7')],
          ),
        );
        const source = (serviceInstance: string, account = accountId) => ({
          accountId: account,
          serviceName: 'secrets-manager',
          serviceInstance,
        });
        const kmsTarget = (account = accountId) => ({
          accountId: account,
          serviceName: 'kms',
          serviceInstance: 'kms-1',
          resourceType: 'key',
          resource: 'key-1',
        });
        const check = (request: Record<string, unknown>) =>
          service.checkAuthorization(Subjects['iam.authorization.check'].request.parse(request));

        expect(await check({ source: source('sm-1'), target: kmsTarget() })).toEqual({ allowed: true, policyId: instanceWide.id });
        expect((await check({ source: source('sm-2'), target: kmsTarget() })).allowed).toBe(false);
        expect((await check({ source: source('sm-1'), target: { ...kmsTarget(), serviceInstance: 'kms-2' } })).allowed).toBe(false);
        expect((await check({ source: source('sm-1'), target: kmsTarget(), role: 'Writer' })).allowed).toBe(false);
        expect((await check({ source: { accountId, serviceName: 'resource-controller' }, target: kmsTarget() })).allowed).toBe(false);
        expect((await check({ source: source('sm-1', other.accountId), target: kmsTarget() })).allowed).toBe(false);
        expect((await check({ source: source('sm-1', other.accountId), target: kmsTarget(other.accountId) })).allowed).toBe(false);

        const hpcs = { accountId, serviceName: 'hs-crypto', serviceInstance: 'hpcs-1', resourceType: 'key' };
        expect(await check({ source: source('any'), target: { ...hpcs, resource: 'key-7' } })).toEqual({
          allowed: true,
          policyId: keyOnly.id,
        });
        expect((await check({ source: source('any'), target: { ...hpcs, resource: 'key-8' } })).allowed).toBe(false);

        await service.delete(admin, instanceWide.id);
        expect((await check({ source: source('sm-1'), target: kmsTarget() })).allowed).toBe(false);

        // Provider-managed encryption: the provider's kms keys serve any account's secrets-manager instances, as Reader only.
        expect((await check({ source: source('sm-1'), target: kmsTarget(PROVIDER_ACCOUNT) })).allowed).toBe(true);
        expect((await check({ source: source('sm-9', other.accountId), target: kmsTarget(PROVIDER_ACCOUNT) })).allowed).toBe(true);
        expect((await check({ source: source('sm-1'), target: kmsTarget(PROVIDER_ACCOUNT), role: 'Writer' })).allowed).toBe(false);
        expect((await check({ source: { accountId, serviceName: 'resource-controller' }, target: kmsTarget(PROVIDER_ACCOUNT) })).allowed).toBe(false);
      });
    });

    describe('decisions over the wire shape', () => {
      it('denies an unknown action and another account, and allows a known one', async () => {
        const { accountId, admin } = await newAccount();
        const other = await newAccount();
        const ask = (action: string, account = accountId) =>
          service.authorizeRequest({
            subject: admin,
            action,
            resource: { accountId: account, serviceName: 'secrets-manager', serviceInstance: 'i' },
          });
        expect(await ask('secrets-manager.secret.teleport')).toEqual({
          allowed: false,
          reason: 'Unknown action "secrets-manager.secret.teleport"',
        });
        expect((await ask('secrets-manager.secret.read')).allowed).toBe(true);
        expect(await ask('secrets-manager.secret.read', other.accountId)).toEqual({
          allowed: false,
          reason: 'The resource belongs to another account',
        });
        expect((await service.hasRole(admin, ['Administrator'], { accountId: other.accountId, serviceName: 'kms' })).allowed).toBe(false);
      });

      it('is the AccessDecider of the module', () => {
        expect(harness.moduleRef.get(AccessDecider)).toBe(service);
      });
    });
  });
}

for (const database of testDatabases) describePolicies(database.name, database.open);
