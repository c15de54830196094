import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import type { Action, ResponseOf, SecretsWire, Subject, ValidatedRequestOf } from '@sealbox/contracts';
import { RpcHandler, startTracing, type Caller, type RpcMeta, type TracingHandle } from '@sealbox/platform';
import { SecretsManagerClient, SecretsManagerError, type SmResponse } from '@sealbox/sm-client';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectIbmError, send, type IbmErrorShape, type TestResponse } from '../testing/http-client.js';
import { startTestGateway, TEST_CALLER, type TestGateway } from '../testing/test-gateway.js';

const INSTANCE = randomUUID();
const SECRET = randomUUID();
const VERSION = randomUUID();
const PREVIOUS = randomUUID();
const GROUP = randomUUID();
const API = `/secrets-manager/${INSTANCE}/api/v2`;
const S = `${API}/secrets/${SECRET}`;
const V = `${S}/versions/${VERSION}`;
const AT = '2026-11-29T02:00:00.000Z';
const MERGE_PATCH = 'application/merge-patch+json';

interface Received {
  readonly subject: Subject;
  readonly request: unknown;
  readonly caller: Caller | undefined;
}

const received: Received[] = [];

const metadata = (id: string, name = 'my-secret'): SecretsWire.SecretMetadata => ({
  secret_type: 'arbitrary',
  id,
  crn: `crn:v1:sealbox:public:secrets-manager:local:a/${TEST_CALLER.accountId}:${INSTANCE}:secret:${id}`,
  name,
  secret_group_id: 'default',
  labels: [],
  state: 1,
  state_description: 'active',
  created_at: AT,
  created_by: TEST_CALLER.iamId,
  updated_at: AT,
  versions_total: 1,
  locks_total: 0,
  downloaded: false,
});

const secret = (id: string, name = 'my-secret'): SecretsWire.Secret => ({ ...metadata(id, name), secret_type: 'arbitrary', payload: 'p' });

const versionMetadata = (secretId: string, id: string): SecretsWire.SecretVersionMetadata => ({
  secret_type: 'arbitrary',
  id,
  secret_id: secretId,
  secret_group_id: 'default',
  secret_name: 'my-secret',
  created_at: AT,
  created_by: TEST_CALLER.iamId,
  payload_available: true,
  alias: 'current',
  downloaded: false,
  auto_rotated: false,
});

const version = (secretId: string, id: string): SecretsWire.SecretVersion => ({ ...versionMetadata(secretId, id), secret_type: 'arbitrary', payload: 'p' });

const secretLocks = (secretId: string, versionId: string, locks: string[]): SecretsWire.SecretLocks => ({
  secret_id: secretId,
  secret_group_id: 'default',
  secret_type: 'arbitrary',
  secret_name: 'my-secret',
  versions: [{ version_id: versionId, version_alias: 'current', locks, payload_available: true }],
});

const page = (path: string, offset: number, limit: number, total: number): SecretsWire.PaginatedCollection => ({
  total_count: total,
  limit,
  offset,
  first: { href: `${path}?offset=0&limit=${limit}` },
  last: { href: `${path}?offset=0&limit=${limit}` },
});

const lock = (name: string): SecretsWire.SecretLock => ({
  name,
  created_at: AT,
  updated_at: AT,
  created_by: TEST_CALLER.iamId,
  secret_group_id: 'default',
  secret_id: SECRET,
  secret_version_id: VERSION,
  secret_version_alias: 'current',
});

/** A secrets service answering the secret, version and lock subjects and remembering what it received. */
@Controller()
class FakeSecrets {
  private note(subject: Subject, request: unknown, meta: RpcMeta): void {
    received.push({ subject, request, caller: meta.caller });
  }

  @RpcHandler('secrets.secret.create')
  async create(request: ValidatedRequestOf<'secrets.secret.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.create'>> {
    this.note('secrets.secret.create', request, meta);
    return secret(SECRET, request.secret.name);
  }

  @RpcHandler('secrets.secret.list')
  async list(request: ValidatedRequestOf<'secrets.secret.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.list'>> {
    this.note('secrets.secret.list', request, meta);
    return { ...page(request.path, request.query.offset, request.query.limit, 1), secrets: [metadata(SECRET)] };
  }

  @RpcHandler('secrets.secret.get')
  async get(request: ValidatedRequestOf<'secrets.secret.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.get'>> {
    this.note('secrets.secret.get', request, meta);
    return secret(request.id);
  }

  @RpcHandler('secrets.secret.get-by-name')
  async getByName(request: ValidatedRequestOf<'secrets.secret.get-by-name'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.get-by-name'>> {
    this.note('secrets.secret.get-by-name', request, meta);
    return secret(SECRET, request.name);
  }

  @RpcHandler('secrets.secret.metadata.get')
  async getMetadata(request: ValidatedRequestOf<'secrets.secret.metadata.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.metadata.get'>> {
    this.note('secrets.secret.metadata.get', request, meta);
    return metadata(request.id);
  }

  @RpcHandler('secrets.secret.metadata.update')
  async updateMetadata(
    request: ValidatedRequestOf<'secrets.secret.metadata.update'>,
    meta: RpcMeta,
  ): Promise<ResponseOf<'secrets.secret.metadata.update'>> {
    this.note('secrets.secret.metadata.update', request, meta);
    const name = request.patch['name'];
    return metadata(request.id, typeof name === 'string' ? name : undefined);
  }

  @RpcHandler('secrets.secret.delete')
  async delete(request: ValidatedRequestOf<'secrets.secret.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.delete'>> {
    this.note('secrets.secret.delete', request, meta);
    return {};
  }

  @RpcHandler('secrets.version.create')
  async createVersion(request: ValidatedRequestOf<'secrets.version.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.create'>> {
    this.note('secrets.version.create', request, meta);
    return version(request.secretId, VERSION);
  }

  @RpcHandler('secrets.version.list')
  async listVersions(request: ValidatedRequestOf<'secrets.version.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.list'>> {
    this.note('secrets.version.list', request, meta);
    return { versions: [versionMetadata(request.secretId, VERSION), { ...versionMetadata(request.secretId, PREVIOUS), alias: 'previous' }], total_count: 2 };
  }

  @RpcHandler('secrets.version.get')
  async getVersion(request: ValidatedRequestOf<'secrets.version.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.get'>> {
    this.note('secrets.version.get', request, meta);
    return version(request.secretId, request.id === 'previous' ? PREVIOUS : VERSION);
  }

  @RpcHandler('secrets.version.metadata.get')
  async getVersionMetadata(
    request: ValidatedRequestOf<'secrets.version.metadata.get'>,
    meta: RpcMeta,
  ): Promise<ResponseOf<'secrets.version.metadata.get'>> {
    this.note('secrets.version.metadata.get', request, meta);
    return versionMetadata(request.secretId, VERSION);
  }

  @RpcHandler('secrets.version.metadata.update')
  async updateVersionMetadata(
    request: ValidatedRequestOf<'secrets.version.metadata.update'>,
    meta: RpcMeta,
  ): Promise<ResponseOf<'secrets.version.metadata.update'>> {
    this.note('secrets.version.metadata.update', request, meta);
    const custom = request.patch.version_custom_metadata;
    return { ...versionMetadata(request.secretId, VERSION), ...(custom ? { version_custom_metadata: custom } : {}) };
  }

  @RpcHandler('secrets.version.data.delete')
  async deleteVersionData(request: ValidatedRequestOf<'secrets.version.data.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.version.data.delete'>> {
    this.note('secrets.version.data.delete', request, meta);
    return {};
  }

  @RpcHandler('secrets.lock.create')
  async createLocks(request: ValidatedRequestOf<'secrets.lock.create'>, meta: RpcMeta): Promise<ResponseOf<'secrets.lock.create'>> {
    this.note('secrets.lock.create', request, meta);
    return secretLocks(request.secretId, VERSION, request.locks.map((l) => l.name));
  }

  @RpcHandler('secrets.lock.delete')
  async deleteLocks(request: ValidatedRequestOf<'secrets.lock.delete'>, meta: RpcMeta): Promise<ResponseOf<'secrets.lock.delete'>> {
    this.note('secrets.lock.delete', request, meta);
    return secretLocks(request.secretId, VERSION, []);
  }

  @RpcHandler('secrets.lock.list')
  async listLocks(request: ValidatedRequestOf<'secrets.lock.list'>, meta: RpcMeta): Promise<ResponseOf<'secrets.lock.list'>> {
    this.note('secrets.lock.list', request, meta);
    return { ...page(request.path, request.query.offset, request.query.limit, 1), locks: [lock('lock-a')] };
  }

  @RpcHandler('secrets.lock.list-all')
  async listAllLocks(request: ValidatedRequestOf<'secrets.lock.list-all'>, meta: RpcMeta): Promise<ResponseOf<'secrets.lock.list-all'>> {
    this.note('secrets.lock.list-all', request, meta);
    return { ...page(request.path, request.query.offset, request.query.limit, 1), secrets_locks: [secretLocks(SECRET, VERSION, ['lock-a'])] };
  }
}

const callerOf = (entry: Received | undefined) => ({ iamId: entry?.caller?.iamId, accountId: entry?.caller?.accountId });

const ON_INSTANCE = { accountId: TEST_CALLER.accountId, serviceName: 'secrets-manager', serviceInstance: INSTANCE };
const ON_SECRET = { ...ON_INSTANCE, resourceType: 'secret', resource: SECRET };

interface Route {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly status: number;
  readonly subject: Subject;
  readonly action: Action;
  readonly on: 'instance' | 'secret';
  /** The answer when IAM denies: 404 for a read of one item, 403 otherwise. */
  readonly denied: 403 | 404;
}

const ARBITRARY = { secret_type: 'arbitrary', name: 'my-secret', payload: 'p' };
const LOCKS = { locks: [{ name: 'lock-a' }] };

/** Every secret, version and lock route of SM v2, with its status, subject, action and denial. */
const ROUTES: readonly Route[] = [
  { method: 'POST', path: `${API}/secrets`, body: ARBITRARY, status: 201, subject: 'secrets.secret.create', action: 'secrets-manager.secret.create', on: 'instance', denied: 403 },
  { method: 'GET', path: `${API}/secrets`, status: 200, subject: 'secrets.secret.list', action: 'secrets-manager.secret.list', on: 'instance', denied: 403 },
  { method: 'GET', path: S, status: 200, subject: 'secrets.secret.get', action: 'secrets-manager.secret.read', on: 'secret', denied: 404 },
  { method: 'GET', path: `${S}/metadata`, status: 200, subject: 'secrets.secret.metadata.get', action: 'secrets-manager.secret.metadata.read', on: 'secret', denied: 404 },
  {
    method: 'PATCH',
    path: `${S}/metadata`,
    body: { name: 'renamed' },
    contentType: MERGE_PATCH,
    status: 200,
    subject: 'secrets.secret.metadata.update',
    action: 'secrets-manager.secret.update',
    on: 'secret',
    denied: 403,
  },
  { method: 'DELETE', path: S, status: 204, subject: 'secrets.secret.delete', action: 'secrets-manager.secret.delete', on: 'secret', denied: 403 },
  {
    method: 'GET',
    path: `${API}/secret_groups/default/secret_types/arbitrary/secrets/my-secret`,
    status: 200,
    subject: 'secrets.secret.get-by-name',
    action: 'secrets-manager.secret.read',
    on: 'instance',
    denied: 404,
  },
  { method: 'POST', path: `${S}/versions`, body: { payload: 'p2' }, status: 201, subject: 'secrets.version.create', action: 'secrets-manager.secret.rotate', on: 'secret', denied: 403 },
  { method: 'GET', path: `${S}/versions`, status: 200, subject: 'secrets.version.list', action: 'secrets-manager.secret.metadata.read', on: 'secret', denied: 404 },
  { method: 'GET', path: V, status: 200, subject: 'secrets.version.get', action: 'secrets-manager.secret.read', on: 'secret', denied: 404 },
  { method: 'GET', path: `${V}/metadata`, status: 200, subject: 'secrets.version.metadata.get', action: 'secrets-manager.secret.metadata.read', on: 'secret', denied: 404 },
  {
    method: 'PATCH',
    path: `${V}/metadata`,
    body: { version_custom_metadata: { a: 1 } },
    contentType: MERGE_PATCH,
    status: 200,
    subject: 'secrets.version.metadata.update',
    action: 'secrets-manager.secret.update',
    on: 'secret',
    denied: 403,
  },
  { method: 'DELETE', path: `${V}/secret_data`, status: 204, subject: 'secrets.version.data.delete', action: 'secrets-manager.secret.delete', on: 'secret', denied: 403 },
  { method: 'POST', path: `${S}/locks_bulk`, body: LOCKS, status: 201, subject: 'secrets.lock.create', action: 'secrets-manager.secret.lock', on: 'secret', denied: 403 },
  { method: 'DELETE', path: `${S}/locks_bulk`, status: 200, subject: 'secrets.lock.delete', action: 'secrets-manager.secret.lock', on: 'secret', denied: 403 },
  { method: 'GET', path: `${S}/locks`, status: 200, subject: 'secrets.lock.list', action: 'secrets-manager.secret.metadata.read', on: 'secret', denied: 404 },
  { method: 'POST', path: `${V}/locks_bulk`, body: LOCKS, status: 201, subject: 'secrets.lock.create', action: 'secrets-manager.secret.lock', on: 'secret', denied: 403 },
  { method: 'DELETE', path: `${V}/locks_bulk`, status: 200, subject: 'secrets.lock.delete', action: 'secrets-manager.secret.lock', on: 'secret', denied: 403 },
  { method: 'GET', path: `${V}/locks`, status: 200, subject: 'secrets.lock.list', action: 'secrets-manager.secret.metadata.read', on: 'secret', denied: 404 },
  { method: 'GET', path: `${API}/secrets_locks`, status: 200, subject: 'secrets.lock.list-all', action: 'secrets-manager.secret.list', on: 'instance', denied: 403 },
];

/** The names the error targets (the fields or parameters a 400 blames). */
const targetsOf = (body: IbmErrorShape): string[] =>
  (body.errors as readonly { readonly target?: { readonly name: string } }[]).map((error) => error.target?.name ?? '(none)');

describe('Secrets Manager v2 secret, version and lock routes', () => {
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
  const callRoute = (target: TestGateway, route: Route): Promise<TestResponse> => call(target, route.method, route.path, route.body, route.contentType);

  /** A 400 VALIDATION_FAILED naming exactly these fields (or parameters). */
  const expectInvalid = async (response: Promise<TestResponse>, ...fields: string[]): Promise<void> => {
    expect(targetsOf(expectIbmError(await response, 400, 'VALIDATION_FAILED'))).toEqual(fields);
  };

  beforeAll(async () => {
    tracing = startTracing('gateway-sm-secrets-test', { exporter: 'none' });
    gateway = await startTestGateway({ controllers: [FakeSecrets] });
    denied = await startTestGateway({ controllers: [FakeSecrets], authorize: () => ({ allowed: false }) });
  });

  afterAll(async () => {
    await gateway.close();
    await denied.close();
    await tracing.shutdown();
  });

  afterEach(() => {
    received.length = 0;
    gateway.authorizations.length = 0;
    denied.authorizations.length = 0;
  });

  describe('every route', () => {
    it.each(ROUTES.map((route) => [`${route.method} ${route.path.replace(API, '')}`, route] as const))(
      '%s: its status, one request to its subject with the caller, checked as its action on its resource',
      async (_name, route) => {
        const response = await callRoute(gateway, route);
        expect(response.status).toBe(route.status);
        if (route.status === 204) expect(response.body.length).toBe(0);
        else expect(response.headers['content-type']).toMatch(/^application\/json/);
        expect(received.map((r) => r.subject)).toEqual([route.subject]);
        expect(callerOf(received[0])).toEqual(TEST_CALLER);
        expect(gateway.authorizations.map((a) => ({ action: a.action, resource: a.resource }))).toEqual([
          { action: route.action, resource: route.on === 'secret' ? ON_SECRET : ON_INSTANCE },
        ]);
      },
    );

    it.each(ROUTES.map((route) => [`${route.method} ${route.path.replace(API, '')}`, route] as const))(
      '%s denied: 403 FORBIDDEN for a change or a collection, 404 NOT_FOUND for a read of one item; the service is not asked',
      async (_name, route) => {
        expectIbmError(await callRoute(denied, route), route.denied, route.denied === 404 ? 'NOT_FOUND' : 'FORBIDDEN');
        expect(denied.authorizations.map((a) => a.action)).toEqual([route.action]);
        expect(received).toEqual([]);
      },
    );

    it.each(ROUTES.map((route) => [`${route.method} ${route.path.replace(API, '')}`, route] as const))(
      '%s without a token: 401 UNAUTHORIZED',
      async (_name, route) => {
        const headers: Record<string, string> = route.body === undefined ? {} : { 'content-type': route.contentType ?? 'application/json' };
        const response = await send(gateway.url, {
          method: route.method,
          path: route.path,
          headers,
          ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
        });
        expectIbmError(response, 401, 'UNAUTHORIZED');
        expect(gateway.authorizations).toEqual([]);
        expect(received).toEqual([]);
      },
    );
  });

  it("documents every route in the OpenAPI document with a summary, under IBM's parameter names", async () => {
    const document = (await send(gateway.url, { path: '/openapi.json' })).json<{ paths: Record<string, Record<string, { summary?: string }>> }>();
    const openApiPath = (path: string) =>
      path
        .replace(INSTANCE, '{instance_guid}')
        .replace(`secret_groups/default/secret_types/arbitrary/secrets/my-secret`, 'secret_groups/{secret_group_name}/secret_types/{secret_type}/secrets/{name}')
        .replace(`/versions/${VERSION}`, '/versions/{id}')
        .replace(`${SECRET}/versions`, '{secret_id}/versions')
        .replace(SECRET, '{id}');
    for (const route of ROUTES) {
      const operation = document.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(operation?.summary, `${route.method} ${openApiPath(route.path)}`).toMatch(/\w/);
    }
  });

  describe('secrets', () => {
    it('creates a secret: 201 with the secret; the prototype (defaults applied) wrapped with the instance', async () => {
      const response = await call(gateway, 'POST', `${API}/secrets`, { ...ARBITRARY, labels: ['l1'], description: 'd' });
      expect(response.status).toBe(201);
      expect(response.json()).toEqual(secret(SECRET));
      expect(received[0]?.request).toEqual({
        instanceGuid: INSTANCE,
        secret: { ...ARBITRARY, labels: ['l1'], description: 'd', secret_group_id: 'default' },
      });
    });

    it('creates each supported type: the type-specific fields reach the service', async () => {
      const prototypes = [
        { secret_type: 'username_password', name: 'up', username: 'user', password_generation_policy: { length: 20 } },
        { secret_type: 'kv', name: 'kv1', data: { a: { b: 1 } }, secret_group_id: GROUP },
        { secret_type: 'iam_credentials', name: 'iam1', ttl: '1d', reuse_api_key: true, service_id: 'ServiceId-1' },
      ];
      for (const prototype of prototypes) expect((await call(gateway, 'POST', `${API}/secrets`, prototype)).status).toBe(201);
      expect(received.map((r) => (r.request as ValidatedRequestOf<'secrets.secret.create'>).secret)).toEqual([
        { ...prototypes[0], labels: [], secret_group_id: 'default' },
        { ...prototypes[1], labels: [] },
        { ...prototypes[2], labels: [], secret_group_id: 'default' },
      ]);
    });

    it('lists secrets: the query parsed (lists split on commas) and the path without the query for the links', async () => {
      const query = `offset=20&limit=10&sort=-name&search=ab&groups=default,${GROUP}&secret_types=arbitrary,kv&match_all_labels=l1,l2&unknown=1`;
      const response = await call(gateway, 'GET', `${API}/secrets?${query}`);
      expect(response.status).toBe(200);
      const body = response.json<SecretsWire.SecretMetadataPaginatedCollection>();
      expect(body.secrets.map((s) => s.id)).toEqual([SECRET]);
      expect(body.first.href).toBe(`${API}/secrets?offset=0&limit=10`);
      expect(received[0]?.request).toEqual({
        instanceGuid: INSTANCE,
        path: `${API}/secrets`,
        query: {
          offset: 20,
          limit: 10,
          sort: '-name',
          search: 'ab',
          groups: ['default', GROUP],
          secret_types: ['arbitrary', 'kv'],
          match_all_labels: ['l1', 'l2'],
        },
      });
    });

    it('lists secrets with IBM defaults: offset 0, limit 200', async () => {
      expect((await call(gateway, 'GET', `${API}/secrets`)).status).toBe(200);
      expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, path: `${API}/secrets`, query: { offset: 0, limit: 200 } });
    });

    it('gets a secret, its metadata, and a secret by group name, type and name', async () => {
      expect((await call(gateway, 'GET', S)).json()).toEqual(secret(SECRET));
      expect((await call(gateway, 'GET', `${S}/metadata`)).json()).toEqual(metadata(SECRET));
      const byName = await call(gateway, 'GET', `${API}/secret_groups/my-group/secret_types/kv/secrets/my.secret`);
      expect(byName.json<SecretsWire.Secret>().name).toBe('my.secret');
      expect(received.map((r) => r.request)).toEqual([
        { instanceGuid: INSTANCE, id: SECRET },
        { instanceGuid: INSTANCE, id: SECRET },
        { instanceGuid: INSTANCE, groupName: 'my-group', secretType: 'kv', name: 'my.secret' },
      ]);
    });

    it('updates metadata with a merge patch: the patch travels as is (null removes; the service checks it by type)', async () => {
      const patch = { name: 'renamed', description: null, labels: ['x1'], custom_metadata: { k: null } };
      const response = await call(gateway, 'PATCH', `${S}/metadata`, patch, MERGE_PATCH);
      expect(response.status).toBe(200);
      expect(response.json<SecretsWire.SecretMetadata>().name).toBe('renamed');
      expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, id: SECRET, patch });
    });

    it('deletes a secret: 204 with an empty body (force_delete is accepted and has no effect)', async () => {
      for (const path of [S, `${S}?force_delete=true`]) {
        const response = await call(gateway, 'DELETE', path);
        expect(response.status).toBe(204);
        expect(response.body.length).toBe(0);
      }
      expect(received.map((r) => r.request)).toEqual([
        { instanceGuid: INSTANCE, id: SECRET },
        { instanceGuid: INSTANCE, id: SECRET },
      ]);
    });
  });

  describe('versions', () => {
    it('creates a version: 201 with the version; the body travels as a JSON object (the service checks it by type)', async () => {
      const response = await call(gateway, 'POST', `${S}/versions`, { payload: 'p2', version_custom_metadata: { a: 1 } });
      expect(response.status).toBe(201);
      expect(response.json()).toEqual(version(SECRET, VERSION));
      expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, secretId: SECRET, version: { payload: 'p2', version_custom_metadata: { a: 1 } } });
    });

    it('creates a version from an empty body, as the IBM SDK sends it for iam_credentials (Content-Length: 0)', async () => {
      const response = await call(gateway, 'POST', `${S}/versions`, '');
      expect(response.status).toBe(201);
      expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, secretId: SECRET, version: {} });
    });

    it('lists versions: {versions, total_count}', async () => {
      const body = (await call(gateway, 'GET', `${S}/versions`)).json<SecretsWire.SecretVersionMetadataCollection>();
      expect(body.total_count).toBe(2);
      expect(body.versions.map((v) => v.alias)).toEqual(['current', 'previous']);
      expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, secretId: SECRET });
    });

    it('gets a version by id, `current` and `previous`, and its metadata', async () => {
      for (const id of [VERSION, 'current', 'previous']) expect((await call(gateway, 'GET', `${S}/versions/${id}`)).status).toBe(200);
      expect((await call(gateway, 'GET', `${S}/versions/previous/metadata`)).json()).toEqual(versionMetadata(SECRET, VERSION));
      expect(received.map((r) => r.request)).toEqual([
        { instanceGuid: INSTANCE, secretId: SECRET, id: VERSION },
        { instanceGuid: INSTANCE, secretId: SECRET, id: 'current' },
        { instanceGuid: INSTANCE, secretId: SECRET, id: 'previous' },
        { instanceGuid: INSTANCE, secretId: SECRET, id: 'previous' },
      ]);
    });

    it('updates version metadata with a merge patch (null removes)', async () => {
      const response = await call(gateway, 'PATCH', `${V}/metadata`, { version_custom_metadata: { a: 1, b: null } }, MERGE_PATCH);
      expect(response.status).toBe(200);
      expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, secretId: SECRET, id: VERSION, patch: { version_custom_metadata: { a: 1, b: null } } });
      await call(gateway, 'PATCH', `${S}/versions/current/metadata`, { version_custom_metadata: null }, MERGE_PATCH);
      expect(received[1]?.request).toEqual({ instanceGuid: INSTANCE, secretId: SECRET, id: 'current', patch: { version_custom_metadata: null } });
    });

    it("deletes a version's data: 204 with an empty body", async () => {
      const response = await call(gateway, 'DELETE', `${S}/versions/previous/secret_data`);
      expect(response.status).toBe(204);
      expect(response.body.length).toBe(0);
      expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, secretId: SECRET, id: 'previous' });
    });
  });

  describe('locks', () => {
    it("locks a secret's current version: 201 with the SecretLocks; mode forwarded", async () => {
      const locks = [{ name: 'lock-a', description: 'app', attributes: { k: 'v' } }, { name: 'lock-b' }];
      const response = await call(gateway, 'POST', `${S}/locks_bulk?mode=remove_previous`, { locks });
      expect(response.status).toBe(201);
      expect(response.json()).toEqual(secretLocks(SECRET, VERSION, ['lock-a', 'lock-b']));
      expect(received[0]?.request).toEqual({ instanceGuid: INSTANCE, secretId: SECRET, locks, mode: 'remove_previous' });
    });

    it('locks a given version (id or alias); without mode none is forwarded', async () => {
      expect((await call(gateway, 'POST', `${S}/versions/previous/locks_bulk`, LOCKS)).status).toBe(201);
      expect((await call(gateway, 'POST', `${V}/locks_bulk?mode=remove_previous_and_delete`, LOCKS)).status).toBe(201);
      expect(received.map((r) => r.request)).toEqual([
        { instanceGuid: INSTANCE, secretId: SECRET, versionId: 'previous', locks: LOCKS.locks },
        { instanceGuid: INSTANCE, secretId: SECRET, versionId: VERSION, locks: LOCKS.locks, mode: 'remove_previous_and_delete' },
      ]);
    });

    it('removes locks by name (comma-joined) or all of them: 200 with the SecretLocks left', async () => {
      const named = await call(gateway, 'DELETE', `${S}/locks_bulk?name=lock-a,lock-b`);
      expect(named.status).toBe(200);
      expect(named.json()).toEqual(secretLocks(SECRET, VERSION, []));
      expect((await call(gateway, 'DELETE', `${S}/locks_bulk`)).status).toBe(200);
      expect((await call(gateway, 'DELETE', `${V}/locks_bulk?name=lock-a`)).status).toBe(200);
      expect((await call(gateway, 'DELETE', `${S}/versions/current/locks_bulk`)).status).toBe(200);
      expect(received.map((r) => r.request)).toEqual([
        { instanceGuid: INSTANCE, secretId: SECRET, names: ['lock-a', 'lock-b'] },
        { instanceGuid: INSTANCE, secretId: SECRET },
        { instanceGuid: INSTANCE, secretId: SECRET, versionId: VERSION, names: ['lock-a'] },
        { instanceGuid: INSTANCE, secretId: SECRET, versionId: 'current' },
      ]);
    });

    it('lists the locks of a secret and of a version: the query parsed, the path for the links', async () => {
      const response = await call(gateway, 'GET', `${S}/locks?offset=5&limit=100&sort=-created_at&search=lock`);
      expect(response.status).toBe(200);
      expect(response.json<SecretsWire.SecretLocksPaginatedCollection>().locks.map((l) => l.name)).toEqual(['lock-a']);
      expect((await call(gateway, 'GET', `${S}/versions/previous/locks`)).status).toBe(200);
      expect(received.map((r) => r.request)).toEqual([
        { instanceGuid: INSTANCE, secretId: SECRET, path: `${S}/locks`, query: { offset: 5, limit: 100, sort: '-created_at', search: 'lock' } },
        { instanceGuid: INSTANCE, secretId: SECRET, versionId: 'previous', path: `${S}/versions/previous/locks`, query: { offset: 0, limit: 25 } },
      ]);
    });

    it('lists the secrets with locks of the instance (secrets_locks)', async () => {
      const response = await call(gateway, 'GET', `${API}/secrets_locks?limit=3&search=my&groups=default`);
      expect(response.status).toBe(200);
      expect(response.json<SecretsWire.SecretsLocksPaginatedCollection>().secrets_locks).toEqual([secretLocks(SECRET, VERSION, ['lock-a'])]);
      expect(received[0]?.request).toEqual({
        instanceGuid: INSTANCE,
        path: `${API}/secrets_locks`,
        query: { offset: 0, limit: 3, search: 'my', groups: ['default'] },
      });
    });
  });

  describe("the project's SM v2 client (@sealbox/sm-client) against these routes", () => {
    const client = async () => new SecretsManagerClient({ serviceUrl: gateway.url, instanceId: INSTANCE, bearerToken: await gateway.token() });

    /** Each client method, the status it gets and the subject it reaches: the client's paths are the routes' paths. */
    const operations: readonly [string, (c: SecretsManagerClient) => Promise<SmResponse<unknown>>, number, Subject][] = [
      ['createSecret', (c) => c.createSecret({ secret_type: 'arbitrary', name: 'my-secret', payload: 'p' }), 201, 'secrets.secret.create'],
      ['listSecrets', (c) => c.listSecrets({ limit: 5, groups: ['default'], secretTypes: ['arbitrary'], matchAllLabels: ['l1'] }), 200, 'secrets.secret.list'],
      ['getSecret', (c) => c.getSecret(SECRET), 200, 'secrets.secret.get'],
      ['getSecretMetadata', (c) => c.getSecretMetadata(SECRET), 200, 'secrets.secret.metadata.get'],
      ['updateSecretMetadata', (c) => c.updateSecretMetadata(SECRET, { name: 'renamed', description: null }), 200, 'secrets.secret.metadata.update'],
      ['deleteSecret', (c) => c.deleteSecret(SECRET), 204, 'secrets.secret.delete'],
      ['getSecretByNameType', (c) => c.getSecretByNameType('default', 'arbitrary', 'my-secret'), 200, 'secrets.secret.get-by-name'],
      ['createSecretVersion', (c) => c.createSecretVersion(SECRET, { payload: 'p2' }), 201, 'secrets.version.create'],
      ['listSecretVersions', (c) => c.listSecretVersions(SECRET), 200, 'secrets.version.list'],
      ['getSecretVersion', (c) => c.getSecretVersion(SECRET, 'previous'), 200, 'secrets.version.get'],
      ['getSecretVersionMetadata', (c) => c.getSecretVersionMetadata(SECRET, VERSION), 200, 'secrets.version.metadata.get'],
      ['updateSecretVersionMetadata', (c) => c.updateSecretVersionMetadata(SECRET, 'current', { version_custom_metadata: { a: 1 } }), 200, 'secrets.version.metadata.update'],
      ['deleteSecretVersionData', (c) => c.deleteSecretVersionData(SECRET, 'previous'), 204, 'secrets.version.data.delete'],
      ['createSecretLocksBulk', (c) => c.createSecretLocksBulk(SECRET, [{ name: 'lock-a' }], { mode: 'remove_previous' }), 201, 'secrets.lock.create'],
      ['deleteSecretLocksBulk', (c) => c.deleteSecretLocksBulk(SECRET, { name: ['lock-a', 'lock-b'] }), 200, 'secrets.lock.delete'],
      ['listSecretLocks', (c) => c.listSecretLocks(SECRET, { limit: 10, sort: 'name' }), 200, 'secrets.lock.list'],
      ['createSecretVersionLocksBulk', (c) => c.createSecretVersionLocksBulk(SECRET, VERSION, [{ name: 'lock-a' }]), 201, 'secrets.lock.create'],
      ['deleteSecretVersionLocksBulk', (c) => c.deleteSecretVersionLocksBulk(SECRET, VERSION), 200, 'secrets.lock.delete'],
      ['listSecretVersionLocks', (c) => c.listSecretVersionLocks(SECRET, 'current'), 200, 'secrets.lock.list'],
      ['listSecretsLocks', (c) => c.listSecretsLocks({ groups: ['default'] }), 200, 'secrets.lock.list-all'],
    ];

    it.each(operations)('%s: the status, the answer parsed by the wire schema, the subject reached', async (_name, invoke, status, subject) => {
      const response = await invoke(await client());
      expect(response.status).toBe(status);
      expect(received.map((r) => r.subject)).toEqual([subject]);
    });

    it('covers every route of the table above', () => {
      expect(new Set(operations.map(([, , , subject]) => subject))).toEqual(new Set(ROUTES.map((route) => route.subject)));
      expect(operations).toHaveLength(ROUTES.length);
    });

    it('pages through listSecretsAll and stops on the last page', async () => {
      const all: string[] = [];
      for await (const item of (await client()).listSecretsAll({ limit: 1 })) all.push(item.id);
      expect(all).toEqual([SECRET]);
    });

    it('gets a field-level SecretsManagerError for bad input, naming the field', async () => {
      const error = await (await client())
        .createSecret({ secret_type: 'arbitrary', name: 'my-secret', payload: '' })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SecretsManagerError);
      expect({ status: (error as SecretsManagerError).status, code: (error as SecretsManagerError).code, fields: (error as SecretsManagerError).fields }).toEqual({
        status: 400,
        code: 'VALIDATION_FAILED',
        fields: ['payload'],
      });
      expect(received).toEqual([]);
    });
  });

  describe('bad input: 400 at the edge naming the field or parameter as the client wrote it, the service not reached', () => {
    afterEach(() => {
      expect(received).toEqual([]);
    });

    it('createSecret: an unknown or unsupported secret_type, a missing field, too many labels, an unknown field, a bad group', async () => {
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { ...ARBITRARY, secret_type: 'bogus' }), 'secret_type');
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { ...ARBITRARY, secret_type: 'public_cert' }), 'secret_type');
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { name: 'n', payload: 'p' }), 'secret_type');
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { secret_type: 'arbitrary', name: 'my-secret' }), 'payload');
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { secret_type: 'kv', name: 'my-secret', data: [1] }), 'data');
      const labels = Array.from({ length: 31 }, (_, i) => `label-${i}`);
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { ...ARBITRARY, labels }), 'labels');
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { ...ARBITRARY, managed_csr: {} }), 'managed_csr');
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { ...ARBITRARY, secret_group_id: 'nope' }), 'secret_group_id');
      await expectInvalid(call(gateway, 'POST', `${API}/secrets`, { ...ARBITRARY, name: 'bad name!' }), 'name');
      expectIbmError(await call(gateway, 'POST', `${API}/secrets`, '[1]'), 400, 'INVALID_BODY');
      expectIbmError(await call(gateway, 'POST', `${API}/secrets`, '{"name":'), 400, 'INVALID_BODY');
    });

    it('listSecrets: limit out of range or not a number, a negative offset, an unknown sort, an unknown secret type, a bad label', async () => {
      await expectInvalid(call(gateway, 'GET', `${API}/secrets?limit=0`), 'limit');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets?limit=1001`), 'limit');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets?limit=1.5`), 'limit');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets?offset=-1`), 'offset');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets?sort=colour`), 'sort');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets?secret_types=arbitrary,bogus`), 'secret_types.1');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets?groups=nope`), 'groups.0');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets?match_all_labels=a`), 'match_all_labels.0');
    });

    it('one secret: an id that is not a UUID; a bad force_delete', async () => {
      await expectInvalid(call(gateway, 'GET', `${API}/secrets/not-a-uuid`), 'id');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets/not-a-uuid/metadata`), 'id');
      await expectInvalid(call(gateway, 'DELETE', `${API}/secrets/not-a-uuid`), 'id');
      await expectInvalid(call(gateway, 'DELETE', `${S}?force_delete=maybe`), 'force_delete');
    });

    it('updateSecretMetadata: a merge patch that is not a JSON object is 400 INVALID_BODY', async () => {
      for (const body of ['[1]', '"text"', '42', 'null', '{', ''])
        expectIbmError(await call(gateway, 'PATCH', `${S}/metadata`, body, MERGE_PATCH), 400, 'INVALID_BODY');
      expectIbmError(await send(gateway.url, { method: 'PATCH', path: `${S}/metadata`, headers: await gateway.auth() }), 400, 'INVALID_BODY');
    });

    it('getSecretByNameType: an unknown secret_type, a bad group name or secret name', async () => {
      await expectInvalid(call(gateway, 'GET', `${API}/secret_groups/default/secret_types/bogus/secrets/my-secret`), 'secret_type');
      await expectInvalid(call(gateway, 'GET', `${API}/secret_groups/default/secret_types/arbitrary/secrets/bad%20name`), 'name');
      await expectInvalid(call(gateway, 'GET', `${API}/secret_groups/${'g'.repeat(65)}/secret_types/arbitrary/secrets/my-secret`), 'secret_group_name');
    });

    it('versions: a version id that is not a UUID, current or previous; a secret_id that is not a UUID; a body that is not an object', async () => {
      await expectInvalid(call(gateway, 'GET', `${S}/versions/latest`), 'id');
      await expectInvalid(call(gateway, 'GET', `${S}/versions/latest/metadata`), 'id');
      await expectInvalid(call(gateway, 'DELETE', `${S}/versions/latest/secret_data`), 'id');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets/not-a-uuid/versions`), 'secret_id');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets/not-a-uuid/versions/current`), 'secret_id');
      expectIbmError(await call(gateway, 'POST', `${S}/versions`, '[1]'), 400, 'INVALID_BODY');
    });

    it('updateSecretVersionMetadata: an unknown field is named; a merge patch that is not an object is 400 INVALID_BODY', async () => {
      await expectInvalid(call(gateway, 'PATCH', `${V}/metadata`, { version_custom_metadata: { a: 1 }, labels: [] }, MERGE_PATCH), 'labels');
      await expectInvalid(call(gateway, 'PATCH', `${V}/metadata`, { version_custom_metadata: 'x' }, MERGE_PATCH), 'version_custom_metadata');
      for (const body of ['[1]', '{', 'null']) expectIbmError(await call(gateway, 'PATCH', `${V}/metadata`, body, MERGE_PATCH), 400, 'INVALID_BODY');
    });

    it('locks: a bad lock name in the body or in ?name=, no locks, a duplicate, an unknown mode, a bad version id', async () => {
      await expectInvalid(call(gateway, 'POST', `${S}/locks_bulk`, { locks: [{ name: '1bad' }] }), 'locks.0.name');
      await expectInvalid(call(gateway, 'POST', `${V}/locks_bulk`, { locks: [{ name: 'ok-lock' }, { name: 'x' }] }), 'locks.1.name');
      await expectInvalid(call(gateway, 'POST', `${S}/locks_bulk`, {}), 'locks');
      await expectInvalid(call(gateway, 'POST', `${S}/locks_bulk`, { locks: [] }), 'locks');
      await expectInvalid(call(gateway, 'POST', `${S}/locks_bulk`, { locks: [{ name: 'lock-a' }, { name: 'lock-a' }] }), 'locks.1.name');
      await expectInvalid(call(gateway, 'POST', `${S}/locks_bulk?mode=remove_all`, LOCKS), 'mode');
      await expectInvalid(call(gateway, 'POST', `${S}/versions/latest/locks_bulk`, LOCKS), 'id');
      await expectInvalid(call(gateway, 'DELETE', `${S}/locks_bulk?name=lock-a,1bad`), 'name.1');
      await expectInvalid(call(gateway, 'DELETE', `${S}/locks_bulk?name=`), 'name.0');
      await expectInvalid(call(gateway, 'DELETE', `${S}/versions/latest/locks_bulk`), 'id');
      await expectInvalid(call(gateway, 'DELETE', `${API}/secrets/not-a-uuid/locks_bulk`), 'id');
    });

    it('lock lists: limit out of range, an unknown sort, a bad group', async () => {
      await expectInvalid(call(gateway, 'GET', `${S}/locks?limit=101`), 'limit');
      await expectInvalid(call(gateway, 'GET', `${V}/locks?sort=colour`), 'sort');
      await expectInvalid(call(gateway, 'GET', `${S}/versions/latest/locks`), 'id');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets_locks?limit=1001`), 'limit');
      await expectInvalid(call(gateway, 'GET', `${API}/secrets_locks?groups=nope`), 'groups.0');
    });

    it('an instance that is not a UUID: named instance_guid, as the path parameter is in IBM\'s docs and the OpenAPI document', async () => {
      await expectInvalid(call(gateway, 'GET', `/secrets-manager/inst-1/api/v2/secrets/${SECRET}`), 'instance_guid');
      await expectInvalid(call(gateway, 'GET', `/secrets-manager/inst-1/api/v2/secret_groups`), 'instance_guid');
      await expectInvalid(call(gateway, 'GET', `/secrets-manager/inst-1/api/v2/secrets/${SECRET}/versions`), 'instance_guid');
    });
  });
});
