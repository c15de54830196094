import type { DatabaseConfig } from '@sealbox/platform';
import { testDatabases } from '@sealbox/platform/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../ports.js';
import { codeOf, failure, startIam, type IamHarness } from './testing/iam-harness.js';

const page = (query: { pagesize?: number; pagetoken?: string } = {}) => ({ pagesize: query.pagesize ?? 20, ...query });

function describeAccounts(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`IAM accounts and their settings (${name})`, () => {
    let iam: IamHarness;
    let cleanup: () => Promise<void>;
    let dir: string;

    beforeAll(async () => {
      let config: DatabaseConfig;
      ({ config, cleanup } = await database());
      dir = mkdtempSync(join(tmpdir(), 'sealbox-accounts-'));
      iam = await startIam(config, dir);
    });
    afterAll(async () => {
      await iam?.app.close();
      await cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    });

    const eventsOf = (type: string) => iam.events.filter((event) => event.type === `com.sealbox.${type}`).map((event) => event.data);

    describe('platform operators', () => {
      it('lets the first-start administrator create an account with its administrator, naming the creator', async () => {
        const created = await iam.accounts.create(iam.operator, { name: 'Tenant One' });
        expect(created).toMatchObject({ name: 'Tenant One', account_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
        expect((await iam.verifier.verify(created.apikey)).accountId).toBe(created.account_id);
        await expect.poll(() => eventsOf('iam.account.created')).toContainEqual({
          accountId: created.account_id,
          adminIamId: created.admin_iam_id,
          createdBy: iam.operator.iamId,
        });
        expect(eventsOf('iam.apikey.created')).toContainEqual(
          expect.objectContaining({ apikeyId: created.apikey_id, iamId: created.admin_iam_id, createdBy: iam.operator.iamId }),
        );
        const admin: Principal = { iamId: created.admin_iam_id, accountId: created.account_id };
        expect((await iam.identities.getApiKey(admin, created.apikey_id)).created_by).toBe(iam.operator.iamId);
      });

      it("refuses everyone else with 403 FORBIDDEN: another account's administrator, a platform identity without the role", async () => {
        const tenant = await iam.accounts.create(iam.operator, { name: 'Tenant Two' });
        const tenantAdmin: Principal = { iamId: tenant.admin_iam_id, accountId: tenant.account_id };
        const refused = await failure(iam.accounts.create(tenantAdmin, { name: 'Not allowed' }));
        expect(refused.code).toBe('FORBIDDEN');
        expect(refused.message).toContain('platform operator');
        expect(await codeOf(iam.accounts.list(tenantAdmin, page()))).toBe('FORBIDDEN');

        const platformRobot = await iam.identities.createServiceId(iam.operator, { account_id: iam.operator.accountId, name: 'automation' });
        const robot: Principal = { iamId: platformRobot.iam_id, accountId: platformRobot.account_id };
        expect(await codeOf(iam.accounts.create(robot, { name: 'Not allowed either' }))).toBe('FORBIDDEN');
        // Editor on the IAM Identity service is not enough; Administrator makes it an operator.
        iam.decider.grantRole(robot, 'Editor', { serviceName: 'iam-identity' });
        expect(await codeOf(iam.accounts.create(robot, { name: 'Still not' }))).toBe('FORBIDDEN');
        iam.decider.grantRole(robot, 'Administrator', { serviceName: 'iam-identity' });
        expect((await iam.accounts.create(robot, { name: 'By automation' })).name).toBe('By automation');
        // The same grant in a tenant account makes nobody an operator.
        iam.decider.grantRole(tenantAdmin, 'Administrator', { serviceName: 'iam-identity' });
        expect(await codeOf(iam.accounts.create(tenantAdmin, { name: 'Never' }))).toBe('FORBIDDEN');
      });

      it('lists every account a page at a time, each once', async () => {
        await iam.accounts.create(iam.operator, { name: 'Listed A' });
        await iam.accounts.create(iam.operator, { name: 'Listed B' });
        const seen: string[] = [];
        let pagetoken: string | undefined;
        do {
          const result = await iam.accounts.list(iam.operator, page({ pagesize: 2, ...(pagetoken ? { pagetoken } : {}) }));
          seen.push(...result.accounts.map((account) => account.name));
          pagetoken = result.next ? (new URL(result.next, 'http://x').searchParams.get('pagetoken') ?? undefined) : undefined;
        } while (pagetoken);
        expect(seen).toContain('Listed A');
        expect(seen).toContain('Listed B');
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen).toContain('Sealbox');
      });

      it('still creates an account for NATS tooling (no caller: only NATS users allowed to publish iam.> can ask)', async () => {
        const created = await iam.accounts.create(undefined, { name: 'Tooling' });
        await expect.poll(() => eventsOf('iam.account.created')).toContainEqual({ accountId: created.account_id, adminIamId: created.admin_iam_id });
      });
    });

    describe('account settings', () => {
      it("answers IBM's settings: restricted API key creation by default (NOT_SET), with an entity tag", async () => {
        const tenant = await iam.accounts.create(iam.operator, { name: 'Settings' });
        const admin: Principal = { iamId: tenant.admin_iam_id, accountId: tenant.account_id };
        const settings = await iam.accounts.getSettings(admin, { account_id: tenant.account_id });
        expect(settings).toMatchObject({
          account_id: tenant.account_id,
          entity_tag: '1',
          restrict_create_service_id: 'RESTRICTED',
          restrict_create_platform_apikey: 'NOT_SET',
        });
        const updated = await iam.accounts.updateSettings(admin, {
          account_id: tenant.account_id,
          if_match: '1',
          restrict_create_platform_apikey: 'NOT_RESTRICTED',
        });
        expect(updated).toMatchObject({ entity_tag: '2', restrict_create_platform_apikey: 'NOT_RESTRICTED' });
        await expect.poll(() => eventsOf('iam.account-settings.updated')).toContainEqual({
          accountId: tenant.account_id,
          updatedBy: admin.iamId,
          restrictCreatePlatformApikey: 'NOT_RESTRICTED',
        });
        const stale = await failure(iam.accounts.updateSettings(admin, { account_id: tenant.account_id, if_match: '1', restrict_create_platform_apikey: 'RESTRICTED' }));
        expect(stale.code).toBe('PRECONDITION_FAILED');
        expect((await iam.accounts.getSettings(admin, { account_id: tenant.account_id })).restrict_create_platform_apikey).toBe('NOT_RESTRICTED');
      });

      it('needs Administrator to change them and Viewer to read them; another account is NOT_FOUND', async () => {
        const tenant = await iam.accounts.create(iam.operator, { name: 'Guarded settings' });
        const admin: Principal = { iamId: tenant.admin_iam_id, accountId: tenant.account_id };
        const robotId = await iam.identities.createServiceId(admin, { account_id: tenant.account_id, name: 'reader' });
        const robot: Principal = { iamId: robotId.iam_id, accountId: robotId.account_id };
        const change = { account_id: tenant.account_id, if_match: '*', restrict_create_platform_apikey: 'NOT_RESTRICTED' } as const;

        expect(await codeOf(iam.accounts.getSettings(robot, { account_id: tenant.account_id }))).toBe('FORBIDDEN');
        iam.decider.grantRole(robot, 'Viewer', { serviceName: 'iam-identity' });
        expect((await iam.accounts.getSettings(robot, { account_id: tenant.account_id })).account_id).toBe(tenant.account_id);
        iam.decider.grantRole(robot, 'Editor', { serviceName: 'iam-identity' });
        expect(await codeOf(iam.accounts.updateSettings(robot, change))).toBe('FORBIDDEN');

        expect(await codeOf(iam.accounts.getSettings(iam.operator, { account_id: tenant.account_id }))).toBe('NOT_FOUND');
        expect(await codeOf(iam.accounts.updateSettings(iam.operator, change))).toBe('NOT_FOUND');
        expect(await codeOf(iam.accounts.getSettings(admin, { account_id: 'no-such-account' }))).toBe('NOT_FOUND');
      });
    });
  });
}

for (const database of testDatabases) describeAccounts(database.name, database.open);
