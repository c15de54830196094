import type { IamWire } from '@sealbox/contracts';
import type { z } from 'zod';
import type { DatabaseConfig } from '@sealbox/platform';
import { testDatabases } from '@sealbox/platform/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyEntity, IdentityEntity } from '../entities/index.js';
import type { Principal } from '../ports.js';
import { codeOf, failure, startIam, type IamHarness } from './testing/iam-harness.js';

const list = (accountId: string, query: { limit?: number; _start?: string } = {}) => ({ account_id: accountId, limit: query.limit ?? 100, ...query });

function describeUsers(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`IAM users (${name})`, () => {
    let iam: IamHarness;
    let cleanup: () => Promise<void>;
    let dir: string;
    let admin: Principal;

    beforeAll(async () => {
      let config: DatabaseConfig;
      ({ config, cleanup } = await database());
      dir = mkdtempSync(join(tmpdir(), 'sealbox-users-'));
      iam = await startIam(config, dir);
      const account = await iam.accounts.create(iam.operator, { name: 'Users' });
      admin = { iamId: account.admin_iam_id, accountId: account.account_id };
    });
    afterAll(async () => {
      await iam?.app.close();
      await cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    });

    const invite = async (email: string): Promise<z.infer<typeof IamWire.InvitedUserList>['resources'][number]> => {
      const [user] = (await iam.users.invite(admin, { account_id: admin.accountId, users: [{ email }] })).resources;
      if (!user) throw new Error('no user invited');
      return user;
    };

    it('invites a user with a first API key that signs in as that user, created by the inviter', async () => {
      const user = await invite('Alice@example.com');
      expect(user).toMatchObject({ email: 'alice@example.com', id: expect.stringMatching(/^IBMid-/), state: 'ACTIVE' });
      expect(await iam.verifier.verify(user.apikey)).toMatchObject({ iamId: user.id, accountId: admin.accountId, subType: 'user', name: 'alice@example.com' });
      const asAlice: Principal = { iamId: user.id, accountId: admin.accountId };
      expect((await iam.identities.getApiKey(asAlice, user.apikey_id)).created_by).toBe(admin.iamId);
      await expect.poll(() => iam.events.filter((event) => event.type === 'com.sealbox.iam.user.invited').map((event) => event.data)).toContainEqual({
        accountId: admin.accountId,
        iamId: user.id,
        invitedBy: admin.iamId,
      });
      expect((await iam.users.get(admin, { account_id: admin.accountId, iam_id: user.id })).email).toBe('alice@example.com');
      // Users read their own profile without a role.
      expect((await iam.users.get(asAlice, { account_id: admin.accountId, iam_id: user.id })).iam_id).toBe(user.id);

      const again = await failure(iam.users.invite(admin, { account_id: admin.accountId, users: [{ email: 'alice@example.com' }] }));
      expect(again.code).toBe('CONFLICT');
      expect(again.message).toContain('alice@example.com');
    });

    it('lists the users of the account, a page at a time', async () => {
      await invite('bob@example.com');
      await invite('carol@example.com');
      const first = await iam.users.list(admin, list(admin.accountId, { limit: 2 }));
      expect(first.resources).toHaveLength(2);
      expect(first.total_results).toBeGreaterThanOrEqual(3);
      const start = new URL(first.next_url ?? '', 'http://x').searchParams.get('_start') ?? '';
      const second = await iam.users.list(admin, list(admin.accountId, { limit: 100, _start: start }));
      expect(second.next_url).toBeUndefined();
      const emails = [...first.resources, ...second.resources].map((user) => user.email);
      expect(new Set(emails).size).toBe(emails.length);
      expect(emails).toEqual(expect.arrayContaining(['bob@example.com', 'carol@example.com']));
    });

    it('removes a user: its keys and policies go, its tokens are revoked; the owner stays', async () => {
      const user = await invite('dave@example.com');
      const dave: Principal = { iamId: user.id, accountId: admin.accountId };
      await iam.users.remove(admin, { account_id: admin.accountId, iam_id: user.id });
      expect(await codeOf(iam.verifier.verify(user.apikey))).toBe('INVALID_GRANT');
      expect(await iam.dataSource.getRepository(ApiKeyEntity).countBy({ iamId: user.id })).toBe(0);
      expect(await iam.dataSource.getRepository(IdentityEntity).countBy({ iamId: user.id })).toBe(0);
      const revoked = (await iam.revocations.list({ limit: 1000 })).revocations.filter((entry) => entry.id === user.id);
      expect(revoked).toEqual([{ kind: 'identity', id: user.id, expires_at: expect.any(String) }]);
      await expect.poll(() => iam.events.filter((event) => event.type === 'com.sealbox.iam.user.removed').map((event) => event.data)).toContainEqual({
        accountId: admin.accountId,
        iamId: user.id,
        removedBy: admin.iamId,
      });
      expect(await codeOf(iam.users.get(admin, { account_id: admin.accountId, iam_id: dave.iamId }))).toBe('NOT_FOUND');
      expect(await codeOf(iam.users.remove(admin, { account_id: admin.accountId, iam_id: dave.iamId }))).toBe('NOT_FOUND');

      const owner = await failure(iam.users.remove(admin, { account_id: admin.accountId, iam_id: admin.iamId }));
      expect(owner.code).toBe('CONFLICT');
      expect(owner.message).toContain('owns the account');
    });

    it('needs Editor on user-management to invite and remove, Viewer to list; another account is NOT_FOUND', async () => {
      const user = await invite('erin@example.com');
      const erin: Principal = { iamId: user.id, accountId: admin.accountId };
      const target = await invite('frank@example.com');
      expect(await codeOf(iam.users.list(erin, list(admin.accountId)))).toBe('FORBIDDEN');
      expect(await codeOf(iam.users.invite(erin, { account_id: admin.accountId, users: [{ email: 'x@example.com' }] }))).toBe('FORBIDDEN');
      expect(await codeOf(iam.users.remove(erin, { account_id: admin.accountId, iam_id: target.id }))).toBe('FORBIDDEN');
      iam.decider.grantRole(erin, 'Viewer', { serviceName: 'user-management' });
      expect((await iam.users.list(erin, list(admin.accountId))).resources.length).toBeGreaterThan(0);
      expect(await codeOf(iam.users.remove(erin, { account_id: admin.accountId, iam_id: target.id }))).toBe('FORBIDDEN');
      iam.decider.grantRole(erin, 'Editor', { serviceName: 'user-management' });
      await iam.users.remove(erin, { account_id: admin.accountId, iam_id: target.id });

      expect(await codeOf(iam.users.list(iam.operator, list(admin.accountId)))).toBe('NOT_FOUND');
      expect(await codeOf(iam.users.remove(iam.operator, { account_id: admin.accountId, iam_id: user.id }))).toBe('NOT_FOUND');
      expect(await codeOf(iam.users.get(iam.operator, { account_id: iam.operator.accountId, iam_id: user.id }))).toBe('NOT_FOUND');
    });
  });
}

for (const database of testDatabases) describeUsers(database.name, database.open);
