import { IamWire } from '@sealbox/contracts';
import { type DatabaseConfig } from '@sealbox/platform';
import { testDatabases } from '@sealbox/platform/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IamBootstrap } from '../bootstrap/bootstrap.service.js';
import { ApiKeyEntity, IdentityEntity } from '../entities/index.js';
import { type Principal } from '../ports.js';
import { REVOCATION_MARGIN_MS } from '../tokens/revocations.js';
import { decodePageToken } from './paging.js';
import { DEFAULT_API_KEYS_PER_IDENTITY } from '../options.js';
import { randomUUID } from 'node:crypto';
import { codeOf, failure, startIam, type IamHarness as Harness } from './testing/iam-harness.js';

const DAY_MS = 86_400_000;

const createKey = (fields: { name: string; iam_id: string; expires_at?: string; account_id?: string; entity_lock?: boolean }) =>
  IamWire.CreateApiKeyRequest.parse(fields);
const listKeys = (query: { pagesize?: number; pagetoken?: string; iam_id?: string; account_id?: string } = {}) =>
  IamWire.ListApiKeysRequest.parse(query);
const listServiceIds = (query: { pagesize?: number; pagetoken?: string; account_id?: string; name?: string } = {}) =>
  IamWire.ListServiceIdsRequest.parse(query);
const pagetokenOf = (next: string) => new URL(next, 'http://sealbox.test').searchParams.get('pagetoken') ?? undefined;

function describeIdentities(name: string, database: () => Promise<{ config: DatabaseConfig; cleanup(): Promise<void> }>) {
  describe(`IAM identities (${name})`, () => {
    let iam: Harness;
    let cleanup: () => Promise<void>;
    let dir: string;
    /** Account A's administrator and its key value; account B's administrator. */
    let adminA: Principal;
    let adminKeyA: string;
    let adminB: Principal;

    beforeAll(async () => {
      let config: DatabaseConfig;
      ({ config, cleanup } = await database());
      dir = mkdtempSync(join(tmpdir(), 'sealbox-identities-'));
      iam = await startIam(config, dir);
      const a = await iam.identities.createAccount({ name: 'Account A' });
      const b = await iam.identities.createAccount({ name: 'Account B' });
      adminA = { iamId: a.admin_iam_id, accountId: a.account_id };
      adminKeyA = a.apikey;
      adminB = { iamId: b.admin_iam_id, accountId: b.account_id };
    });
    afterAll(async () => {
      await iam?.app.close();
      await cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Types of the events whose data mention `id`, sorted. */
    const eventsAbout = (id: string) =>
      iam.events
        .filter((event) => JSON.stringify(event.data).includes(id))
        .map((event) => event.type)
        .sort();

    /** Every revocation iam lists, page after page, as a gateway reads them. */
    async function listAllRevocations(): Promise<IamWire.Revocation[]> {
      const all: IamWire.Revocation[] = [];
      let after: string | undefined;
      do {
        const page = await iam.revocations.list({ limit: 2, ...(after !== undefined ? { after } : {}) });
        all.push(...page.revocations);
        after = page.next;
      } while (after !== undefined);
      return all;
    }

    async function newServiceId(caller: Principal, serviceName = 'robot'): Promise<IamWire.ServiceId> {
      return iam.identities.createServiceId(caller, { account_id: caller.accountId, name: serviceName, description: 'for tests' });
    }

    describe('accounts', () => {
      it('creates an account whose administrator key works and who holds the account-admin grant', async () => {
        const created = await iam.identities.createAccount({ name: 'Account C' });
        expect(created.account_id).toMatch(/^[0-9a-f]{32}$/);
        expect(created.admin_iam_id).toMatch(/^IBMid-/);
        expect(created.apikey_id).toMatch(/^ApiKey-/);
        expect(created.apikey).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(await iam.verifier.verify(created.apikey)).toEqual({
          apikeyId: created.apikey_id,
          iamId: created.admin_iam_id,
          accountId: created.account_id,
          subType: 'user',
          name: 'admin',
        });
        expect(iam.adminGrant.granted).toContainEqual({ accountId: created.account_id, iamId: created.admin_iam_id, nowMs: iam.clock.nowMs() });

        await expect
          .poll(() => eventsAbout(created.account_id))
          .toEqual(['com.sealbox.iam.account.created', 'com.sealbox.iam.apikey.created']);
        expect(JSON.stringify(iam.events)).not.toContain(created.apikey);

        // The administrator can act on its account at once.
        const robot = await newServiceId({ iamId: created.admin_iam_id, accountId: created.account_id });
        expect(robot.account_id).toBe(created.account_id);
      });

      it('gave the first-start administrator the account-admin grant too', async () => {
        const first = await iam.app.get(IamBootstrap).ensureBootstrapped();
        expect(iam.adminGrant.granted.map(({ accountId, iamId }) => ({ accountId, iamId }))).toContainEqual({
          accountId: first.accountId,
          iamId: first.adminIamId,
        });
      });
    });

    describe('API key quota', () => {
      it(`refuses an identity's API key past ${DEFAULT_API_KEYS_PER_IDENTITY} with QUOTA_EXCEEDED, not counting the keys iam issued for secrets`, async () => {
        const robot = await newServiceId(adminA, 'quota-robot');
        const held = (managedBy: string | null, index: number): ApiKeyEntity => ({
          id: `ApiKey-quota-${randomUUID()}`,
          accountId: adminA.accountId,
          iamId: robot.iam_id,
          name: `held-${index}`,
          description: '',
          lookup: randomUUID().slice(0, 16),
          hash: 'not-a-usable-hash',
          locked: false,
          entityTag: 1,
          createdBy: adminA.iamId,
          createdAt: iam.clock.nowMs(),
          modifiedAt: iam.clock.nowMs(),
          expiresAt: null,
          managedBy,
        });
        // The quota less one, and keys issued for iam_credentials secrets, which do not count.
        const rows = Array.from({ length: DEFAULT_API_KEYS_PER_IDENTITY - 1 }, (_, index) => held(null, index));
        await iam.dataSource.getRepository(ApiKeyEntity).insert([...rows, held('secrets-manager', 100), held('secrets-manager', 101)]);
        const last = await iam.identities.createApiKey(adminA, createKey({ name: 'last', iam_id: robot.iam_id }));
        const over = await failure(iam.identities.createApiKey(adminA, createKey({ name: 'one-too-many', iam_id: robot.iam_id })));
        expect(over.code).toBe('QUOTA_EXCEEDED');
        expect(over.message).toContain(`at most ${DEFAULT_API_KEYS_PER_IDENTITY} API keys`);
        expect(await iam.dataSource.getRepository(ApiKeyEntity).countBy({ iamId: robot.iam_id, name: 'one-too-many' })).toBe(0);
        // Another identity has its own quota; deleting a key makes room again.
        await iam.identities.createApiKey(adminA, createKey({ name: 'admin-key', iam_id: adminA.iamId }));
        await iam.identities.deleteApiKey(adminA, last.id);
        await iam.identities.createApiKey(adminA, createKey({ name: 'room-again', iam_id: robot.iam_id }));
      });
    });

    describe('API key values', () => {
      it('returns the value once, at creation, and stores it in no column of any row', async () => {
        const created = await iam.identities.createApiKey(adminA, createKey({ name: 'ci', iam_id: adminA.iamId }));
        const value = created.apikey;
        expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(created).toMatchObject({
          name: 'ci',
          iam_id: adminA.iamId,
          account_id: adminA.accountId,
          created_by: adminA.iamId,
          locked: false,
          disabled: false,
          entity_tag: '1',
          crn: `crn:v1:sealbox:public:iam-identity::a/${adminA.accountId}::apikey:${created.id}`,
          created_at: iam.clock.now().toISOString(),
        });

        expect((await iam.identities.getApiKey(adminA, created.id)).apikey).toBeUndefined();
        expect((await iam.identities.listApiKeys(adminA, listKeys({ pagesize: 100 }))).apikeys.every((key) => key.apikey === undefined)).toBe(true);
        const details = await iam.identities.apiKeyDetails(adminA, value ?? '');
        expect(details.id).toBe(created.id);
        expect(details.apikey).toBeUndefined();

        for (const metadata of iam.dataSource.entityMetadatas) {
          const rows = await iam.dataSource.getRepository(metadata.target).find();
          expect(JSON.stringify(rows), `a row of ${metadata.tableName}`).not.toContain(value);
        }
        await expect.poll(() => eventsAbout(created.id)).toEqual(['com.sealbox.iam.apikey.created']);
        expect(JSON.stringify(iam.events)).not.toContain(value);
      });

      it('verifies a key, and refuses an unknown, expired or deleted one with INVALID_GRANT without echoing it', async () => {
        const expiresAt = new Date(iam.clock.nowMs() + DAY_MS).toISOString();
        const created = await iam.identities.createApiKey(adminA, createKey({ name: 'short', iam_id: adminA.iamId, expires_at: expiresAt }));
        const value = created.apikey ?? '';
        expect(created.expires_at).toBe(expiresAt);
        expect(await iam.verifier.verify(value)).toMatchObject({ apikeyId: created.id, iamId: adminA.iamId, subType: 'user' });
        expect(await iam.verifier.current(created.id)).toMatchObject({ apikeyId: created.id });

        const unknown = await failure(iam.verifier.verify(`${value.slice(0, -1)}x`));
        expect(unknown.code).toBe('INVALID_GRANT');
        expect(unknown.message).not.toContain(value.slice(0, 10));
        expect(await codeOf(iam.verifier.current('ApiKey-missing'))).toBe('INVALID_GRANT');

        iam.clock.advance(DAY_MS);
        expect(await codeOf(iam.verifier.verify(value))).toBe('INVALID_GRANT');
        expect(await codeOf(iam.verifier.current(created.id))).toBe('INVALID_GRANT');

        const other = await iam.identities.createApiKey(adminA, createKey({ name: 'deleted', iam_id: adminA.iamId }));
        await iam.identities.deleteApiKey(adminA, other.id);
        expect(await codeOf(iam.verifier.verify(other.apikey ?? ''))).toBe('INVALID_GRANT');
        expect(await codeOf(iam.verifier.current(other.id))).toBe('INVALID_GRANT');
      });

      it('refuses the keys of a deleted service ID', async () => {
        const robot = await newServiceId(adminA);
        const key = await iam.identities.createApiKey(adminA, createKey({ name: 'robot', iam_id: robot.iam_id }));
        expect(await iam.verifier.verify(key.apikey ?? '')).toMatchObject({ iamId: robot.iam_id, subType: 'ServiceId', name: 'robot' });
        await iam.identities.deleteServiceId(adminA, robot.id);
        expect(await codeOf(iam.verifier.verify(key.apikey ?? ''))).toBe('INVALID_GRANT');
        expect(await codeOf(iam.verifier.current(key.id))).toBe('INVALID_GRANT');
      });

      it('keeps a locked key working for tokens', async () => {
        const key = await iam.identities.createApiKey(adminA, createKey({ name: 'locked', iam_id: adminA.iamId, entity_lock: true }));
        expect(key.locked).toBe(true);
        expect(await iam.verifier.verify(key.apikey ?? '')).toMatchObject({ apikeyId: key.id });
      });

      it('answers details only for a value of the caller account', async () => {
        expect(await codeOf(iam.identities.apiKeyDetails(adminB, adminKeyA))).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.apiKeyDetails(adminA, 'no-such-key-value'))).toBe('NOT_FOUND');
        expect((await iam.identities.apiKeyDetails(adminA, adminKeyA)).iam_id).toBe(adminA.iamId);
      });
    });

    describe('API key creation input', () => {
      it('refuses an expiry that is not in the future, naming the field', async () => {
        const error = await failure(
          iam.identities.createApiKey(adminA, createKey({ name: 'x', iam_id: adminA.iamId, expires_at: iam.clock.now().toISOString() })),
        );
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.fields).toEqual([{ field: 'expires_at', message: 'must be in the future' }]);
      });

      it('refuses another account in account_id, naming the field', async () => {
        const error = await failure(
          iam.identities.createApiKey(adminA, createKey({ name: 'x', iam_id: adminA.iamId, account_id: adminB.accountId })),
        );
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.fields?.map((issue) => issue.field)).toEqual(['account_id']);
      });

      it('answers NOT_FOUND for an identity of another account, as for one that does not exist', async () => {
        const foreign = await failure(iam.identities.createApiKey(adminA, createKey({ name: 'x', iam_id: adminB.iamId })));
        const missing = await failure(iam.identities.createApiKey(adminA, createKey({ name: 'x', iam_id: 'IBMid-nobody' })));
        expect(foreign.code).toBe('NOT_FOUND');
        expect(missing.code).toBe('NOT_FOUND');
      });
    });

    describe('API key access', () => {
      it('answers NOT_FOUND for a key of another account on every operation', async () => {
        const key = await iam.identities.createApiKey(adminA, createKey({ name: 'mine', iam_id: adminA.iamId }));
        const missing = await failure(iam.identities.getApiKey(adminB, 'ApiKey-00000000-0000-4000-8000-000000000000'));
        expect(missing.code).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.getApiKey(adminB, key.id))).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.updateApiKey(adminB, { id: key.id, if_match: '*', name: 'stolen' }))).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.lockApiKey(adminB, key.id, true))).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.deleteApiKey(adminB, key.id))).toBe('NOT_FOUND');
        expect((await iam.identities.listApiKeys(adminB, listKeys({ account_id: adminA.accountId }))).apikeys).toEqual([]);
        expect((await iam.identities.listApiKeys(adminB, listKeys({ iam_id: adminA.iamId }))).apikeys).toEqual([]);
        expect((await iam.identities.getApiKey(adminA, key.id)).id).toBe(key.id);
      });

      it('lets a caller without roles manage only its own keys, which it may not create', async () => {
        const robot = await newServiceId(adminA);
        const other = await newServiceId(adminA, 'other');
        const caller: Principal = { iamId: robot.iam_id, accountId: robot.account_id };
        const own = await iam.identities.createApiKey(adminA, createKey({ name: 'own', iam_id: robot.iam_id }));
        const updated = await iam.identities.updateApiKey(caller, { id: own.id, if_match: own.entity_tag, description: 'mine' });
        expect(updated.description).toBe('mine');
        expect((await iam.identities.listApiKeys(caller, listKeys())).apikeys.map((key) => key.id)).toEqual([own.id]);

        // A stolen token must not become a permanent credential: no key for itself without a grant.
        const self = await failure(iam.identities.createApiKey(caller, createKey({ name: 'x', iam_id: robot.iam_id })));
        expect(self.code).toBe('APIKEY_CREATION_RESTRICTED');
        expect(self.message).toContain('iam-identity.apikey.create');

        // A service ID's keys are hidden from a caller with no role on it: NOT_FOUND, like a missing one.
        expect(await codeOf(iam.identities.createApiKey(caller, createKey({ name: 'x', iam_id: other.iam_id })))).toBe('NOT_FOUND');
        const otherKey = await iam.identities.createApiKey(adminA, createKey({ name: 'theirs', iam_id: other.iam_id }));
        expect(await codeOf(iam.identities.getApiKey(caller, otherKey.id))).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.deleteApiKey(caller, otherKey.id))).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.createApiKey(caller, createKey({ name: 'x', iam_id: adminA.iamId })))).toBe('NOT_FOUND');

        // A Viewer on it may read but not create: APIKEY_CREATION_RESTRICTED (and FORBIDDEN to delete).
        iam.decider.grantRole(caller, 'Viewer', { resourceType: 'serviceid', resource: other.id });
        expect((await iam.identities.getApiKey(caller, otherKey.id)).id).toBe(otherKey.id);
        expect(await codeOf(iam.identities.createApiKey(caller, createKey({ name: 'x', iam_id: other.iam_id })))).toBe('APIKEY_CREATION_RESTRICTED');
        expect(await codeOf(iam.identities.deleteApiKey(caller, otherKey.id))).toBe('FORBIDDEN');
        expect((await iam.identities.listApiKeys(caller, listKeys())).apikeys.map((key) => key.id).sort()).toEqual([own.id, otherKey.id].sort());

        // A Reader on a secrets instance grants nothing here.
        iam.decider.grantRole(caller, 'Reader', { serviceName: 'secrets-manager', serviceInstance: 'instance-1' });
        expect(await codeOf(iam.identities.createApiKey(caller, createKey({ name: 'x', iam_id: robot.iam_id })))).toBe('APIKEY_CREATION_RESTRICTED');

        // An Operator on a service ID may create its keys: on the other one, then on itself.
        iam.decider.grantRole(caller, 'Operator', { resourceType: 'serviceid', resource: other.id });
        const created = await iam.identities.createApiKey(caller, createKey({ name: 'granted', iam_id: other.iam_id }));
        expect(created.created_by).toBe(caller.iamId);
        expect(created.iam_id).toBe(other.iam_id);
        iam.decider.grantRole(caller, 'Operator', { resourceType: 'serviceid', resource: robot.id });
        expect((await iam.identities.createApiKey(caller, createKey({ name: 'mine', iam_id: robot.iam_id }))).iam_id).toBe(robot.iam_id);
      });

      it('records every key creation with its creator', async () => {
        const robot = await newServiceId(adminA, 'audited');
        const key = await iam.identities.createApiKey(adminA, createKey({ name: 'audited-key', iam_id: robot.iam_id }));
        await expect
          .poll(() => iam.events.filter((event) => event.type === 'com.sealbox.iam.apikey.created').map((event) => event.data))
          .toContainEqual({ accountId: adminA.accountId, apikeyId: key.id, iamId: robot.iam_id, name: 'audited-key', createdBy: adminA.iamId });
      });

      it("restricts a user's own keys by the account setting: a grant is needed unless NOT_RESTRICTED", async () => {
        // A user of account A without any policy (users other than the administrator come from outside this area).
        const user: Principal = { iamId: `IBMid-plain-${iam.clock.nowMs()}`, accountId: adminA.accountId };
        const now = iam.clock.nowMs();
        await iam.dataSource.getRepository(IdentityEntity).insert({
          ...user,
          kind: 'user',
          name: 'plain user',
          description: '',
          entityTag: 1,
          createdBy: adminA.iamId,
          createdAt: now,
          modifiedAt: now,
        });
        const own = () => iam.identities.createApiKey(user, createKey({ name: 'own', iam_id: user.iamId }));
        const refused = await failure(own());
        expect(refused.code).toBe('APIKEY_CREATION_RESTRICTED');
        expect(refused.message).toContain('restrict_create_platform_apikey');

        const settings = await iam.accounts.getSettings(adminA, { account_id: adminA.accountId });
        await iam.accounts.updateSettings(adminA, {
          account_id: adminA.accountId,
          if_match: settings.entity_tag,
          restrict_create_platform_apikey: 'NOT_RESTRICTED',
        });
        expect((await own()).iam_id).toBe(user.iamId);
        // Service IDs still need their grant, whatever the setting.
        const robot = await newServiceId(adminA, 'still-restricted');
        const robotCaller: Principal = { iamId: robot.iam_id, accountId: robot.account_id };
        expect(await codeOf(iam.identities.createApiKey(robotCaller, createKey({ name: 'x', iam_id: robot.iam_id })))).toBe(
          'APIKEY_CREATION_RESTRICTED',
        );

        const restored = await iam.accounts.getSettings(adminA, { account_id: adminA.accountId });
        await iam.accounts.updateSettings(adminA, { account_id: adminA.accountId, if_match: restored.entity_tag, restrict_create_platform_apikey: 'NOT_SET' });
        expect(await codeOf(own())).toBe('APIKEY_CREATION_RESTRICTED');
        // With the grant on the IAM Identity service, the user may.
        iam.decider.grantRole(user, 'Operator', { serviceName: 'iam-identity' });
        expect((await own()).iam_id).toBe(user.iamId);
      });
    });

    describe('API key changes', () => {
      it('updates with a matching If-Match and refuses a stale one with PRECONDITION_FAILED', async () => {
        const key = await iam.identities.createApiKey(adminA, createKey({ name: 'before', iam_id: adminA.iamId }));
        iam.clock.advance(1000);
        const updated = await iam.identities.updateApiKey(adminA, { id: key.id, if_match: key.entity_tag, name: 'after' });
        expect(updated).toMatchObject({ name: 'after', entity_tag: '2', modified_at: iam.clock.now().toISOString(), created_at: key.created_at });
        expect(await iam.identities.getApiKey(adminA, key.id)).toEqual(updated);

        const stale = await failure(iam.identities.updateApiKey(adminA, { id: key.id, if_match: key.entity_tag, name: 'lost' }));
        expect(stale.code).toBe('PRECONDITION_FAILED');
        expect((await iam.identities.getApiKey(adminA, key.id)).name).toBe('after');

        const quoted = await iam.identities.updateApiKey(adminA, { id: key.id, if_match: `"${updated.entity_tag}"`, description: 'quoted' });
        expect(quoted).toMatchObject({ name: 'after', description: 'quoted', entity_tag: '3' });
        expect((await iam.identities.updateApiKey(adminA, { id: key.id, if_match: '*', name: 'any' })).entity_tag).toBe('4');
        await expect.poll(() => eventsAbout(key.id).filter((type) => type === 'com.sealbox.iam.apikey.updated')).toHaveLength(3);
      });

      it('refuses to update or delete a locked key with CONFLICT until it is unlocked', async () => {
        const key = await iam.identities.createApiKey(adminA, createKey({ name: 'precious', iam_id: adminA.iamId }));
        await iam.identities.lockApiKey(adminA, key.id, true);
        await iam.identities.lockApiKey(adminA, key.id, true);
        const locked = await iam.identities.getApiKey(adminA, key.id);
        expect(locked.locked).toBe(true);
        expect(locked.entity_tag).toBe('2');

        const update = await failure(iam.identities.updateApiKey(adminA, { id: key.id, if_match: locked.entity_tag, name: 'x' }));
        expect(update.code).toBe('CONFLICT');
        expect(update.message).toContain('locked');
        const remove = await failure(iam.identities.deleteApiKey(adminA, key.id));
        expect(remove.code).toBe('CONFLICT');
        expect(remove.message).toContain('locked');

        await iam.identities.lockApiKey(adminA, key.id, false);
        await iam.identities.lockApiKey(adminA, key.id, false);
        expect((await iam.identities.getApiKey(adminA, key.id)).locked).toBe(false);
        await iam.identities.deleteApiKey(adminA, key.id);
        expect(await codeOf(iam.identities.getApiKey(adminA, key.id))).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.deleteApiKey(adminA, key.id))).toBe('NOT_FOUND');

        await expect
          .poll(() => eventsAbout(key.id))
          .toEqual([
            'com.sealbox.iam.apikey.created',
            'com.sealbox.iam.apikey.deleted',
            'com.sealbox.iam.apikey.locked',
            'com.sealbox.iam.apikey.unlocked',
            'com.sealbox.iam.tokens.revoked',
          ]);
      });

      it('revokes the access tokens of a deleted key: one event, listed for the gateways one token lifetime', async () => {
        const key = await iam.identities.createApiKey(adminA, createKey({ name: 'short-lived', iam_id: adminA.iamId }));
        await iam.identities.deleteApiKey(adminA, key.id);
        const expiresAt = new Date(iam.clock.nowMs() + 3600 * 1000 + REVOCATION_MARGIN_MS).toISOString();
        await expect
          .poll(() => iam.events.filter((event) => event.type === 'com.sealbox.iam.tokens.revoked').map((event) => event.data))
          .toContainEqual({ accountId: adminA.accountId, kind: 'apikey', id: key.id, reason: 'apikey-deleted', expiresAt });
        expect((await listAllRevocations()).filter((entry) => entry.id === key.id)).toEqual([{ kind: 'apikey', id: key.id, expires_at: expiresAt }]);
      });
    });

    describe('API key lists', () => {
      it('pages over 45 keys showing each once, with next only while another page exists', async () => {
        const robot = await newServiceId(adminA, 'many-keys');
        const created: string[] = [];
        for (let batch = 0; batch < 45; batch += 15) {
          const keys = await Promise.all(
            Array.from({ length: 15 }, (_, index) =>
              iam.identities.createApiKey(adminA, createKey({ name: `key-${batch + index}`, iam_id: robot.iam_id })),
            ),
          );
          created.push(...keys.map((key) => key.id));
          iam.clock.advance(1);
        }

        const seen: string[] = [];
        const offsets: number[] = [];
        let pagetoken: string | undefined;
        let pages = 0;
        do {
          const page = await iam.identities.listApiKeys(adminA, listKeys({ iam_id: robot.iam_id, pagetoken }));
          pages += 1;
          expect(page.limit).toBe(20);
          offsets.push(page.offset ?? -1);
          seen.push(...page.apikeys.map((key) => key.id));
          expect(page.apikeys.every((key) => key.iam_id === robot.iam_id && key.apikey === undefined)).toBe(true);
          if (page.next !== undefined) {
            expect(page.next).toMatch(/^\/v1\/apikeys\?/);
            expect(new URL(page.next, 'http://sealbox.test').searchParams.get('iam_id')).toBe(robot.iam_id);
          }
          pagetoken = page.next === undefined ? undefined : pagetokenOf(page.next);
        } while (pagetoken !== undefined && pages < 10);

        expect(pages).toBe(3);
        expect(offsets).toEqual([0, 20, 40]);
        expect(seen).toHaveLength(45);
        expect(new Set(seen)).toEqual(new Set(created));

        const exact = await iam.identities.listApiKeys(adminA, listKeys({ iam_id: robot.iam_id, pagesize: 45 }));
        expect(exact.apikeys).toHaveLength(45);
        expect(exact.next).toBeUndefined();
      });

      it('refuses a page token it did not issue with VALIDATION_FAILED on pagetoken', async () => {
        const error = await failure(iam.identities.listApiKeys(adminA, listKeys({ pagetoken: 'bm90LWEtdG9rZW4' })));
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.fields?.map((issue) => issue.field)).toEqual(['pagetoken']);
      });

      it('lists only the caller account', async () => {
        const page = await iam.identities.listApiKeys(adminB, listKeys({ pagesize: 100 }));
        expect(page.apikeys.length).toBeGreaterThan(0);
        expect(page.apikeys.every((key) => key.account_id === adminB.accountId)).toBe(true);
      });
    });

    describe('service IDs', () => {
      it('creates, gets and lists service IDs with IBM-style ids', async () => {
        const robot = await newServiceId(adminB, 'billing');
        expect(robot).toMatchObject({ account_id: adminB.accountId, name: 'billing', description: 'for tests', locked: false, entity_tag: '1' });
        expect(robot.id).toMatch(/^ServiceId-[0-9a-f-]{36}$/);
        expect(robot.iam_id).toBe(`iam-${robot.id}`);
        expect(robot.crn).toBe(`crn:v1:sealbox:public:iam-identity::a/${adminB.accountId}::serviceid:${robot.id}`);
        expect(await iam.identities.getServiceId(adminB, robot.id)).toEqual(robot);
        const listed = await iam.identities.listServiceIds(adminB, listServiceIds({ name: 'billing' }));
        expect(listed.serviceids).toEqual([robot]);
        expect(listed.next).toBeUndefined();
        await expect.poll(() => eventsAbout(robot.id)).toEqual(['com.sealbox.iam.serviceid.created']);
      });

      it('pages service IDs', async () => {
        for (let index = 0; index < 5; index += 1) await newServiceId(adminB, 'paged');
        const first = await iam.identities.listServiceIds(adminB, listServiceIds({ name: 'paged', pagesize: 3 }));
        expect(first.serviceids).toHaveLength(3);
        expect(first.next).toMatch(/^\/v1\/serviceids\?/);
        const pagetoken = pagetokenOf(first.next ?? '');
        const second = await iam.identities.listServiceIds(adminB, listServiceIds({ name: 'paged', pagesize: 3, pagetoken }));
        expect(second.serviceids).toHaveLength(2);
        expect(second.next).toBeUndefined();
        expect(decodePageToken(pagetoken)?.offset).toBe(3);
        const ids = [...first.serviceids, ...second.serviceids].map((serviceId) => serviceId.id);
        expect(new Set(ids).size).toBe(5);
      });

      it('hides service IDs of another account: NOT_FOUND for get and delete, nothing in lists', async () => {
        const robot = await newServiceId(adminA, 'hidden');
        const missing = await failure(iam.identities.getServiceId(adminB, 'ServiceId-00000000-0000-4000-8000-000000000000'));
        const foreign = await failure(iam.identities.getServiceId(adminB, robot.id));
        expect(missing.code).toBe('NOT_FOUND');
        expect(foreign.code).toBe('NOT_FOUND');
        expect(await codeOf(iam.identities.deleteServiceId(adminB, robot.id))).toBe('NOT_FOUND');
        expect((await iam.identities.listServiceIds(adminB, listServiceIds({ name: 'hidden' }))).serviceids).toEqual([]);
        expect((await iam.identities.listServiceIds(adminB, listServiceIds({ account_id: adminA.accountId }))).serviceids).toEqual([]);
        expect((await iam.identities.getServiceId(adminA, robot.id)).id).toBe(robot.id);
      });

      it('needs a role to create one, and refuses another account', async () => {
        const robot = await newServiceId(adminA, 'no-role');
        const caller: Principal = { iamId: robot.iam_id, accountId: robot.account_id };
        expect(await codeOf(iam.identities.createServiceId(caller, { account_id: caller.accountId, name: 'x' }))).toBe('FORBIDDEN');
        expect(await codeOf(iam.identities.createServiceId(adminA, { account_id: adminB.accountId, name: 'x' }))).toBe('FORBIDDEN');
        expect(await codeOf(iam.identities.getServiceId(caller, robot.id))).toBe('NOT_FOUND');
        iam.decider.grantRole(caller, 'Viewer');
        expect((await iam.identities.getServiceId(caller, robot.id)).id).toBe(robot.id);
        expect(await codeOf(iam.identities.deleteServiceId(caller, robot.id))).toBe('FORBIDDEN');
      });

      it('deletes a service ID with its API keys, recording an event for each', async () => {
        const robot = await newServiceId(adminA, 'doomed');
        const keys = await Promise.all(
          ['k1', 'k2'].map((name) => iam.identities.createApiKey(adminA, createKey({ name, iam_id: robot.iam_id }))),
        );
        await iam.identities.deleteServiceId(adminA, robot.id);
        expect(await codeOf(iam.identities.getServiceId(adminA, robot.id))).toBe('NOT_FOUND');
        for (const key of keys) expect(await codeOf(iam.identities.getApiKey(adminA, key.id))).toBe('NOT_FOUND');
        expect(await iam.dataSource.getRepository(ApiKeyEntity).countBy({ iamId: robot.iam_id })).toBe(0);
        await expect
          .poll(() =>
            iam.events
              .filter((event) => event.type === 'com.sealbox.iam.apikey.deleted' || event.type === 'com.sealbox.iam.serviceid.deleted')
              .filter((event) => JSON.stringify(event.data).includes(robot.iam_id))
              .map((event) => event.type)
              .sort(),
          )
          .toEqual(['com.sealbox.iam.apikey.deleted', 'com.sealbox.iam.apikey.deleted', 'com.sealbox.iam.serviceid.deleted']);
        // One revocation covers every token issued to it, whichever key it came from.
        expect((await listAllRevocations()).filter((entry) => entry.id === robot.iam_id)).toEqual([
          { kind: 'identity', id: robot.iam_id, expires_at: expect.any(String) },
        ]);
      });

      it('refuses to delete a service ID that has a locked API key', async () => {
        const robot = await newServiceId(adminA, 'guarded');
        const key = await iam.identities.createApiKey(adminA, createKey({ name: 'locked', iam_id: robot.iam_id, entity_lock: true }));
        const error = await failure(iam.identities.deleteServiceId(adminA, robot.id));
        expect(error.code).toBe('CONFLICT');
        expect(error.message).toContain(key.id);
        expect((await iam.identities.getServiceId(adminA, robot.id)).id).toBe(robot.id);
        expect((await iam.identities.getApiKey(adminA, key.id)).id).toBe(key.id);
      });
    });
  });
}

for (const database of testDatabases) describeIdentities(database.name, database.open);
