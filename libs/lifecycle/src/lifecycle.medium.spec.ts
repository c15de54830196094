/**
 * The lifecycle service's RPC handlers on the in-process transport (schema validation, caller
 * header, error serialization as in production) with a recording double of the resources port, on
 * SQLite and PostgreSQL. A second module on the same database plays the restarted process.
 */
import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { CloudEvent, ErrorCode, LifecycleWire } from '@sealbox/contracts';
import { DomainError, InProcessBus, InProcessClient, InProcessEventBus, InProcessServer, ManualClock, RpcClient, type Caller, type DatabaseConfig } from '@sealbox/platform';
import { testDatabases, testPlatformModule } from '@sealbox/platform/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LifecycleModule } from './lifecycle.module.js';
import { InstanceResources } from './ports.js';
import { SagaRunner } from './services/saga-runner.js';
import { LifecycleScheduler } from './services/scheduler.js';
import { RecordingResources } from './testing/recording-resources.js';

const DAY = 86_400_000;
const LEASE_MS = 60_000;

async function failure(promise: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

interface Running {
  app: INestMicroservice;
  client: RpcClient;
  resources: RecordingResources;
  sagas: SagaRunner;
  scheduler: LifecycleScheduler;
}

async function start(database: DatabaseConfig, clock: ManualClock, events: InProcessEventBus): Promise<Running> {
  const resources = new RecordingResources();
  const rpc = new InProcessBus();
  const moduleRef = await Test.createTestingModule({
    imports: [
      testPlatformModule({ events, clock, clientProxy: new InProcessClient(rpc), rpcTimeoutMs: 10_000 }),
      LifecycleModule.register({ database, lifecycle: { schedulerIntervalMs: 0, sagaLeaseMs: LEASE_MS, sweepBatchSize: 2 } }),
    ],
  })
    .overrideProvider(InstanceResources)
    .useValue(resources)
    .compile();
  const app = moduleRef.createNestMicroservice({ strategy: new InProcessServer(rpc), logger: false });
  await app.listen();
  return { app, client: app.get(RpcClient), resources, sagas: app.get(SagaRunner), scheduler: app.get(LifecycleScheduler) };
}

for (const database of testDatabases) {
  describe(`Lifecycle service (${database.name})`, () => {
    let cleanup: () => Promise<void>;
    let config: DatabaseConfig;
    let running: Running;
    const clock = new ManualClock();
    const events: CloudEvent[] = [];
    const bus = new InProcessEventBus();
    bus.subscribe('events.lifecycle.>', (_subject, event) => {
      events.push(event);
    });

    const client = () => running.client;
    const resources = () => running.resources;
    const newCaller = (): Caller => ({ accountId: randomUUID().replaceAll('-', ''), iamId: `IBMid-${randomUUID()}`, subType: 'user' });
    const eventsOf = (guid: string) =>
      events.filter((event) => (event.data as { instanceId?: string }).instanceId === guid).map((event) => event.type.replace('com.sealbox.', ''));

    /** A kms instance with an active root key in `region`, authorized for the account's Secrets Manager instances. */
    function rootKey(caller: Caller, region = 'us-south', options: { authorized?: boolean; state?: number; extractable?: boolean } = {}) {
      const instanceId = randomUUID();
      const keyId = randomUUID();
      resources().addKey({ accountId: caller.accountId, instanceId, keyId }, { service: 'kms', region, state: options.state ?? 1, extractable: options.extractable ?? false });
      if (options.authorized ?? true) resources().authorized.add(instanceId);
      return { instanceId, keyId, crn: `crn:v1:sealbox:public:kms:${region}:a/${caller.accountId}:${instanceId}:key:${keyId}` };
    }

    const body = (overrides: Partial<LifecycleWire.CreateResourceInstanceBody> = {}): LifecycleWire.CreateResourceInstanceBody => ({
      name: 'my-secrets',
      target: 'us-south',
      resource_group: 'default',
      resource_plan_id: 'secrets-manager-standard',
      ...overrides,
    });

    const create = (caller: Caller, overrides: Partial<LifecycleWire.CreateResourceInstanceBody> = {}) =>
      client().send('lifecycle.instance.create', { body: body(overrides) }, { caller });

    async function secretsInstance(caller: Caller, plan = 'secrets-manager-standard', parameters: Record<string, unknown> = {}) {
      const key = rootKey(caller);
      const instance = await create(caller, { resource_plan_id: plan, parameters: { kms_key: key.crn, ...parameters } });
      expect(instance.state).toBe('active');
      return { instance, key };
    }

    const get = (caller: Caller, id: string) => client().send('lifecycle.instance.get', { id }, { caller });
    const reclamationOf = async (caller: Caller, guid: string) => {
      const list = await client().send('lifecycle.reclamation.list', { query: { resource_instance_id: guid } }, { caller });
      return list.resources.at(-1) as LifecycleWire.Reclamation;
    };
    const act = (caller: Caller, id: string, action: LifecycleWire.ReclamationAction) =>
      client().send('lifecycle.reclamation.action', { id, action, body: {} }, { caller });

    beforeAll(async () => {
      const opened = await database.open();
      cleanup = opened.cleanup;
      config = opened.config;
      running = await start(config, clock, bus);
    });
    afterAll(async () => {
      await running?.app.close();
      await cleanup?.();
    });

    describe('provisioning', () => {
      it('creates a Secrets Manager instance with a customer key: bucket, registration, activation, in order; CRN id; readable by GUID and CRN', async () => {
        const caller = newCaller();
        const { instance, key } = await secretsInstance(caller);
        expect(instance.crn).toBe(`crn:v1:sealbox:public:secrets-manager:us-south:a/${caller.accountId}:${instance.guid}::`);
        expect(instance).toMatchObject({
          id: instance.crn,
          account_id: caller.accountId,
          resource_id: 'secrets-manager',
          resource_plan_id: 'secrets-manager-standard',
          region_id: 'us-south',
          type: 'service_instance',
          locked: false,
          last_operation: { type: 'create', state: 'succeeded' },
          plan_history: [{ resource_plan_id: 'secrets-manager-standard' }],
        });
        expect(resources().callsFor(instance.guid)).toEqual(['createBucket', 'createRegistration', 'activateSecrets']);
        expect(resources().registrations).toContain(`${key.instanceId}/${key.keyId} ${instance.crn}`);
        expect(await get(caller, instance.guid)).toEqual(instance);
        expect(await get(caller, instance.crn)).toEqual(instance);
        await failure(get(newCaller(), instance.guid), 'NOT_FOUND');
        await expect.poll(() => eventsOf(instance.guid)).toEqual(['lifecycle.instance.created']);
      });

      it('refuses bad input with a 4xx code: plan, region, kms_key shape, account, region, key state, key type, authorization, parameters, caller', async () => {
        const caller = newCaller();
        const fieldOf = async (promise: Promise<unknown>) => (await failure(promise, 'VALIDATION_FAILED')).fields?.map((issue) => issue.field);
        expect(await fieldOf(create(caller, { resource_plan_id: 'gold' }))).toEqual(['resource_plan_id']);
        expect(await fieldOf(create(caller, { target: 'mars-north' }))).toEqual(['target']);
        expect(await fieldOf(create(caller, { parameters: { kms_key: 'not-a-crn' } }))).toEqual(['parameters.kms_key']);
        expect(await fieldOf(create(caller, { parameters: { kms_key: 42 } }))).toEqual(['parameters.kms_key']);
        expect(await fieldOf(create(caller, { parameters: { kms_key: `crn:v1:sealbox:public:kms:us-south:a/${caller.accountId}:${randomUUID()}:key:${randomUUID()}` } }))).toEqual([
          'parameters.kms_key',
        ]);
        expect(await fieldOf(create(caller, { parameters: { purge_protection: 'yes' } }))).toEqual(['parameters.purge_protection']);

        const foreign = rootKey(newCaller());
        expect((await failure(create(caller, { parameters: { kms_key: foreign.crn } }), 'FORBIDDEN')).message).toMatch(/another account/);

        const european = rootKey(caller, 'eu-de');
        const regions = await failure(create(caller, { parameters: { kms_key: european.crn } }), 'VALIDATION_FAILED');
        expect(regions.message).toMatch(/eu-de/);
        expect(regions.message).toMatch(/us-south/);

        await failure(create(caller, { parameters: { kms_key: rootKey(caller, 'us-south', { state: 2 }).crn } }), 'KEY_NOT_ACTIVE');
        await failure(create(caller, { parameters: { kms_key: rootKey(caller, 'us-south', { extractable: true }).crn } }), 'KEY_ROOT_REQ_ERR');

        const unauthorized = rootKey(caller, 'us-south', { authorized: false });
        const missing = await failure(create(caller, { parameters: { kms_key: unauthorized.crn } }), 'FORBIDDEN');
        expect(missing.message).toMatch(/authorization/);
        expect(missing.message).toContain(unauthorized.instanceId);
        expect(missing.message).toMatch(/Reader/);

        await failure(client().send('lifecycle.instance.create', { body: body() }), 'UNAUTHORIZED');
        await failure(client().send('lifecycle.instance.create', { body: { ...body(), name: '' } }, { caller }), 'VALIDATION_FAILED');
        // Nothing was made for any of them.
        expect(resources().calls.filter((call) => call.startsWith('createBucket') && call.includes(caller.accountId))).toEqual([]);
        const listed = await client().send('lifecycle.instance.list', { path: '/v2/resource_instances', query: { limit: 100 } }, { caller });
        expect(listed.rows_count).toBe(0);
      });

      it('rolls back a failed provisioning in reverse order and leaves the instance failed', async () => {
        const caller = newCaller();
        const key = rootKey(caller);
        resources().failOn('activateSecrets', () => new DomainError('SERVICE_UNAVAILABLE', 'secrets did not answer'));
        try {
          const instance = await create(caller, { parameters: { kms_key: key.crn } });
          expect(instance.state).toBe('failed');
          expect(instance.last_operation).toMatchObject({ type: 'create', state: 'failed' });
          expect(instance.last_operation?.description).toMatch(/activate the instance.*SERVICE_UNAVAILABLE.*rolled back/);
          expect(resources().callsFor(instance.guid)).toEqual(['createBucket', 'createRegistration', 'activateSecrets', 'purgeSecrets', 'deleteRegistration', 'removeBucket']);
          expect(resources().buckets.has(instance.guid)).toBe(false);
          expect([...resources().registrations].some((entry) => entry.endsWith(instance.crn))).toBe(false);
          await expect.poll(() => eventsOf(instance.guid)).toEqual(['lifecycle.saga.step-failed', 'lifecycle.instance.created']);
        } finally {
          resources().heal('activateSecrets');
        }
      });

      it('uses the provider root key of the region when there is no kms_key, made once, with no registration', async () => {
        const caller = newCaller();
        const before = resources().providerKeys.length;
        const first = await create(caller, { target: 'eu-de' });
        const second = await create(caller, { target: 'eu-de' });
        expect([first.state, second.state]).toEqual(['active', 'active']);
        expect(resources().providerKeys.length - before).toBeLessThanOrEqual(1);
        expect(resources().callsFor(first.guid)).toEqual(['createBucket', 'activateSecrets']);
      });

      it('creates kms instances in kms and refuses to delete one that still has keys (CONFLICT)', async () => {
        const caller = newCaller();
        const kms = await create(caller, { resource_plan_id: 'kms-standard', name: 'keys' });
        expect(kms).toMatchObject({ state: 'active', resource_id: 'kms' });
        expect(resources().callsFor(kms.guid)).toEqual(['createKmsInstance']);
        await failure(create(caller, { resource_plan_id: 'kms-standard', parameters: { kms_key: 'x' } }), 'VALIDATION_FAILED');
        (resources().kmsInstances.get(kms.guid) as { keys: number }).keys = 1;
        await failure(client().send('lifecycle.instance.delete', { id: kms.guid }, { caller }), 'CONFLICT');
        expect((await get(caller, kms.guid)).state).toBe('active');
        (resources().kmsInstances.get(kms.guid) as { keys: number }).keys = 0;
        await client().send('lifecycle.instance.delete', { id: kms.crn }, { caller });
        expect((await get(caller, kms.guid)).state).toBe('removed');
        await failure(client().send('lifecycle.instance.delete', { id: kms.guid }, { caller }), 'GONE');
      });
    });

    describe('list, update, lock', () => {
      it('pages with next_url (null on the last page) and filters', async () => {
        const caller = newCaller();
        const made = [];
        for (const name of ['a', 'b', 'c']) {
          made.push(await create(caller, { name }));
          clock.advance(1);
        }
        const path = '/v2/resource_instances';
        const first = await client().send('lifecycle.instance.list', { path, query: { limit: 2 } }, { caller });
        expect(first.rows_count).toBe(2);
        expect(first.resources.map((item) => item.name)).toEqual(['a', 'b']);
        expect(first.next_url).toMatch(/^\/v2\/resource_instances\?start=[A-Za-z0-9_-]+&limit=2$/);
        const start = new URL(first.next_url as string, 'http://x').searchParams.get('start') as string;
        const second = await client().send('lifecycle.instance.list', { path, query: { limit: 2, start } }, { caller });
        expect(second.resources.map((item) => item.name)).toEqual(['c']);
        expect(second.next_url).toBeNull();
        const byName = await client().send('lifecycle.instance.list', { path, query: { limit: 100, name: 'b' } }, { caller });
        expect(byName.resources.map((item) => item.guid)).toEqual([made[1]?.guid]);
        const kmsOnly = await client().send('lifecycle.instance.list', { path, query: { limit: 100, resource_id: 'kms' } }, { caller });
        expect(kmsOnly.rows_count).toBe(0);
        const bad = await failure(client().send('lifecycle.instance.list', { path, query: { limit: 2, start: 'bm90LWEtY3Vyc29y' } }, { caller }), 'VALIDATION_FAILED');
        expect(bad.fields?.map((issue) => issue.field)).toEqual(['start']);
        await failure(client().send('lifecycle.instance.list', { path, query: { limit: 0 } }, { caller }), 'VALIDATION_FAILED');
      });

      it('updates name, parameters and plan (same service only), and a locked instance refuses update and delete with INSTANCE_LOCKED', async () => {
        const caller = newCaller();
        const { instance } = await secretsInstance(caller);
        const renamed = await client().send('lifecycle.instance.update', { id: instance.guid, body: { name: 'renamed', resource_plan_id: 'secrets-manager-trial', parameters: { purge_protection: true } } }, { caller });
        expect(renamed).toMatchObject({ name: 'renamed', resource_plan_id: 'secrets-manager-trial', parameters: { purge_protection: true } });
        expect(renamed.plan_history.map((item) => item.resource_plan_id)).toEqual(['secrets-manager-standard', 'secrets-manager-trial']);
        // The secrets service learns the new plan (its quotas follow it) before the change is saved.
        expect(resources().callsFor(instance.guid)).toContain('setSecretsPlan');
        const plan = await failure(client().send('lifecycle.instance.update', { id: instance.guid, body: { resource_plan_id: 'kms-standard' } }, { caller }), 'VALIDATION_FAILED');
        expect(plan.fields?.map((issue) => issue.field)).toEqual(['resource_plan_id']);
        await failure(client().send('lifecycle.instance.update', { id: instance.guid, body: { resource_plan_id: 'nope' } }, { caller }), 'VALIDATION_FAILED');
        await failure(client().send('lifecycle.instance.update', { id: instance.guid, body: { parameters: { kms_key: 'crn:other' } } }, { caller }), 'VALIDATION_FAILED');
        await failure(client().send('lifecycle.instance.update', { id: randomUUID(), body: { name: 'x' } }, { caller }), 'NOT_FOUND');

        expect((await client().send('lifecycle.instance.lock', { id: instance.guid }, { caller })).locked).toBe(true);
        await failure(client().send('lifecycle.instance.update', { id: instance.guid, body: { name: 'x' } }, { caller }), 'INSTANCE_LOCKED');
        await failure(client().send('lifecycle.instance.delete', { id: instance.guid }, { caller }), 'INSTANCE_LOCKED');
        expect((await client().send('lifecycle.instance.unlock', { id: instance.crn }, { caller })).locked).toBe(false);
        await expect.poll(() => eventsOf(instance.guid)).toEqual(['lifecycle.instance.created', 'lifecycle.instance.updated', 'lifecycle.instance.updated', 'lifecycle.instance.updated']);
      });
    });

    describe('deletion and reclamation', () => {
      it('delete → pending_reclamation (disabled, SCHEDULED in 7 days) → restore → active → delete → reclaim → removed; wrong actions 409/410', async () => {
        const caller = newCaller();
        const { instance, key } = await secretsInstance(caller);
        await client().send('lifecycle.instance.delete', { id: instance.guid }, { caller });
        const pending = await get(caller, instance.guid);
        expect(pending).toMatchObject({ state: 'pending_reclamation', last_operation: { type: 'reclamation', sub_type: 'pending' } });
        expect(resources().secrets.get(instance.guid)).toBe('disabled');
        const scheduled = await reclamationOf(caller, instance.guid);
        expect(scheduled).toMatchObject({ state: 'SCHEDULED', resource_instance_id: instance.guid, entity_crn: instance.crn, account_id: caller.accountId });
        expect(Date.parse(scheduled.target_time)).toBe(clock.nowMs() + 7 * DAY);
        await failure(client().send('lifecycle.instance.delete', { id: instance.guid }, { caller }), 'CONFLICT');
        await failure(client().send('lifecycle.instance.update', { id: instance.guid, body: { name: 'x' } }, { caller }), 'INSTANCE_NOT_ACTIVE');
        await failure(act(newCaller(), scheduled.id, 'restore'), 'NOT_FOUND');
        await failure(client().send('lifecycle.reclamation.list', { query: { account_id: 'someone-else' } }, { caller }), 'FORBIDDEN');

        expect((await act(caller, scheduled.id, 'restore')).state).toBe('RESTORED');
        expect(await get(caller, instance.guid)).toMatchObject({ state: 'active', last_operation: { sub_type: 'restore' } });
        expect(resources().secrets.get(instance.guid)).toBe('active');
        await failure(act(caller, scheduled.id, 'restore'), 'CONFLICT');
        await failure(act(caller, scheduled.id, 'reclaim'), 'CONFLICT');

        clock.advance(1000);
        await client().send('lifecycle.instance.delete', { id: instance.crn }, { caller });
        const second = await reclamationOf(caller, instance.guid);
        expect(second.id).not.toBe(scheduled.id);
        const reclaiming = await act(caller, second.id, 'reclaim');
        expect(reclaiming.state).toBe('RECLAIMING');
        await running.sagas.idle();
        expect(await get(caller, instance.guid)).toMatchObject({ state: 'removed', last_operation: { type: 'reclamation', sub_type: 'delete', state: 'succeeded' } });
        expect((await reclamationOf(caller, instance.guid)).state).toBe('RECLAIMED');
        expect(resources().callsFor(instance.guid).slice(-4)).toEqual(['purgeSecrets', 'removeBucket', 'deleteRegistration', 'deleteInstancePolicies']);
        expect(resources().secrets.has(instance.guid)).toBe(false);
        expect(resources().buckets.has(instance.guid)).toBe(false);
        expect([...resources().registrations].some((entry) => entry.startsWith(`${key.instanceId}/`))).toBe(false);
        await failure(act(caller, second.id, 'reclaim'), 'GONE');
        await failure(act(caller, second.id, 'restore'), 'CONFLICT');
        await failure(client().send('lifecycle.instance.delete', { id: instance.guid }, { caller }), 'GONE');
        await failure(client().send('lifecycle.instance.lock', { id: instance.guid }, { caller }), 'GONE');
        await expect
          .poll(() => eventsOf(instance.guid))
          .toEqual(['lifecycle.instance.created', 'lifecycle.instance.deleted', 'lifecycle.instance.restored', 'lifecycle.instance.deleted', 'lifecycle.instance.reclaimed']);
        const reclaimed = events.find((event) => event.type.endsWith('lifecycle.instance.reclaimed') && (event.data as { instanceId: string }).instanceId === instance.guid);
        expect(reclaimed?.data).toMatchObject({ reclamationId: second.id, outcome: 'succeeded' });
      });

      it('the scheduler reclaims a due reclamation when the clock passes its target time, not before', async () => {
        const caller = newCaller();
        const { instance } = await secretsInstance(caller);
        await client().send('lifecycle.instance.delete', { id: instance.guid }, { caller });
        clock.advance(7 * DAY - 1);
        await running.scheduler.runDue(clock.nowMs());
        expect((await get(caller, instance.guid)).state).toBe('pending_reclamation');
        clock.advance(1);
        const run = await running.scheduler.runDue(clock.nowMs());
        expect(run.reclaimed).toBeGreaterThanOrEqual(1);
        expect((await get(caller, instance.guid)).state).toBe('removed');
        expect((await reclamationOf(caller, instance.guid)).state).toBe('RECLAIMED');
      });

      it('purge protection refuses reclaim before the target time (FORBIDDEN with the time), then allows it', async () => {
        const caller = newCaller();
        const { instance } = await secretsInstance(caller, 'secrets-manager-standard', { purge_protection: true });
        await client().send('lifecycle.instance.delete', { id: instance.guid }, { caller });
        const reclamation = await reclamationOf(caller, instance.guid);
        const refused = await failure(act(caller, reclamation.id, 'reclaim'), 'FORBIDDEN');
        expect(refused.message).toContain(reclamation.target_time);
        expect((await reclamationOf(caller, instance.guid)).state).toBe('SCHEDULED');
        clock.advance(7 * DAY);
        expect((await act(caller, reclamation.id, 'reclaim')).state).toBe('RECLAIMING');
        await running.sagas.idle();
        expect((await get(caller, instance.guid)).state).toBe('removed');
      });

      it('a plan without reclamation deletes at once; a missing authorization blocks the saga at the registration until it exists again', async () => {
        const caller = newCaller();
        const { instance, key } = await secretsInstance(caller, 'secrets-manager-trial');
        resources().authorized.delete(key.instanceId);
        await client().send('lifecycle.instance.delete', { id: instance.guid }, { caller });
        await running.sagas.idle();
        const blocked = await get(caller, instance.guid);
        expect(blocked.state).toBe('pending_removal');
        expect(blocked.last_operation).toMatchObject({ type: 'delete', state: 'in progress' });
        expect(blocked.last_operation?.description).toMatch(/blocked at step 3 of 4.*authorization/);
        expect(resources().buckets.has(instance.guid)).toBe(false);
        await running.scheduler.runDue(clock.nowMs());
        expect((await get(caller, instance.guid)).state).toBe('pending_removal');
        await expect
          .poll(() => eventsOf(instance.guid))
          .toEqual(['lifecycle.instance.created', 'lifecycle.instance.deleted', 'lifecycle.saga.step-failed']);
        const stepFailed = events.find((event) => event.type.endsWith('saga.step-failed') && (event.data as { instanceId: string }).instanceId === instance.guid);
        expect(stepFailed?.data).toMatchObject({ saga: 'delete', step: 'delete_registration' });

        resources().authorized.add(key.instanceId);
        await running.scheduler.runDue(clock.nowMs());
        expect(await get(caller, instance.guid)).toMatchObject({ state: 'removed', last_operation: { type: 'delete', state: 'succeeded' } });
        expect(resources().callsFor(instance.guid).filter((call) => call === 'deleteInstancePolicies')).toHaveLength(1);
      });

      it('a process killed in the middle of a permanent delete: the restarted one resumes at the recorded step and finishes', async () => {
        const caller = newCaller();
        const { instance } = await secretsInstance(caller);
        await client().send('lifecycle.instance.delete', { id: instance.guid }, { caller });
        const reclamation = await reclamationOf(caller, instance.guid);
        resources().killOn('removeBucket');
        await act(caller, reclamation.id, 'reclaim');
        await expect.poll(() => resources().callsFor(instance.guid).at(-1)).toBe('removeBucket');
        const dying = running;
        // The old process is gone (its saga hangs forever); a new one starts on the same database.
        running = await start(config, clock, bus);
        for (const instanceId of dying.resources.authorized) running.resources.authorized.add(instanceId);
        await dying.app.close();
        const before = await get(caller, instance.guid);
        expect(before.state).toBe('pending_removal');
        expect(before.last_operation?.description).toMatch(/step 2 of 4, remove the bucket/);
        // Within the dead replica's lease nobody takes over; after it, the scheduler does.
        expect((await running.scheduler.runDue(clock.nowMs())).resumed).toBe(0);
        clock.advance(LEASE_MS);
        expect((await running.scheduler.runDue(clock.nowMs())).resumed).toBeGreaterThanOrEqual(1);
        expect(running.resources.callsFor(instance.guid)).toEqual(['removeBucket', 'deleteRegistration', 'deleteInstancePolicies']);
        expect((await get(caller, instance.guid)).state).toBe('removed');
        expect((await reclamationOf(caller, instance.guid)).state).toBe('RECLAIMED');
      });
    });

    describe('plans', () => {
      it('lists the catalog; retiring a plan sends its instances to reclamation (plan_retired); restored ones must change plan within the grace period', async () => {
        const caller = newCaller();
        running.resources.authorized.clear();
        const plans = await client().send('lifecycle.plan.list', {});
        expect(plans.plans.map((plan) => plan.id)).toEqual(['secrets-manager-trial', 'secrets-manager-standard', 'kms-standard', 'hs-crypto-standard']);
        expect(plans.plans.find((plan) => plan.id === 'secrets-manager-standard')).toMatchObject({ reclamation: true, retentionSeconds: 7 * 86_400, retired: false });

        const kept = await create(caller, { resource_plan_id: 'secrets-manager-trial', name: 'kept' });
        const lapsed = await create(caller, { resource_plan_id: 'secrets-manager-trial', name: 'lapsed' });
        await failure(client().send('lifecycle.plan.retire', { planId: 'kms-standard' }), 'VALIDATION_FAILED');
        await failure(client().send('lifecycle.plan.retire', { planId: 'platinum' }), 'VALIDATION_FAILED');
        const retired = await client().send('lifecycle.plan.retire', { planId: 'secrets-manager-trial' });
        expect(retired.instances).toBeGreaterThanOrEqual(2);
        for (const instance of [kept, lapsed]) {
          expect((await get(caller, instance.guid)).state).toBe('pending_reclamation');
          const reclamation = await reclamationOf(caller, instance.guid);
          expect(reclamation.custom_properties).toMatchObject({ reason: 'plan_retired' });
          await act(caller, reclamation.id, 'restore');
        }
        const retiredField = await failure(create(caller, { resource_plan_id: 'secrets-manager-trial' }), 'VALIDATION_FAILED');
        expect(retiredField.message).toMatch(/retired/);
        await client().send('lifecycle.instance.update', { id: kept.guid, body: { resource_plan_id: 'secrets-manager-standard' } }, { caller });

        clock.advance(3_600_000 - 1);
        expect((await running.scheduler.runDue(clock.nowMs())).planChangesMissed).toBe(0);
        clock.advance(1);
        expect((await running.scheduler.runDue(clock.nowMs())).planChangesMissed).toBe(1);
        expect((await get(caller, lapsed.guid)).state).toBe('pending_reclamation');
        expect((await get(caller, kept.guid)).state).toBe('active');
        expect((await client().send('lifecycle.plan.list', {})).plans.find((plan) => plan.id === 'secrets-manager-trial')?.retired).toBe(true);
        await expect.poll(() => events.some((event) => event.type.endsWith('lifecycle.plan.retired'))).toBe(true);
      });
    });
  });
}
