/**
 * The instance registry and secret groups through SecretsModule, served on the in-process
 * transport (schema validation, caller header, error serialization as in production), on SQLite
 * and PostgreSQL.
 */
import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { CloudEvent, ErrorCode, SecretsWire } from '@sealbox/contracts';
import { DomainError, InProcessBus, InProcessClient, InProcessEventBus, InProcessServer, ManualClock, RpcClient, type Caller } from '@sealbox/platform';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsModule } from '../secrets.module.js';
import { SecretsInGroup } from './ports.js';
import type { TenantScope } from './store.js';

/** A typed fake of the secrets count: groups named in `full` hold secrets. */
class CountingSecrets extends SecretsInGroup {
  readonly full = new Map<string, number>();
  async count(_manager: EntityManager, scope: TenantScope, groupId: string): Promise<number> {
    return this.full.get(`${scope.accountId}/${scope.instanceGuid}/${groupId}`) ?? 0;
  }
}

async function failure(promise: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

for (const database of testDatabases) {
  describe(`Secrets instance registry and groups (${database.name})`, () => {
    let cleanup: () => Promise<void>;
    let moduleRef: TestingModule;
    let app: INestMicroservice;
    let client: RpcClient;
    const clock = new ManualClock();
    const secrets = new CountingSecrets();
    const events: CloudEvent[] = [];

    const newAccount = () => randomUUID().replaceAll('-', '');
    const userOf = (accountId: string): Caller => ({ accountId, iamId: `IBMid-${randomUUID()}`, subType: 'user' });

    async function activate(accountId: string, instanceGuid: string = randomUUID()): Promise<SecretsWire.SecretsInstance> {
      return client.send('secrets.instance.activate', {
        accountId,
        instanceGuid,
        crn: `crn:v1:bluemix:public:secrets-manager:us-south:a/${accountId}:${instanceGuid}::`,
        region: 'us-south',
        kmsKey: { instanceId: randomUUID(), keyId: randomUUID() },
      });
    }

    const eventsOf = (instanceGuid: string) =>
      events
        .filter((event) => (event.data as { instanceId?: string }).instanceId === instanceGuid)
        .map((event) => `${event.type.replace('com.sealbox.', '')}${(event.data as { groupId?: string }).groupId ? ` ${(event.data as { groupId?: string }).groupId}` : ''}`);

    beforeAll(async () => {
      const opened = await database.open();
      cleanup = opened.cleanup;
      const bus = new InProcessEventBus();
      bus.subscribe('events.secrets.>', (_subject, event) => {
        events.push(event);
      });
      const rpc = new InProcessBus();
      moduleRef = await Test.createTestingModule({
        imports: [
          testPlatformModule({ events: bus, clock, clientProxy: new InProcessClient(rpc), rpcTimeoutMs: 10_000 }),
          SecretsModule.register({ database: opened.config }),
        ],
      })
        .overrideProvider(SecretsInGroup)
        .useValue(secrets)
        .compile();
      app = moduleRef.createNestMicroservice({ strategy: new InProcessServer(rpc), logger: false });
      await app.listen();
      client = app.get(RpcClient);
    });
    afterAll(async () => {
      await app?.close();
      await cleanup?.();
    });

    describe('instance registry', () => {
      it('activates an instance with its default group, once, and answers a retry with the same instance', async () => {
        const accountId = newAccount();
        const instance = await activate(accountId);
        expect(instance).toMatchObject({ accountId, region: 'us-south', state: 'active' });
        const again = await client.send('secrets.instance.activate', {
          accountId,
          instanceGuid: instance.instanceGuid,
          crn: instance.crn,
          region: instance.region,
          kmsKey: instance.kmsKey,
        });
        expect(again).toEqual(instance);
        expect(await client.send('secrets.instance.get', { instanceGuid: instance.instanceGuid })).toEqual(instance);

        const groups = await client.send('secrets.group.list', { instanceGuid: instance.instanceGuid }, { caller: userOf(accountId) });
        expect(groups.total_count).toBe(1);
        expect(groups.secret_groups[0]).toMatchObject({ id: 'default', name: 'default', created_by: 'system' });
        await expect.poll(() => eventsOf(instance.instanceGuid)).toEqual(['secrets.instance.activated']);
      });

      it('records the account of a root key of another account (provider-managed encryption); its own account is not recorded', async () => {
        const accountId = newAccount();
        const instanceGuid = randomUUID();
        const request = {
          accountId,
          instanceGuid,
          crn: `crn:v1:bluemix:public:secrets-manager:us-south:a/${accountId}:${instanceGuid}::`,
          region: 'us-south',
          kmsKey: { instanceId: randomUUID(), keyId: randomUUID(), accountId: 'sealbox-provider' },
        };
        const provider = await client.send('secrets.instance.activate', request);
        expect(provider.kmsKey).toEqual(request.kmsKey);
        expect(await client.send('secrets.instance.get', { instanceGuid })).toEqual(provider);
        expect(await client.send('secrets.instance.activate', request)).toEqual(provider);
        await failure(client.send('secrets.instance.activate', { ...request, kmsKey: { ...request.kmsKey, accountId } }), 'CONFLICT');

        const own = await activate(accountId);
        const replay = { accountId, instanceGuid: own.instanceGuid, crn: own.crn, region: own.region, kmsKey: { ...own.kmsKey, accountId } };
        expect(own.kmsKey.accountId).toBeUndefined();
        expect(await client.send('secrets.instance.activate', replay)).toEqual(own);
      });

      it('refuses another activation of a taken GUID with other attributes, and bad input', async () => {
        const instance = await activate(newAccount());
        await failure(activate(newAccount(), instance.instanceGuid), 'CONFLICT');
        const bad = await failure(
          client.send('secrets.instance.activate', { accountId: 'a', instanceGuid: 'not-a-uuid', crn: 'c', region: 'r', kmsKey: { instanceId: 'i', keyId: 'k' } }),
          'VALIDATION_FAILED',
        );
        expect(bad.fields?.map((issue) => issue.field)).toEqual(['instanceGuid']);
        await failure(client.send('secrets.instance.get', { instanceGuid: randomUUID() }), 'NOT_FOUND');
        await failure(client.send('secrets.instance.set-state', { instanceGuid: randomUUID(), state: 'disabled' }), 'NOT_FOUND');
      });

      it('a disabled instance answers INSTANCE_NOT_ACTIVE to every group operation until enabled', async () => {
        const accountId = newAccount();
        const caller = { caller: userOf(accountId) };
        const instance = await activate(accountId);
        const instanceGuid = instance.instanceGuid;
        const group = await client.send('secrets.group.create', { instanceGuid, name: 'team-a' }, caller);
        clock.advance(1000);
        const disabled = await client.send('secrets.instance.set-state', { instanceGuid, state: 'disabled' });
        expect(disabled.state).toBe('disabled');
        expect(disabled.updatedAt).not.toBe(instance.updatedAt);
        await failure(client.send('secrets.group.create', { instanceGuid, name: 'team-b' }, caller), 'INSTANCE_NOT_ACTIVE');
        await failure(client.send('secrets.group.list', { instanceGuid }, caller), 'INSTANCE_NOT_ACTIVE');
        await failure(client.send('secrets.group.get', { instanceGuid, id: group.id }, caller), 'INSTANCE_NOT_ACTIVE');
        await failure(client.send('secrets.group.update', { instanceGuid, id: group.id, name: 'team-c' }, caller), 'INSTANCE_NOT_ACTIVE');
        await failure(client.send('secrets.group.delete', { instanceGuid, id: group.id }, caller), 'INSTANCE_NOT_ACTIVE');
        // Activation again does not re-enable: that is set-state's job.
        expect((await client.send('secrets.instance.activate', { accountId, instanceGuid, crn: instance.crn, region: instance.region, kmsKey: instance.kmsKey })).state).toBe('disabled');
        // Another account still learns nothing about the instance.
        await failure(client.send('secrets.group.list', { instanceGuid }, { caller: userOf(newAccount()) }), 'NOT_FOUND');

        await client.send('secrets.instance.set-state', { instanceGuid, state: 'active' });
        expect((await client.send('secrets.group.get', { instanceGuid, id: group.id }, caller)).name).toBe('team-a');
        await failure(client.send('secrets.instance.set-state', { instanceGuid, state: 'paused' } as unknown as SecretsWire.SetInstanceStateRequest), 'VALIDATION_FAILED');
        await expect
          .poll(() => eventsOf(instanceGuid))
          .toEqual(['secrets.instance.activated', `secrets.group.created ${group.id}`, 'secrets.instance.state-changed', 'secrets.instance.state-changed']);
      });
    });

    describe('secret groups', () => {
      it('creates, lists, gets, updates (merge patch) and deletes a group, each with its event', async () => {
        const accountId = newAccount();
        const user = userOf(accountId);
        const { instanceGuid } = await activate(accountId);
        clock.advance(1000);
        const created = await client.send('secrets.group.create', { instanceGuid, name: 'payments', description: 'Payment keys' }, { caller: user });
        expect(created).toMatchObject({ name: 'payments', description: 'Payment keys', created_by: user.iamId });
        expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(created.created_at).toBe(created.updated_at);

        const listed = await client.send('secrets.group.list', { instanceGuid }, { caller: user });
        expect(listed.secret_groups.map((group) => group.id)).toEqual(['default', created.id]);
        expect(await client.send('secrets.group.get', { instanceGuid, id: created.id }, { caller: user })).toEqual(created);

        clock.advance(1000);
        const renamed = await client.send('secrets.group.update', { instanceGuid, id: created.id, name: 'billing' }, { caller: user });
        expect(renamed).toMatchObject({ name: 'billing', description: 'Payment keys', created_at: created.created_at });
        expect(renamed.updated_at).not.toBe(created.updated_at);
        const described = await client.send('secrets.group.update', { instanceGuid, id: created.id, description: null }, { caller: user });
        expect(described.name).toBe('billing');
        expect(described).not.toHaveProperty('description');
        expect(await client.send('secrets.group.get', { instanceGuid, id: created.id }, { caller: user })).toEqual(described);

        expect(await client.send('secrets.group.delete', { instanceGuid, id: created.id }, { caller: user })).toEqual({});
        await failure(client.send('secrets.group.get', { instanceGuid, id: created.id }, { caller: user }), 'NOT_FOUND');
        await failure(client.send('secrets.group.delete', { instanceGuid, id: created.id }, { caller: user }), 'NOT_FOUND');
        await failure(client.send('secrets.group.update', { instanceGuid, id: created.id, name: 'again' }, { caller: user }), 'NOT_FOUND');
        await expect
          .poll(() => eventsOf(instanceGuid))
          .toEqual([
            'secrets.instance.activated',
            `secrets.group.created ${created.id}`,
            `secrets.group.updated ${created.id}`,
            `secrets.group.updated ${created.id}`,
            `secrets.group.deleted ${created.id}`,
          ]);
      });

      it('keeps names unique per instance, not across instances', async () => {
        const accountId = newAccount();
        const caller = { caller: userOf(accountId) };
        const first = await activate(accountId);
        const second = await activate(accountId);
        const one = await client.send('secrets.group.create', { instanceGuid: first.instanceGuid, name: 'shared' }, caller);
        await client.send('secrets.group.create', { instanceGuid: second.instanceGuid, name: 'shared' }, caller);
        await failure(client.send('secrets.group.create', { instanceGuid: first.instanceGuid, name: 'shared' }, caller), 'CONFLICT');
        await failure(client.send('secrets.group.create', { instanceGuid: first.instanceGuid, name: 'default' }, caller), 'CONFLICT');
        const other = await client.send('secrets.group.create', { instanceGuid: first.instanceGuid, name: 'other' }, caller);
        await failure(client.send('secrets.group.update', { instanceGuid: first.instanceGuid, id: other.id, name: 'shared' }, caller), 'CONFLICT');
        // Renaming a group to its own name is no conflict.
        expect((await client.send('secrets.group.update', { instanceGuid: first.instanceGuid, id: one.id, name: 'shared' }, caller)).name).toBe('shared');
        // Two creations of the same name at once: exactly one wins, the other is a CONFLICT (never INTERNAL).
        const raced = await Promise.allSettled([
          client.send('secrets.group.create', { instanceGuid: second.instanceGuid, name: 'raced' }, caller),
          client.send('secrets.group.create', { instanceGuid: second.instanceGuid, name: 'raced' }, caller),
        ]);
        expect(raced.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        const lost = raced.find((outcome) => outcome.status === 'rejected');
        expect(lost?.status === 'rejected' ? (lost.reason as DomainError).code : undefined).toBe('CONFLICT');
      });

      it('the default group cannot be updated or deleted', async () => {
        const accountId = newAccount();
        const caller = { caller: userOf(accountId) };
        const { instanceGuid } = await activate(accountId);
        const update = await failure(client.send('secrets.group.update', { instanceGuid, id: 'default', description: 'mine' }, caller), 'VALIDATION_FAILED');
        expect(update.fields?.map((issue) => issue.field)).toEqual(['id']);
        const removal = await failure(client.send('secrets.group.delete', { instanceGuid, id: 'default' }, caller), 'VALIDATION_FAILED');
        expect(removal.fields?.map((issue) => issue.field)).toEqual(['id']);
        expect(await client.send('secrets.group.get', { instanceGuid, id: 'default' }, caller)).toMatchObject({ id: 'default', name: 'default' });
      });

      it('refuses to delete a group that holds secrets (409) and deletes it once empty', async () => {
        const accountId = newAccount();
        const caller = { caller: userOf(accountId) };
        const { instanceGuid } = await activate(accountId);
        const group = await client.send('secrets.group.create', { instanceGuid, name: 'busy' }, caller);
        secrets.full.set(`${accountId}/${instanceGuid}/${group.id}`, 2);
        await failure(client.send('secrets.group.delete', { instanceGuid, id: group.id }, caller), 'CONFLICT');
        expect((await client.send('secrets.group.get', { instanceGuid, id: group.id }, caller)).name).toBe('busy');
        secrets.full.delete(`${accountId}/${instanceGuid}/${group.id}`);
        await client.send('secrets.group.delete', { instanceGuid, id: group.id }, caller);
        await failure(client.send('secrets.group.get', { instanceGuid, id: group.id }, caller), 'NOT_FOUND');
      });

      it('isolates accounts: another account sees a NOT_FOUND instance, as for a missing one', async () => {
        const owner = newAccount();
        const { instanceGuid } = await activate(owner);
        const group = await client.send('secrets.group.create', { instanceGuid, name: 'private' }, { caller: userOf(owner) });
        const stranger = { caller: userOf(newAccount()) };
        await failure(client.send('secrets.group.list', { instanceGuid }, stranger), 'NOT_FOUND');
        await failure(client.send('secrets.group.get', { instanceGuid, id: group.id }, stranger), 'NOT_FOUND');
        await failure(client.send('secrets.group.create', { instanceGuid, name: 'intruder' }, stranger), 'NOT_FOUND');
        await failure(client.send('secrets.group.update', { instanceGuid, id: group.id, name: 'mine' }, stranger), 'NOT_FOUND');
        await failure(client.send('secrets.group.delete', { instanceGuid, id: group.id }, stranger), 'NOT_FOUND');
        const missing = await failure(client.send('secrets.group.list', { instanceGuid: randomUUID() }, stranger), 'NOT_FOUND');
        expect(missing.message).toMatch(/^Instance .* was not found$/);
        // A group of another instance of the same account is not found through this one.
        const sibling = await activate(owner);
        await failure(client.send('secrets.group.get', { instanceGuid: sibling.instanceGuid, id: group.id }, { caller: userOf(owner) }), 'NOT_FOUND');
        expect((await client.send('secrets.group.get', { instanceGuid, id: group.id }, { caller: userOf(owner) })).name).toBe('private');
      });

      it('needs a caller (UNAUTHORIZED) and refuses bad input naming the field', async () => {
        const accountId = newAccount();
        const { instanceGuid } = await activate(accountId);
        await failure(client.send('secrets.group.list', { instanceGuid }), 'UNAUTHORIZED');
        await failure(client.send('secrets.group.create', { instanceGuid, name: 'x1' }), 'UNAUTHORIZED');
        const caller = { caller: userOf(accountId) };
        const fieldsOf = async (promise: Promise<unknown>) => (await failure(promise, 'VALIDATION_FAILED')).fields?.map((issue) => issue.field);
        expect(await fieldsOf(client.send('secrets.group.create', { instanceGuid, name: 'x' }, caller))).toEqual(['name']);
        expect(await fieldsOf(client.send('secrets.group.create', { instanceGuid, name: 'ok-name', description: 'd'.repeat(1025) }, caller))).toEqual(['description']);
        expect(await fieldsOf(client.send('secrets.group.list', { instanceGuid: 'nope' }, caller))).toEqual(['instanceGuid']);
        expect(await fieldsOf(client.send('secrets.group.get', { instanceGuid, id: 'not-a-group' }, caller))).toEqual(['id']);
        expect(await fieldsOf(client.send('secrets.group.update', { instanceGuid, id: 'default', name: null } as unknown as SecretsWire.UpdateSecretGroupRequest, caller))).toEqual(['name']);
        expect(await fieldsOf(client.send('secrets.group.delete', { instanceGuid } as unknown as SecretsWire.SecretGroupRef, caller))).toEqual(['id']);
      });
    });
  });
}
