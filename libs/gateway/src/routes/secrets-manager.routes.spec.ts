import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import type { ResponseOf, SecretsWire, ValidatedRequestOf } from '@sealbox/contracts';
import { RpcHandler, startTracing, type Caller, type RpcMeta, type TracingHandle } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectIbmError, send, type TestResponse } from '../testing/http-client.js';
import { startTestGateway, TEST_CALLER, type TestGateway } from '../testing/test-gateway.js';

const INSTANCE = randomUUID();
const GROUP = randomUUID();
const BASE = `/secrets-manager/${INSTANCE}/api/v2/secret_groups`;
const AT = '2026-11-29T02:00:00.000Z';

interface Received {
  readonly subject: string;
  readonly request: unknown;
  readonly caller: Caller | undefined;
}

const received: Received[] = [];

const group = (id: string, name: string, description?: string): SecretsWire.SecretGroup => ({
  id,
  name,
  ...(description === undefined ? {} : { description }),
  created_at: AT,
  created_by: TEST_CALLER.iamId,
  updated_at: AT,
});

/** A secrets service answering the `secrets.group.*` subjects and remembering what it received. */
@Controller()
class FakeSecretGroups {
  @RpcHandler('secrets.group.create')
  async create(request: ValidatedRequestOf<'secrets.group.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.create'>> {
    received.push({ subject: 'secrets.group.create', request, caller: meta.caller });
    return group(GROUP, request.name, request.description);
  }

  @RpcHandler('secrets.group.list')
  async list(request: ValidatedRequestOf<'secrets.group.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.list'>> {
    received.push({ subject: 'secrets.group.list', request, caller: meta.caller });
    return { secret_groups: [group('default', 'default'), group(GROUP, 'g1')], total_count: 2 };
  }

  @RpcHandler('secrets.group.get')
  async get(request: ValidatedRequestOf<'secrets.group.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.get'>> {
    received.push({ subject: 'secrets.group.get', request, caller: meta.caller });
    return group(request.id, 'g1');
  }

  @RpcHandler('secrets.group.update')
  async update(request: ValidatedRequestOf<'secrets.group.update'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.update'>> {
    received.push({ subject: 'secrets.group.update', request, caller: meta.caller });
    return group(request.id, request.name ?? 'g1', request.description ?? undefined);
  }

  @RpcHandler('secrets.group.delete')
  async delete(request: ValidatedRequestOf<'secrets.group.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.group.delete'>> {
    received.push({ subject: 'secrets.group.delete', request, caller: meta.caller });
    return {};
  }
}

const callerOf = (entry: Received | undefined) => ({ iamId: entry?.caller?.iamId, accountId: entry?.caller?.accountId });

describe('Secrets Manager v2 secret-group routes', () => {
  let gateway: TestGateway;
  let denied: TestGateway;
  let tracing: TracingHandle;

  const call = async (target: TestGateway, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<TestResponse> =>
    send(target.url, {
      method,
      path,
      headers: { ...await target.auth(), ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  beforeAll(async () => {
    tracing = startTracing('gateway-sm-test', { exporter: 'none' });
    gateway = await startTestGateway({ controllers: [FakeSecretGroups] });
    denied = await startTestGateway({ controllers: [FakeSecretGroups], authorize: () => ({ allowed: false }) });
  });

  afterAll(async () => {
    await gateway.close();
    await denied.close();
    await tracing.shutdown();
  });

  afterEach(() => {
    received.length = 0;
    gateway.authorizations.length = 0;
  });

  it('creates a group: 201, the body and instance forwarded with the caller, checked as secret-group.create on the instance', async () => {
    const response = await call(gateway, 'POST', BASE, { name: 'g1', description: 'first' });
    expect(response.status).toBe(201);
    expect(response.json()).toEqual(group(GROUP, 'g1', 'first'));
    expect(received).toHaveLength(1);
    expect(received[0]?.subject).toBe('secrets.group.create');
    expect(received[0]?.request).toEqual({ name: 'g1', description: 'first', instanceGuid: INSTANCE });
    expect(callerOf(received[0])).toEqual(TEST_CALLER);
    expect(gateway.authorizations.map((a) => ({ action: a.action, resource: a.resource }))).toEqual([
      {
        action: 'secrets-manager.secret-group.create',
        resource: { accountId: TEST_CALLER.accountId, serviceName: 'secrets-manager', serviceInstance: INSTANCE },
      },
    ]);
  });

  it('lists groups: 200 {secret_groups, total_count}', async () => {
    const response = await call(gateway, 'GET', BASE);
    expect(response.status).toBe(200);
    const body = response.json<SecretsWire.SecretGroupCollection>();
    expect(body.total_count).toBe(2);
    expect(body.secret_groups.map((g) => g.id)).toEqual(['default', GROUP]);
    expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE });
    expect(callerOf(received[0])).toEqual(TEST_CALLER);
    expect(gateway.authorizations.map((a) => a.action)).toEqual(['secrets-manager.secret-group.list']);
  });

  it('gets a group (also `default`): 200', async () => {
    for (const id of [GROUP, 'default']) {
      const response = await call(gateway, 'GET', `${BASE}/${id}`);
      expect(response.status).toBe(200);
      expect(response.json<SecretsWire.SecretGroup>().id).toBe(id);
    }
    expect(received.map((r) => r.request)).toEqual([
      { instanceGuid: INSTANCE, id: GROUP },
      { instanceGuid: INSTANCE, id: 'default' },
    ]);
    expect(gateway.authorizations.map((a) => a.action)).toEqual(['secrets-manager.secret-group.read', 'secrets-manager.secret-group.read']);
  });

  it('updates a group with application/merge-patch+json: 200, the patch forwarded (null removes the description)', async () => {
    const response = await call(gateway, 'PATCH', `${BASE}/${GROUP}`, { name: 'renamed', description: null }, 'application/merge-patch+json');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual(group(GROUP, 'renamed'));
    expect(received[0]?.request).toEqual({ name: 'renamed', description: null, instanceGuid: INSTANCE, id: GROUP });
    expect(callerOf(received[0])).toEqual(TEST_CALLER);
    expect(gateway.authorizations.map((a) => a.action)).toEqual(['secrets-manager.secret-group.update']);
  });

  it('deletes a group: 204 with an empty body', async () => {
    const response = await call(gateway, 'DELETE', `${BASE}/${GROUP}`);
    expect(response.status).toBe(204);
    expect(response.body.length).toBe(0);
    expect(received[0]?.subject).toBe('secrets.group.delete');
    expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, id: GROUP });
    expect(callerOf(received[0])).toEqual(TEST_CALLER);
    expect(gateway.authorizations.map((a) => a.action)).toEqual(['secrets-manager.secret-group.delete']);
  });

  it('answers 400 VALIDATION_FAILED naming the field for a bad body, without reaching the service', async () => {
    const missingName = expectIbmError(await call(gateway, 'POST', BASE, { description: 'no name' }), 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(missingName)).toContain('name');
    expectIbmError(await call(gateway, 'POST', BASE, { name: 'g1', unknown: true }), 400, 'VALIDATION_FAILED');
    expectIbmError(await call(gateway, 'PATCH', `${BASE}/${GROUP}`, { name: 42 }, 'application/merge-patch+json'), 400, 'VALIDATION_FAILED');
    expectIbmError(await call(gateway, 'GET', `${BASE}/not-a-group-id`), 400, 'VALIDATION_FAILED');
    expect(received).toEqual([]);
  });

  it('answers 400 INVALID_BODY for a merge patch that is not a JSON object', async () => {
    expectIbmError(await call(gateway, 'PATCH', `${BASE}/${GROUP}`, '[1]', 'application/merge-patch+json'), 400, 'INVALID_BODY');
    expectIbmError(await call(gateway, 'PATCH', `${BASE}/${GROUP}`, '{', 'application/merge-patch+json'), 400, 'INVALID_BODY');
    expect(received).toEqual([]);
  });

  it('denied: 403 FORBIDDEN for the collection and changes, 404 NOT_FOUND for reading one group; the service is not asked', async () => {
    expectIbmError(await call(denied, 'POST', BASE, { name: 'g1' }), 403, 'FORBIDDEN');
    expectIbmError(await call(denied, 'GET', BASE), 403, 'FORBIDDEN');
    expectIbmError(await call(denied, 'GET', `${BASE}/${GROUP}`), 404, 'NOT_FOUND');
    expectIbmError(await call(denied, 'PATCH', `${BASE}/${GROUP}`, { name: 'x' }, 'application/merge-patch+json'), 403, 'FORBIDDEN');
    expectIbmError(await call(denied, 'DELETE', `${BASE}/${GROUP}`), 403, 'FORBIDDEN');
    expect(received).toEqual([]);
  });

  it('requires a token: 401 UNAUTHORIZED without one', async () => {
    expectIbmError(await send(gateway.url, { path: BASE }), 401, 'UNAUTHORIZED');
    expect(received).toEqual([]);
  });
});
