/**
 * The Resource Controller surface: /v2/resource_instances, /v1/reclamations and the /v1/plans
 * extension. Every route reaches its `lifecycle.*` subject with the body, query and path as the
 * subject wants them plus the caller, answers the status the ResourceControllerV2 SDK expects, asks
 * IAM about the right action and resource, and refuses bad input at the edge naming the field as
 * the client wrote it. The last test drives the routes with the official SDK client, unchanged.
 */
import 'reflect-metadata';
import ResourceControllerV2 from '@ibm-cloud/platform-services/resource-controller/v2.js';
import { Controller } from '@nestjs/common';
import type { LifecycleWire, ResponseOf, Subject, ValidatedRequestOf } from '@sealbox/contracts';
import { conflict, notFound, RpcHandler, startTracing, type Caller, type RpcMeta, type TracingHandle } from '@sealbox/platform';
import { BearerTokenAuthenticator } from 'ibm-cloud-sdk-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectIbmError, send, type TestResponse } from '../testing/http-client.js';
import { startTestGateway, TEST_CALLER, type TestGateway } from '../testing/test-gateway.js';
import { instanceGuidOf } from './resource-controller.routes.js';

const AT = '2026-11-29T02:00:00.000Z';
const LATER = '2026-12-06T02:00:00.000Z';
const GUIDS = ['0b5d5f4e-6a0c-4d2e-9e51-3a0a3c8b7d11', '5e7c1a2b-3d4e-4f50-8a61-7b8c9d0e1f23', '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d'] as const;
const NEW_GUID = 'f1bc94a6-64aa-4c55-b00f-f6cd70e4b2ce';
const GUID = GUIDS[0];
const RECLAMATION = 'b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e';
const crnOf = (guid: string) => `crn:v1:sealbox:public:secrets-manager:us-south:a/${TEST_CALLER.accountId}:${guid}::`;
const CRN = crnOf(GUID);

interface Received {
  readonly subject: Subject;
  readonly request: unknown;
  readonly caller: Caller | undefined;
}

const received: Received[] = [];
const store = new Map<string, LifecycleWire.ResourceInstance>();

function instance(guid: string, name: string, changes: Partial<LifecycleWire.ResourceInstance> = {}): LifecycleWire.ResourceInstance {
  const crn = crnOf(guid);
  return {
    id: crn,
    guid,
    crn,
    url: `/v2/resource_instances/${guid}`,
    name,
    region_id: 'us-south',
    account_id: TEST_CALLER.accountId,
    resource_plan_id: 'secrets-manager-standard',
    resource_group_id: 'rg-1',
    resource_id: 'secrets-manager',
    type: 'service_instance',
    state: 'active',
    locked: false,
    allow_cleanup: false,
    created_at: AT,
    created_by: TEST_CALLER.iamId,
    updated_at: AT,
    plan_history: [{ resource_plan_id: 'secrets-manager-standard', start_date: AT }],
    last_operation: { type: 'create', state: 'succeeded', async: false, cancelable: false, poll: false },
    ...changes,
  };
}

const reclamation = (state: LifecycleWire.ReclamationState): LifecycleWire.Reclamation => ({
  id: RECLAMATION,
  entity_id: GUID,
  entity_type_id: 'service_instance',
  entity_crn: CRN,
  resource_instance_id: GUID,
  resource_group_id: 'rg-1',
  account_id: TEST_CALLER.accountId,
  policy_id: 'secrets-manager-standard',
  state,
  target_time: LATER,
  created_at: AT,
  created_by: TEST_CALLER.iamId,
  updated_at: AT,
  updated_by: TEST_CALLER.iamId,
});

const PLANS: LifecycleWire.Plan[] = [
  { id: 'secrets-manager-standard', name: 'Standard', service: 'secrets-manager', reclamation: true, retentionSeconds: 604_800, retired: false },
];

function stored(id: string): LifecycleWire.ResourceInstance {
  const found = store.get(instanceGuidOf(id));
  if (!found || (id !== found.guid && id !== found.crn)) throw notFound(`Resource instance ${id}`);
  return found;
}

/** A lifecycle service over an in-memory store, remembering what it received. */
@Controller()
class FakeLifecycle {
  private note(subject: Subject, request: unknown, meta: RpcMeta): void {
    received.push({ subject, request, caller: meta.caller });
  }

  @RpcHandler('lifecycle.instance.create')
  async create(request: ValidatedRequestOf<'lifecycle.instance.create'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.create'>> {
    this.note('lifecycle.instance.create', request, meta);
    const created = instance(NEW_GUID, request.body.name, {
      resource_plan_id: request.body.resource_plan_id,
      resource_group_id: request.body.resource_group,
      locked: request.entityLock === true,
    });
    store.set(NEW_GUID, created);
    return created;
  }

  @RpcHandler('lifecycle.instance.list')
  async list(request: ValidatedRequestOf<'lifecycle.instance.list'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.list'>> {
    this.note('lifecycle.instance.list', request, meta);
    const all = [...store.values()].sort((a, b) => a.guid.localeCompare(b.guid));
    const offset = Number(request.query.start ?? '0');
    const page = all.slice(offset, offset + request.query.limit);
    const next = offset + page.length;
    return {
      rows_count: page.length,
      next_url: next < all.length ? `${request.path}?limit=${request.query.limit}&start=${next}` : null,
      resources: page,
    };
  }

  @RpcHandler('lifecycle.instance.get')
  async get(request: ValidatedRequestOf<'lifecycle.instance.get'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.get'>> {
    this.note('lifecycle.instance.get', request, meta);
    return stored(request.id);
  }

  @RpcHandler('lifecycle.instance.update')
  async update(request: ValidatedRequestOf<'lifecycle.instance.update'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.update'>> {
    this.note('lifecycle.instance.update', request, meta);
    const current = stored(request.id);
    const updated = { ...current, ...(request.body.name === undefined ? {} : { name: request.body.name }), updated_at: LATER };
    store.set(current.guid, updated);
    return updated;
  }

  @RpcHandler('lifecycle.instance.delete')
  async delete(request: ValidatedRequestOf<'lifecycle.instance.delete'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.delete'>> {
    this.note('lifecycle.instance.delete', request, meta);
    const current = stored(request.id);
    if (current.state === 'pending_reclamation') throw conflict('The instance is already deleted');
    store.set(current.guid, { ...current, state: 'pending_reclamation' });
    return {};
  }

  @RpcHandler('lifecycle.instance.lock')
  async lock(request: ValidatedRequestOf<'lifecycle.instance.lock'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.lock'>> {
    this.note('lifecycle.instance.lock', request, meta);
    const locked = { ...stored(request.id), locked: true };
    store.set(locked.guid, locked);
    return locked;
  }

  @RpcHandler('lifecycle.instance.unlock')
  async unlock(request: ValidatedRequestOf<'lifecycle.instance.unlock'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.unlock'>> {
    this.note('lifecycle.instance.unlock', request, meta);
    const unlocked = { ...stored(request.id), locked: false };
    store.set(unlocked.guid, unlocked);
    return unlocked;
  }

  @RpcHandler('lifecycle.reclamation.list')
  async reclamations(request: ValidatedRequestOf<'lifecycle.reclamation.list'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.reclamation.list'>> {
    this.note('lifecycle.reclamation.list', request, meta);
    return { resources: [reclamation('SCHEDULED')] };
  }

  @RpcHandler('lifecycle.reclamation.action')
  async action(request: ValidatedRequestOf<'lifecycle.reclamation.action'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.reclamation.action'>> {
    this.note('lifecycle.reclamation.action', request, meta);
    if (request.id !== RECLAMATION) throw notFound(`Reclamation ${request.id}`);
    return reclamation(request.action === 'restore' ? 'RESTORING' : 'RECLAIMING');
  }

  @RpcHandler('lifecycle.plan.list')
  async plans(request: ValidatedRequestOf<'lifecycle.plan.list'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.plan.list'>> {
    this.note('lifecycle.plan.list', request, meta);
    return { plans: PLANS };
  }
}

const callerOf = (entry: Received | undefined) => ({ iamId: entry?.caller?.iamId, accountId: entry?.caller?.accountId });
const ACCOUNT_RC = { accountId: TEST_CALLER.accountId, serviceName: 'resource-controller' };
const ON_INSTANCE = { ...ACCOUNT_RC, serviceInstance: GUID };

interface ErrorTarget {
  readonly errors: readonly { readonly code: string; readonly target?: { readonly type: string; readonly name: string } }[];
}
/** The fields a 400 VALIDATION_FAILED names. */
const fieldsOf = (response: TestResponse): string[] => {
  expectIbmError(response, 400, 'VALIDATION_FAILED');
  return response.json<ErrorTarget>().errors.map((error) => error.target?.name ?? '');
};

const CREATE = { name: 'sm-1', target: 'us-south', resource_group: 'rg-1', resource_plan_id: 'secrets-manager-standard' };

describe('Resource Controller routes', () => {
  let gateway: TestGateway;
  let denied: TestGateway;
  let tracing: TracingHandle;

  const call = async (
    target: TestGateway,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<TestResponse> =>
    send(target.url, {
      method,
      path,
      headers: { ...await target.auth(), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  const actions = () => gateway.authorizations.map((a) => ({ action: a.action, resource: a.resource }));

  beforeAll(async () => {
    tracing = startTracing('gateway-rc-test', { exporter: 'none' });
    gateway = await startTestGateway({ controllers: [FakeLifecycle] });
    denied = await startTestGateway({ controllers: [FakeLifecycle], authorize: () => ({ allowed: false }) });
  });

  afterAll(async () => {
    await gateway.close();
    await denied.close();
    await tracing.shutdown();
  });

  beforeEach(() => {
    received.length = 0;
    gateway.authorizations.length = 0;
    store.clear();
    GUIDS.forEach((guid, i) => store.set(guid, instance(guid, `instance-${i}`)));
  });

  describe('instances', () => {
    it('creates: 201 with the instance, the body forwarded with the caller, checked as instance.create on the account', async () => {
      const response = await call(gateway, 'POST', '/v2/resource_instances', { ...CREATE, tags: ['a'], parameters: { kms_key: 'crn:v1:x' } });
      expect(response.status).toBe(201);
      expect(response.json<LifecycleWire.ResourceInstance>()).toMatchObject({ guid: NEW_GUID, name: 'sm-1', state: 'active', locked: false });
      expect(received).toEqual([
        { subject: 'lifecycle.instance.create', request: { body: { ...CREATE, tags: ['a'], parameters: { kms_key: 'crn:v1:x' } } }, caller: expect.anything() },
      ]);
      expect(callerOf(received[0])).toEqual(TEST_CALLER);
      expect(actions()).toEqual([{ action: 'resource-controller.instance.create', resource: ACCOUNT_RC }]);
    });

    it('creates locked with the Entity-Lock header (true/false as the SDK sends it)', async () => {
      expect((await call(gateway, 'POST', '/v2/resource_instances', CREATE, { 'entity-lock': 'true' })).json()).toMatchObject({ locked: true });
      expect((await call(gateway, 'POST', '/v2/resource_instances', CREATE, { 'entity-lock': 'false' })).status).toBe(201);
      expect(received.map((r) => r.request)).toEqual([
        { body: CREATE, entityLock: true },
        { body: CREATE, entityLock: false },
      ]);
    });

    it('refuses a bad create at the edge: 400 VALIDATION_FAILED naming the field as the client wrote it', async () => {
      const { resource_plan_id: _omitted, ...noPlan } = CREATE;
      expect(fieldsOf(await call(gateway, 'POST', '/v2/resource_instances', noPlan))).toEqual(['resource_plan_id']);
      expect(fieldsOf(await call(gateway, 'POST', '/v2/resource_instances', { ...CREATE, name: 42 }))).toEqual(['name']);
      expect(fieldsOf(await call(gateway, 'POST', '/v2/resource_instances', { ...CREATE, surprise: true }))).toEqual(['surprise']);
      expect(fieldsOf(await call(gateway, 'POST', '/v2/resource_instances', { ...CREATE, parameters: 'x' }))).toEqual(['parameters']);
      expect(fieldsOf(await call(gateway, 'POST', '/v2/resource_instances', CREATE, { 'entity-lock': 'maybe' }))).toEqual(['Entity-Lock']);
      expectIbmError(await call(gateway, 'POST', '/v2/resource_instances', '[1]'), 400, 'INVALID_BODY');
      expect(received).toEqual([]);
    });

    it('lists: 200 with the page, the query (defaults applied) and the path for next_url forwarded, checked as instance.list', async () => {
      const response = await call(gateway, 'GET', '/v2/resource_instances?resource_group_id=rg-1&limit=2&state=active&unknown=x');
      expect(response.status).toBe(200);
      const page = response.json<LifecycleWire.ResourceInstancesList>();
      expect(page.resources.map((r) => r.guid)).toEqual([GUIDS[0], GUIDS[1]]);
      expect(page.next_url).toBe('/v2/resource_instances?limit=2&start=2');
      expect(received[0]?.request).toEqual({ path: '/v2/resource_instances', query: { resource_group_id: 'rg-1', limit: 2, state: 'active' } });
      expect(callerOf(received[0])).toEqual(TEST_CALLER);
      expect((await call(gateway, 'GET', '/v2/resource_instances')).status).toBe(200);
      expect(received[1]?.request).toEqual({ path: '/v2/resource_instances', query: { limit: 100 } });
      expect(actions().map((a) => a.action)).toEqual(['resource-controller.instance.list', 'resource-controller.instance.list']);
      expect(actions()[0]?.resource).toEqual(ACCOUNT_RC);
    });

    it('refuses a bad list query: 400 naming the parameter', async () => {
      expect(fieldsOf(await call(gateway, 'GET', '/v2/resource_instances?limit=0'))).toEqual(['limit']);
      expect(fieldsOf(await call(gateway, 'GET', '/v2/resource_instances?limit=ten'))).toEqual(['limit']);
      expect(fieldsOf(await call(gateway, 'GET', '/v2/resource_instances?state=sleeping'))).toEqual(['state']);
      expect(fieldsOf(await call(gateway, 'GET', '/v2/resource_instances?updated_from=yesterday'))).toEqual(['updated_from']);
      expect(received).toEqual([]);
    });

    it('gets by GUID: 200, checked as instance.read on that instance', async () => {
      const response = await call(gateway, 'GET', `/v2/resource_instances/${GUID}`);
      expect(response.status).toBe(200);
      expect(response.json()).toEqual(store.get(GUID));
      expect(received[0]?.request).toEqual({ id: GUID });
      expect(callerOf(received[0])).toEqual(TEST_CALLER);
      expect(actions()).toEqual([{ action: 'resource-controller.instance.read', resource: ON_INSTANCE }]);
    });

    it('gets by percent-encoded CRN (its `/` as %2F): the decoded CRN forwarded, IAM asked about the instance GUID', async () => {
      expect(CRN).toContain('/');
      const response = await call(gateway, 'GET', `/v2/resource_instances/${encodeURIComponent(CRN)}`);
      expect(response.status).toBe(200);
      expect(response.json<LifecycleWire.ResourceInstance>().guid).toBe(GUID);
      expect(received[0]?.request).toEqual({ id: CRN });
      expect(actions()).toEqual([{ action: 'resource-controller.instance.read', resource: ON_INSTANCE }]);
    });

    it('answers an instance lifecycle does not know with 404 NOT_FOUND', async () => {
      expectIbmError(await call(gateway, 'GET', '/v2/resource_instances/11111111-2222-4333-8444-555555555555'), 404, 'NOT_FOUND');
    });

    it('updates: 200 with the instance, the body and id forwarded, checked as instance.update on the instance', async () => {
      const response = await call(gateway, 'PATCH', `/v2/resource_instances/${encodeURIComponent(CRN)}`, { name: 'renamed', resource_plan_id: 'p2' });
      expect(response.status).toBe(200);
      expect(response.json()).toMatchObject({ guid: GUID, name: 'renamed' });
      expect(received[0]?.request).toEqual({ id: CRN, body: { name: 'renamed', resource_plan_id: 'p2' } });
      expect(callerOf(received[0])).toEqual(TEST_CALLER);
      expect(actions()).toEqual([{ action: 'resource-controller.instance.update', resource: ON_INSTANCE }]);
    });

    it('refuses a bad update: 400 naming the field', async () => {
      expect(fieldsOf(await call(gateway, 'PATCH', `/v2/resource_instances/${GUID}`, { name: '' }))).toEqual(['name']);
      expect(fieldsOf(await call(gateway, 'PATCH', `/v2/resource_instances/${GUID}`, { allow_cleanup: 'yes' }))).toEqual(['allow_cleanup']);
      expect(fieldsOf(await call(gateway, 'PATCH', `/v2/resource_instances/${GUID}`, { target: 'eu-de' }))).toEqual(['target']);
      expect(received).toEqual([]);
    });

    it('deletes: 204 with an empty body, recursive forwarded, checked as instance.delete on the instance', async () => {
      const response = await call(gateway, 'DELETE', `/v2/resource_instances/${GUID}?recursive=true`);
      expect(response.status).toBe(204);
      expect(response.body.length).toBe(0);
      expect((await call(gateway, 'DELETE', `/v2/resource_instances/${GUIDS[1]}`)).status).toBe(204);
      expect(received.map((r) => r.request)).toEqual([{ id: GUID, recursive: true }, { id: GUIDS[1] }]);
      expect(callerOf(received[0])).toEqual(TEST_CALLER);
      expect(actions().map((a) => a.action)).toEqual(['resource-controller.instance.delete', 'resource-controller.instance.delete']);
      expect(actions()[0]?.resource).toEqual(ON_INSTANCE);
    });

    it('passes a service error through: deleting again answers 409 CONFLICT', async () => {
      expect((await call(gateway, 'DELETE', `/v2/resource_instances/${GUID}`)).status).toBe(204);
      expectIbmError(await call(gateway, 'DELETE', `/v2/resource_instances/${GUID}`), 409, 'CONFLICT');
    });

    it('refuses recursive that is not a boolean: 400 naming recursive', async () => {
      expect(fieldsOf(await call(gateway, 'DELETE', `/v2/resource_instances/${GUID}?recursive=yes`))).toEqual(['recursive']);
      expect(received).toEqual([]);
    });

    it('locks (POST, also with an empty JSON body) and unlocks (DELETE): 200 with the instance, checked as instance.lock', async () => {
      const locked = await call(gateway, 'POST', `/v2/resource_instances/${GUID}/lock`, '');
      expect(locked.status).toBe(200);
      expect(locked.json()).toMatchObject({ guid: GUID, locked: true });
      const unlocked = await call(gateway, 'DELETE', `/v2/resource_instances/${encodeURIComponent(CRN)}/lock`);
      expect(unlocked.status).toBe(200);
      expect(unlocked.json()).toMatchObject({ guid: GUID, locked: false });
      expect(received.map((r) => [r.subject, r.request])).toEqual([
        ['lifecycle.instance.lock', { id: GUID }],
        ['lifecycle.instance.unlock', { id: CRN }],
      ]);
      expect(actions()).toEqual([
        { action: 'resource-controller.instance.lock', resource: ON_INSTANCE },
        { action: 'resource-controller.instance.lock', resource: ON_INSTANCE },
      ]);
    });
  });

  describe('reclamations and plans', () => {
    it('lists reclamations: 200, the query forwarded, checked as reclamation.list on the account', async () => {
      const response = await call(gateway, 'GET', `/v1/reclamations?resource_instance_id=${GUID}&account_id=${TEST_CALLER.accountId}`);
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ resources: [reclamation('SCHEDULED')] });
      expect(received[0]?.request).toEqual({ query: { resource_instance_id: GUID, account_id: TEST_CALLER.accountId } });
      expect(callerOf(received[0])).toEqual(TEST_CALLER);
      expect(actions()).toEqual([{ action: 'resource-controller.reclamation.list', resource: ACCOUNT_RC }]);
    });

    it('refuses a bad reclamations query: 400 naming the parameter', async () => {
      expect(fieldsOf(await call(gateway, 'GET', `/v1/reclamations?resource_group_id=${'x'.repeat(65)}`))).toEqual(['resource_group_id']);
      expect(received).toEqual([]);
    });

    it('restores (body {} as the SDK sends it): 200 with the reclamation, checked as reclamation.restore', async () => {
      const response = await call(gateway, 'POST', `/v1/reclamations/${RECLAMATION}/actions/restore`, {});
      expect(response.status).toBe(200);
      expect(response.json()).toEqual(reclamation('RESTORING'));
      expect(received[0]?.request).toEqual({ id: RECLAMATION, action: 'restore', body: {} });
      expect(callerOf(received[0])).toEqual(TEST_CALLER);
      expect(actions()).toEqual([
        { action: 'resource-controller.reclamation.restore', resource: { ...ACCOUNT_RC, resourceType: 'reclamation', resource: RECLAMATION } },
      ]);
    });

    it('reclaims (with request_by and comment, or no body at all): 200, checked as reclamation.reclaim', async () => {
      const response = await call(gateway, 'POST', `/v1/reclamations/${RECLAMATION}/actions/reclaim`, { request_by: 'ops', comment: 'gone' });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual(reclamation('RECLAIMING'));
      expect((await call(gateway, 'POST', `/v1/reclamations/${RECLAMATION}/actions/reclaim`)).status).toBe(200);
      expect(received.map((r) => r.request)).toEqual([
        { id: RECLAMATION, action: 'reclaim', body: { request_by: 'ops', comment: 'gone' } },
        { id: RECLAMATION, action: 'reclaim', body: {} },
      ]);
      expect(actions().map((a) => a.action)).toEqual(['resource-controller.reclamation.reclaim', 'resource-controller.reclamation.reclaim']);
    });

    it('refuses an unknown action (400 naming action_name) and a bad body (400 naming the field), without reaching lifecycle', async () => {
      expect(fieldsOf(await call(gateway, 'POST', `/v1/reclamations/${RECLAMATION}/actions/explode`, {}))).toEqual(['action_name']);
      expect(fieldsOf(await call(gateway, 'POST', `/v1/reclamations/${RECLAMATION}/actions/Restore`, {}))).toEqual(['action_name']);
      expect(fieldsOf(await call(gateway, 'POST', `/v1/reclamations/${RECLAMATION}/actions/restore`, { reason: 'x' }))).toEqual(['reason']);
      expect(fieldsOf(await call(gateway, 'POST', `/v1/reclamations/${'r'.repeat(65)}/actions/restore`, {}))).toEqual(['id']);
      expect(received).toEqual([]);
    });

    it('answers a reclamation lifecycle does not know with 404', async () => {
      expectIbmError(await call(gateway, 'POST', '/v1/reclamations/nope/actions/restore', {}), 404, 'NOT_FOUND');
    });

    it('lists the plan catalog to any authenticated caller: 200 {plans}', async () => {
      const response = await call(gateway, 'GET', '/v1/plans');
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ plans: PLANS });
      expect(callerOf(received[0])).toEqual(TEST_CALLER);
      expect(gateway.authorizations).toEqual([]);
    });

    it('has no HTTP route to retire a plan (an operator operation on NATS only)', async () => {
      expectIbmError(await call(gateway, 'POST', '/v1/plans/secrets-manager-standard/actions/retire', {}), 404, 'ROUTE_NOT_FOUND');
    });
  });

  describe('access', () => {
    it('denied: 404 NOT_FOUND reading one instance, 403 FORBIDDEN for everything else; lifecycle is not asked', async () => {
      expectIbmError(await call(denied, 'GET', `/v2/resource_instances/${GUID}`), 404, 'NOT_FOUND');
      expectIbmError(await call(denied, 'GET', `/v2/resource_instances/${encodeURIComponent(CRN)}`), 404, 'NOT_FOUND');
      expectIbmError(await call(denied, 'POST', '/v2/resource_instances', CREATE), 403, 'FORBIDDEN');
      expectIbmError(await call(denied, 'GET', '/v2/resource_instances'), 403, 'FORBIDDEN');
      expectIbmError(await call(denied, 'PATCH', `/v2/resource_instances/${GUID}`, { name: 'x' }), 403, 'FORBIDDEN');
      expectIbmError(await call(denied, 'DELETE', `/v2/resource_instances/${GUID}`), 403, 'FORBIDDEN');
      expectIbmError(await call(denied, 'POST', `/v2/resource_instances/${GUID}/lock`), 403, 'FORBIDDEN');
      expectIbmError(await call(denied, 'DELETE', `/v2/resource_instances/${GUID}/lock`), 403, 'FORBIDDEN');
      expectIbmError(await call(denied, 'GET', '/v1/reclamations'), 403, 'FORBIDDEN');
      expectIbmError(await call(denied, 'POST', `/v1/reclamations/${RECLAMATION}/actions/restore`, {}), 403, 'FORBIDDEN');
      expectIbmError(await call(denied, 'POST', `/v1/reclamations/${RECLAMATION}/actions/reclaim`, {}), 403, 'FORBIDDEN');
      expect(received).toEqual([]);
    });

    it('an instance-scoped grant: allowed on its instance (by GUID or CRN), denied (404) on another', async () => {
      const scoped = await startTestGateway({
        controllers: [FakeLifecycle],
        authorize: (request) => (request.resource.serviceInstance === GUID ? { allowed: true, policyId: 'p-instance' } : { allowed: false }),
      });
      try {
        expect((await call(scoped, 'GET', `/v2/resource_instances/${GUID}`)).status).toBe(200);
        expect((await call(scoped, 'GET', `/v2/resource_instances/${encodeURIComponent(CRN)}`)).status).toBe(200);
        expect((await call(scoped, 'DELETE', `/v2/resource_instances/${encodeURIComponent(CRN)}`)).status).toBe(204);
        expectIbmError(await call(scoped, 'GET', `/v2/resource_instances/${GUIDS[1]}`), 404, 'NOT_FOUND');
        expectIbmError(await call(scoped, 'DELETE', `/v2/resource_instances/${encodeURIComponent(crnOf(GUIDS[1]))}`), 403, 'FORBIDDEN');
        expectIbmError(await call(scoped, 'GET', '/v2/resource_instances'), 403, 'FORBIDDEN');
      } finally {
        await scoped.close();
      }
    });

    it('requires a token: 401 UNAUTHORIZED without one, on every route', async () => {
      const routes: [string, string][] = [
        ['POST', '/v2/resource_instances'],
        ['GET', '/v2/resource_instances'],
        ['GET', `/v2/resource_instances/${GUID}`],
        ['PATCH', `/v2/resource_instances/${GUID}`],
        ['DELETE', `/v2/resource_instances/${GUID}`],
        ['POST', `/v2/resource_instances/${GUID}/lock`],
        ['DELETE', `/v2/resource_instances/${GUID}/lock`],
        ['GET', '/v1/reclamations'],
        ['POST', `/v1/reclamations/${RECLAMATION}/actions/restore`],
        ['POST', `/v1/reclamations/${RECLAMATION}/actions/reclaim`],
        ['POST', `/v1/reclamations/${RECLAMATION}/actions/explode`],
        ['GET', '/v1/plans'],
      ];
      for (const [method, path] of routes) {
        expectIbmError(await send(gateway.url, { method, path }), 401, 'UNAUTHORIZED');
      }
      expect(received).toEqual([]);
    });
  });

  describe('with the official ResourceControllerV2 SDK client', () => {
    it('create, get by CRN, list over two pages, update, lock/unlock, delete, list reclamations, restore and reclaim', async () => {
      const rc = new ResourceControllerV2({ authenticator: new BearerTokenAuthenticator({ bearerToken: await gateway.token() }), serviceUrl: gateway.url });

      const created = await rc.createResourceInstance({
        name: CREATE.name,
        target: CREATE.target,
        resourceGroup: CREATE.resource_group,
        resourcePlanId: CREATE.resource_plan_id,
        // axios drops a `false` header: only `true` reaches the wire.
        entityLock: true,
      });
      expect(created.status).toBe(201);
      expect(created.result).toMatchObject({ guid: NEW_GUID, id: crnOf(NEW_GUID), crn: crnOf(NEW_GUID), state: 'active', locked: true });
      expect(received.at(-1)?.request).toEqual({ body: CREATE, entityLock: true });

      const got = await rc.getResourceInstance({ id: crnOf(NEW_GUID) });
      expect(got.status).toBe(200);
      expect(got.result.guid).toBe(NEW_GUID);
      expect(received.at(-1)?.request).toEqual({ id: crnOf(NEW_GUID) });

      received.length = 0;
      const pager = new ResourceControllerV2.ResourceInstancesPager(rc, { limit: 2 });
      const all = await pager.getAll();
      expect(all.map((r) => r.guid)).toEqual([...GUIDS, NEW_GUID].sort());
      expect(received.map((r) => r.request)).toEqual([
        { path: '/v2/resource_instances', query: { limit: 2 } },
        { path: '/v2/resource_instances', query: { limit: 2, start: '2' } },
      ]);
      expect(pager.hasNext()).toBe(false);

      const updated = await rc.updateResourceInstance({ id: crnOf(NEW_GUID), name: 'renamed', allowCleanup: true });
      expect(updated.status).toBe(200);
      expect(updated.result.name).toBe('renamed');
      expect(received.at(-1)?.request).toEqual({ id: crnOf(NEW_GUID), body: { name: 'renamed', allow_cleanup: true } });

      const locked = await rc.lockResourceInstance({ id: NEW_GUID });
      expect({ status: locked.status, locked: locked.result.locked }).toEqual({ status: 200, locked: true });
      const unlocked = await rc.unlockResourceInstance({ id: crnOf(NEW_GUID) });
      expect({ status: unlocked.status, locked: unlocked.result.locked }).toEqual({ status: 200, locked: false });

      const deleted = await rc.deleteResourceInstance({ id: crnOf(NEW_GUID), recursive: false });
      expect(deleted.status).toBe(204);
      expect(received.at(-1)?.request).toEqual({ id: crnOf(NEW_GUID), recursive: false });

      const reclamations = await rc.listReclamations({ resourceInstanceId: NEW_GUID, accountId: TEST_CALLER.accountId });
      expect(reclamations.status).toBe(200);
      expect(reclamations.result.resources?.map((r) => r.state)).toEqual(['SCHEDULED']);
      expect(received.at(-1)?.request).toEqual({ query: { resource_instance_id: NEW_GUID, account_id: TEST_CALLER.accountId } });

      const restored = await rc.runReclamationAction({ id: RECLAMATION, actionName: 'restore' });
      expect({ status: restored.status, state: restored.result.state }).toEqual({ status: 200, state: 'RESTORING' });
      expect(received.at(-1)?.request).toEqual({ id: RECLAMATION, action: 'restore', body: {} });
      const reclaimed = await rc.runReclamationAction({ id: RECLAMATION, actionName: 'reclaim', requestBy: 'ops', comment: 'now' });
      expect({ status: reclaimed.status, state: reclaimed.result.state }).toEqual({ status: 200, state: 'RECLAIMING' });
      expect(received.at(-1)?.request).toEqual({ id: RECLAMATION, action: 'reclaim', body: { request_by: 'ops', comment: 'now' } });

      for (const entry of received) expect(callerOf(entry)).toEqual(TEST_CALLER);
    });

    it('SDK failures carry the IBM error: status and errors[0].code (unknown action, missing instance)', async () => {
      const rc = new ResourceControllerV2({ authenticator: new BearerTokenAuthenticator({ bearerToken: await gateway.token() }), serviceUrl: gateway.url });
      const failure = async (promise: Promise<unknown>) => {
        const error = (await promise.then(
          () => undefined,
          (e: unknown) => e,
        )) as { status?: number; result?: { errors?: { code?: string }[] } } | undefined;
        return { status: error?.status, code: error?.result?.errors?.[0]?.code };
      };
      expect(await failure(rc.runReclamationAction({ id: RECLAMATION, actionName: 'explode' }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      expect(await failure(rc.getResourceInstance({ id: crnOf('11111111-2222-4333-8444-555555555555') }))).toEqual({ status: 404, code: 'NOT_FOUND' });
    });
  });
});

describe('instanceGuidOf', () => {
  it('is the GUID itself, the GUID field of a CRN, or the id unchanged', () => {
    expect(instanceGuidOf(GUID)).toBe(GUID);
    expect(instanceGuidOf(GUID.toUpperCase())).toBe(GUID);
    expect(instanceGuidOf(CRN)).toBe(GUID);
    expect(instanceGuidOf('crn:v1:x/y')).toBe('crn:v1:x/y');
    expect(instanceGuidOf('some-id')).toBe('some-id');
  });
});
