/**
 * Locks inside the whole SecretsModule, on SQLite and PostgreSQL: the secrets core's VersionDirectory
 * resolves versions and deletes data, and it asks this LockDirectory before deleting a secret or a
 * version's data. Only the vault (crypto seal + object store over RPC) is replaced, by memory.
 */
import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { CloudEvent, SecretsWire } from '@sealbox/contracts';
import { DomainError, InProcessBus, InProcessClient, InProcessEventBus, InProcessServer, ManualClock, RpcClient, type Caller } from '@sealbox/platform';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceRegistry } from '../registry/index.js';
import { SecretsModule } from '../secrets.module.js';
import type { VersionPayload } from '../secrets/payload.js';
import { VersionVault } from '../secrets/vault.js';
import { activateInstance, failure } from './testing/helpers.js';

/** The vault in memory: what would be sealed and stored, by instance, secret and version. */
class MemoryVault implements Pick<VersionVault, 'store' | 'open' | 'remove' | 'list'> {
  readonly objects = new Map<string, VersionPayload>();
  readonly removed: string[] = [];
  private key = (instanceGuid: string, secretId: string, versionId: string) => `${instanceGuid}/${secretId}/${versionId}`;

  async store(instance: { instanceGuid: string }, secretId: string, versionId: string, payload: VersionPayload): Promise<void> {
    this.objects.set(this.key(instance.instanceGuid, secretId, versionId), payload);
  }
  async open(instance: { instanceGuid: string }, _type: SecretsWire.SecretType, secretId: string, versionId: string): Promise<VersionPayload> {
    const payload = this.objects.get(this.key(instance.instanceGuid, secretId, versionId));
    if (!payload) throw new DomainError('INTEGRITY_FAILED', `The data of version ${versionId} is missing from storage`);
    return payload;
  }
  async remove(instanceGuid: string, secretId: string, versionId: string): Promise<void> {
    this.objects.delete(this.key(instanceGuid, secretId, versionId));
    this.removed.push(`${secretId}/${versionId}`);
  }
  async list(): Promise<{ keys: string[] }> {
    return { keys: [] };
  }
}

for (const database of testDatabases) {
  describe(`Secret locks in SecretsModule (${database.name})`, () => {
    let cleanup: () => Promise<void>;
    let app: INestMicroservice;
    let client: RpcClient;
    const clock = new ManualClock();
    const vault = new MemoryVault();
    const events: CloudEvent[] = [];

    async function tenant(): Promise<{ instanceGuid: string; as: { caller: Caller } }> {
      const accountId = randomUUID().replaceAll('-', '');
      const instanceGuid = await activateInstance(app.get(InstanceRegistry), accountId);
      return { instanceGuid, as: { caller: { accountId, iamId: `IBMid-${randomUUID()}`, subType: 'user' } } };
    }

    beforeAll(async () => {
      const opened = await database.open();
      cleanup = opened.cleanup;
      const bus = new InProcessEventBus();
      bus.subscribe('events.secrets.>', (_subject, event) => {
        events.push(event);
      });
      const rpc = new InProcessBus();
      const moduleRef = await Test.createTestingModule({
        imports: [
          testPlatformModule({ events: bus, clock, clientProxy: new InProcessClient(rpc), rpcTimeoutMs: 10_000 }),
          SecretsModule.register({ database: opened.config, secrets: { schedulerIntervalMs: 0, orphanSweepIntervalMs: 0 } }),
        ],
      })
        .overrideProvider(VersionVault)
        .useValue(vault)
        .compile();
      app = moduleRef.createNestMicroservice({ strategy: new InProcessServer(rpc), logger: false });
      await app.listen();
      client = app.get(RpcClient);
    });
    afterAll(async () => {
      await app?.close();
      await cleanup?.();
    });

    it('lock → refuse delete (409 naming the locks) → unlock → delete, with locks_total and version aliases from the secrets store', async () => {
      const { instanceGuid, as } = await tenant();
      const secret = await client.send('secrets.secret.create', { instanceGuid, secret: { secret_type: 'arbitrary', name: 'db-password', payload: 'v1' } }, as);
      const v2 = await client.send('secrets.version.create', { instanceGuid, secretId: secret.id, version: { payload: 'v2' } }, as);

      const locked = await client.send('secrets.lock.create', { instanceGuid, secretId: secret.id, locks: [{ name: 'app' }, { name: 'audit' }] }, as);
      expect(locked).toEqual({
        secret_id: secret.id,
        secret_group_id: 'default',
        secret_type: 'arbitrary',
        secret_name: 'db-password',
        versions: [{ version_id: v2.id, version_alias: 'current', locks: ['app', 'audit'], payload_available: true }],
      });
      await client.send('secrets.lock.create', { instanceGuid, secretId: secret.id, versionId: 'previous', locks: [{ name: 'old' }] }, as);
      expect((await client.send('secrets.secret.metadata.get', { instanceGuid, id: secret.id }, as)).locks_total).toBe(3);
      const listed = await client.send('secrets.secret.list', { instanceGuid, path: '/api/v2/secrets', query: {} }, as);
      expect(listed.secrets.find((row) => row.id === secret.id)?.locks_total).toBe(3);

      const refused = await failure(client.send('secrets.secret.delete', { instanceGuid, id: secret.id }, as), 'CONFLICT');
      expect(refused.message).toContain('app, audit');
      expect(refused.message).toContain('old');
      const dataRefused = await failure(client.send('secrets.version.data.delete', { instanceGuid, secretId: secret.id, id: 'previous' }, as), 'CONFLICT');
      expect(dataRefused.message).toContain('old');

      const unlocked = await client.send('secrets.lock.delete', { instanceGuid, secretId: secret.id }, as);
      expect(unlocked.versions.every((version) => version.locks.length === 0)).toBe(true);
      expect((await client.send('secrets.secret.metadata.get', { instanceGuid, id: secret.id }, as)).locks_total).toBe(0);
      expect(await client.send('secrets.secret.delete', { instanceGuid, id: secret.id }, as)).toEqual({});
      await failure(client.send('secrets.lock.list', { instanceGuid, secretId: secret.id, path: '/p', query: {} }, as), 'NOT_FOUND');
    });

    it("remove_previous_and_delete deletes the previous version's data through the secrets store", async () => {
      const { instanceGuid, as } = await tenant();
      const secret = await client.send('secrets.secret.create', { instanceGuid, secret: { secret_type: 'kv', name: 'config', data: { a: 1 } } }, as);
      await client.send('secrets.lock.create', { instanceGuid, secretId: secret.id, locks: [{ name: 'app' }] }, as);
      const v2 = await client.send('secrets.version.create', { instanceGuid, secretId: secret.id, version: { data: { a: 2 } } }, as);
      const moved = await client.send(
        'secrets.lock.create',
        { instanceGuid, secretId: secret.id, locks: [{ name: 'app' }], mode: 'remove_previous_and_delete' },
        as,
      );
      expect(moved.versions).toEqual([
        { version_id: v2.id, version_alias: 'current', locks: ['app'], payload_available: true },
        { version_id: expect.any(String), version_alias: 'previous', locks: [], payload_available: false },
      ]);
      const previousId = moved.versions[1]?.version_id;
      expect((await client.send('secrets.version.metadata.get', { instanceGuid, secretId: secret.id, id: 'previous' }, as)).payload_available).toBe(false);
      expect(vault.removed).toContain(`${secret.id}/${previousId}`);
      await expect
        .poll(() =>
          events
            .filter((event) => (event.data as { secretId?: string }).secretId === secret.id && /lock|data-deleted/.test(event.type))
            .map((event) => `${event.type.replace('com.sealbox.secrets.', '')} ${(event.data as { versionId: string }).versionId}`),
        )
        .toEqual([`lock.created ${previousId}`, `lock.created ${v2.id}`, `lock.deleted ${previousId}`, `version.data-deleted ${previousId}`]);

      const all = await client.send('secrets.lock.list-all', { instanceGuid, path: '/api/v2/secrets_locks', query: {} }, as);
      expect(all.secrets_locks).toEqual([
        {
          secret_id: secret.id,
          secret_group_id: 'default',
          secret_type: 'kv',
          secret_name: 'config',
          versions: [{ version_id: v2.id, version_alias: 'current', locks: ['app'], payload_available: true }],
        },
      ]);
    });

    it('the instance purge removes its locks', async () => {
      const { instanceGuid, as } = await tenant();
      const secret = await client.send('secrets.secret.create', { instanceGuid, secret: { secret_type: 'arbitrary', name: 'purged', payload: 'x' } }, as);
      await client.send('secrets.lock.create', { instanceGuid, secretId: secret.id, locks: [{ name: 'app' }] }, as);
      await client.send('secrets.instance.purge', { instanceGuid });
      await failure(client.send('secrets.lock.list-all', { instanceGuid, path: '/p', query: {} }, as), 'NOT_FOUND');
      // Activated again under the same GUID, it starts without locks.
      await activateInstance(app.get(InstanceRegistry), as.caller.accountId, instanceGuid);
      expect((await client.send('secrets.lock.list-all', { instanceGuid, path: '/p', query: {} }, as)).total_count).toBe(0);
    });
  });
}
