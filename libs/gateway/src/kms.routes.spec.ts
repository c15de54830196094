/**
 * The Key Protect surface at /kms/api/v2: every route reaches its `kms.api.*` subject with the
 * instance (Bluemix-Instance), the key (path), the body and the query as the subject's schema
 * wants them, plus the caller; statuses, content types and headers as the Key Protect SDK expects;
 * IAM is asked about the right service (kms or hs-crypto) and an unknown or foreign instance is
 * answered exactly like a denial.
 */
import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { KmsWire, type CloudEvent, type ErrorCode, type ResponseOf, type Subject, type ValidatedRequestOf } from '@sealbox/contracts';
import { DomainError, notFound, RpcHandler, startTracing, type RpcMeta, type TracingHandle } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectIbmError, send, type TestRequest } from './testing/http-client.js';
import { startTestGateway, TEST_CALLER, type TestGateway } from './testing/test-gateway.js';

const KP = 'kp-1111';
const HPCS = 'hpcs-2222';
const FOREIGN = 'kp-other-account';
const KEY_ID = '0b5d5f4e-6a0c-4d2e-9e51-3a0a3c8b7d11';
const STANDARD_KEY_ID = '5e7c1a2b-3d4e-4f50-8a61-7b8c9d0e1f23';

interface Received {
  readonly subject: Subject;
  readonly request: unknown;
  readonly meta: RpcMeta;
}

const received: Received[] = [];
const instanceLookups: string[] = [];
/** Make the next request to `subject` fail with this code. */
const failures = new Map<Subject, ErrorCode>();

const key: KmsWire.Key = {
  type: KmsWire.KEY_COLLECTION_TYPE,
  id: KEY_ID,
  name: 'root',
  aliases: [],
  state: 1,
  crn: `crn:v1:sealbox:public:kms:us-south:a/acc-test:${KP}:key:${KEY_ID}`,
  extractable: false,
  imported: false,
  algorithmType: 'AES',
  keyRingID: 'default',
  creationDate: '2026-01-01T00:00:00.000Z',
  createdBy: TEST_CALLER.iamId,
  lastUpdateDate: '2026-01-01T00:00:00.000Z',
  keyVersion: { id: randomUUID(), creationDate: '2026-01-01T00:00:00.000Z' },
  dualAuthDelete: { enabled: false },
  deleted: false,
};
const keys = (): KmsWire.KeyCollection => ({ metadata: { collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: 1 }, resources: [key] });
const masterKey: KmsWire.MasterKeyStatus = { status: 'pending', partsLoaded: 1, threshold: 2 };

async function answer<S extends Subject>(subject: S, request: unknown, meta: RpcMeta, response: ResponseOf<S>): Promise<ResponseOf<S>> {
  received.push({ subject, request, meta });
  const failure = failures.get(subject);
  if (failure) {
    failures.delete(subject);
    throw new DomainError(failure, `test failure ${failure}`);
  }
  return response;
}

/** kms as the gateway sees it: two instances of the caller's account, one of another account, the Key Protect subjects. */
@Controller()
class FakeKms {
  @RpcHandler('kms.instance.get')
  async instance(request: ValidatedRequestOf<'kms.instance.get'>): Promise<ResponseOf<'kms.instance.get'>> {
    instanceLookups.push(request.instanceId);
    const serviceName = request.instanceId === KP ? 'kms' : request.instanceId === HPCS ? 'hs-crypto' : undefined;
    if (!serviceName || request.accountId !== TEST_CALLER.accountId) throw notFound(`Instance ${request.instanceId}`);
    return { ...request, serviceName, region: 'us-south', provider: serviceName === 'kms' ? 'key-protect' : 'hpcs', masterKeyStatus: 'active' };
  }

  @RpcHandler('kms.api.key.create')
  create(request: ValidatedRequestOf<'kms.api.key.create'>, meta: RpcMeta) {
    // A standard key with its payload when the representation was asked for.
    const standard = { ...key, extractable: true, payload: 'c3RhbmRhcmQta2V5LW1hdGVyaWFs' };
    return answer('kms.api.key.create', request, meta, request.returnPayload ? { ...keys(), resources: [standard] } : keys());
  }
  @RpcHandler('kms.api.key.list')
  list(request: ValidatedRequestOf<'kms.api.key.list'>, meta: RpcMeta) {
    return answer('kms.api.key.list', request, meta, keys());
  }
  @RpcHandler('kms.api.key.count')
  count(request: ValidatedRequestOf<'kms.api.key.count'>, meta: RpcMeta) {
    return answer('kms.api.key.count', request, meta, { total: 42 });
  }
  @RpcHandler('kms.api.key.get')
  get(request: ValidatedRequestOf<'kms.api.key.get'>, meta: RpcMeta) {
    const standard = { ...key, id: STANDARD_KEY_ID, extractable: true, payload: 'c3RhbmRhcmQta2V5LW1hdGVyaWFs' };
    return answer('kms.api.key.get', request, meta, request.id === STANDARD_KEY_ID ? { ...keys(), resources: [standard] } : keys());
  }
  @RpcHandler('kms.api.key.metadata')
  metadata(request: ValidatedRequestOf<'kms.api.key.metadata'>, meta: RpcMeta) {
    return answer('kms.api.key.metadata', request, meta, keys());
  }
  @RpcHandler('kms.api.key.wrap')
  wrap(request: ValidatedRequestOf<'kms.api.key.wrap'>, meta: RpcMeta) {
    return answer('kms.api.key.wrap', request, meta, { ciphertext: 'Y2lwaGVy', keyVersion: { id: key.keyVersion.id } });
  }
  @RpcHandler('kms.api.key.unwrap')
  unwrap(request: ValidatedRequestOf<'kms.api.key.unwrap'>, meta: RpcMeta) {
    return answer('kms.api.key.unwrap', request, meta, { plaintext: 'cGxhaW4=', keyVersion: { id: 'v1' }, rewrappedKeyVersion: { id: 'v2' }, ciphertext: 'bmV3' });
  }
  @RpcHandler('kms.api.key.rewrap')
  rewrap(request: ValidatedRequestOf<'kms.api.key.rewrap'>, meta: RpcMeta) {
    return answer('kms.api.key.rewrap', request, meta, { ciphertext: 'bmV3', keyVersion: { id: 'v1' }, rewrappedKeyVersion: { id: 'v2' } });
  }
  @RpcHandler('kms.api.key.rotate')
  rotate(request: ValidatedRequestOf<'kms.api.key.rotate'>, meta: RpcMeta) {
    return answer('kms.api.key.rotate', request, meta, {});
  }
  @RpcHandler('kms.api.key.disable')
  disable(request: ValidatedRequestOf<'kms.api.key.disable'>, meta: RpcMeta) {
    return answer('kms.api.key.disable', request, meta, {});
  }
  @RpcHandler('kms.api.key.enable')
  enable(request: ValidatedRequestOf<'kms.api.key.enable'>, meta: RpcMeta) {
    return answer('kms.api.key.enable', request, meta, {});
  }
  @RpcHandler('kms.api.key.set-for-deletion')
  setForDeletion(request: ValidatedRequestOf<'kms.api.key.set-for-deletion'>, meta: RpcMeta) {
    return answer('kms.api.key.set-for-deletion', request, meta, {});
  }
  @RpcHandler('kms.api.key.unset-for-deletion')
  unsetForDeletion(request: ValidatedRequestOf<'kms.api.key.unset-for-deletion'>, meta: RpcMeta) {
    return answer('kms.api.key.unset-for-deletion', request, meta, {});
  }
  @RpcHandler('kms.api.key.delete')
  delete(request: ValidatedRequestOf<'kms.api.key.delete'>, meta: RpcMeta) {
    return answer('kms.api.key.delete', request, meta, keys());
  }
  @RpcHandler('kms.api.key.restore')
  restore(request: ValidatedRequestOf<'kms.api.key.restore'>, meta: RpcMeta) {
    return answer('kms.api.key.restore', request, meta, keys());
  }
  @RpcHandler('kms.api.key.purge')
  purge(request: ValidatedRequestOf<'kms.api.key.purge'>, meta: RpcMeta) {
    return answer('kms.api.key.purge', request, meta, keys());
  }
  @RpcHandler('kms.api.key.versions')
  versions(request: ValidatedRequestOf<'kms.api.key.versions'>, meta: RpcMeta) {
    return answer('kms.api.key.versions', request, meta, { metadata: { collectionType: KmsWire.KEY_VERSION_COLLECTION_TYPE, collectionTotal: 0 }, resources: [] });
  }
  @RpcHandler('kms.api.key.alias.create')
  createAlias(request: ValidatedRequestOf<'kms.api.key.alias.create'>, meta: RpcMeta) {
    return answer('kms.api.key.alias.create', request, meta, {
      metadata: { collectionType: KmsWire.ALIAS_COLLECTION_TYPE, collectionTotal: 1 },
      resources: [{ keyId: KEY_ID, alias: request.alias, createdBy: 'x', creationDate: '2026-01-01T00:00:00.000Z' }],
    });
  }
  @RpcHandler('kms.api.key.alias.delete')
  deleteAlias(request: ValidatedRequestOf<'kms.api.key.alias.delete'>, meta: RpcMeta) {
    return answer('kms.api.key.alias.delete', request, meta, {});
  }
  @RpcHandler('kms.api.key.policy.get')
  getPolicy(request: ValidatedRequestOf<'kms.api.key.policy.get'>, meta: RpcMeta) {
    return answer('kms.api.key.policy.get', request, meta, { metadata: { collectionType: KmsWire.POLICY_COLLECTION_TYPE, collectionTotal: 0 }, resources: [] });
  }
  @RpcHandler('kms.api.key.policy.put')
  putPolicy(request: ValidatedRequestOf<'kms.api.key.policy.put'>, meta: RpcMeta) {
    return answer('kms.api.key.policy.put', request, meta, { metadata: { collectionType: KmsWire.POLICY_COLLECTION_TYPE, collectionTotal: 0 }, resources: [] });
  }
  @RpcHandler('kms.api.registration.list')
  registrations(request: ValidatedRequestOf<'kms.api.registration.list'>, meta: RpcMeta) {
    return answer('kms.api.registration.list', request, meta, { metadata: { collectionType: KmsWire.REGISTRATION_COLLECTION_TYPE, collectionTotal: 0 }, resources: [] });
  }
  @RpcHandler('kms.api.import-token.create')
  createToken(request: ValidatedRequestOf<'kms.api.import-token.create'>, meta: RpcMeta) {
    return answer('kms.api.import-token.create', request, meta, {
      creationDate: 'c',
      expirationDate: 'e',
      expiration: request.expiration,
      maxAllowedRetrievals: request.maxAllowedRetrievals,
      remainingRetrievals: request.maxAllowedRetrievals,
    });
  }
  @RpcHandler('kms.api.import-token.get')
  getToken(request: ValidatedRequestOf<'kms.api.import-token.get'>, meta: RpcMeta) {
    return answer('kms.api.import-token.get', request, meta, {
      creationDate: 'c',
      expirationDate: 'e',
      expiration: 600,
      maxAllowedRetrievals: 1,
      remainingRetrievals: 0,
      payload: 'cGVt',
      nonce: 'bm9uY2U=',
    });
  }
  @RpcHandler('kms.api.master-key.get')
  masterKey(request: ValidatedRequestOf<'kms.api.master-key.get'>, meta: RpcMeta) {
    return answer('kms.api.master-key.get', request, meta, masterKey);
  }
  @RpcHandler('kms.api.master-key.load-part')
  loadPart(request: ValidatedRequestOf<'kms.api.master-key.load-part'>, meta: RpcMeta) {
    return answer('kms.api.master-key.load-part', request, meta, masterKey);
  }
  @RpcHandler('kms.api.master-key.zeroize')
  zeroize(request: ValidatedRequestOf<'kms.api.master-key.zeroize'>, meta: RpcMeta) {
    return answer('kms.api.master-key.zeroize', request, meta, { status: 'uninitialized', partsLoaded: 0, threshold: 2 });
  }
}

let tracing: TracingHandle;
let gateway: TestGateway;
/** Actions IAM denies (anything else is allowed). */
const deniedActions = new Set<string>();

beforeAll(async () => {
  tracing = startTracing('gateway-kms-test', { exporter: 'none' });
  gateway = await startTestGateway({
    controllers: [FakeKms],
    authorize: (request) => (deniedActions.has(request.action) ? { allowed: false, reason: 'test' } : { allowed: true, policyId: 'test' }),
  });
});

afterEach(() => {
  received.length = 0;
  instanceLookups.length = 0;
  failures.clear();
  deniedActions.clear();
  gateway.authorizations.length = 0;
});

afterAll(async () => {
  await gateway?.close();
  await tracing?.shutdown();
});

const base = '/kms/api/v2';

/** A request as the Key Protect SDK sends it: Bearer token, Bluemix-Instance, JSON (vendor) content type. */
async function kp(method: string, path: string, options: { instance?: string | null; contentType?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const request: TestRequest = {
    method,
    path: `${base}${path}`,
    headers: {
      ...await gateway.auth(),
      ...(options.instance === null ? {} : { 'bluemix-instance': options.instance ?? KP }),
      ...(options.contentType ? { 'content-type': options.contentType } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  };
  return send(gateway.url, request);
}

const last = () => received.at(-1);
const callerSeen = { ...TEST_CALLER, subType: 'user' };

describe('Key Protect routes reach their subjects', () => {
  it('POST /keys: 201, the KP collection with the key content type, the body and instance forwarded', async () => {
    const body = {
      metadata: { collectionType: KmsWire.KEY_COLLECTION_TYPE, collectionTotal: 1 },
      resources: [{ type: KmsWire.KEY_COLLECTION_TYPE, name: 'root', extractable: false, payload: 'AAAA' }],
    };
    const response = await kp('POST', '/keys', { contentType: 'application/vnd.ibm.kms.key+json', body });
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.ibm\.kms\.key\+json/);
    expect(response.json()).toEqual(keys());
    expect(last()).toEqual({
      subject: 'kms.api.key.create',
      request: { instanceId: KP, metadata: body.metadata, resources: [{ ...body.resources[0] }], returnPayload: false },
      meta: expect.objectContaining({ caller: callerSeen }),
    });
  });

  it('POST /keys with Prefer: return=representation asks kms for a standard key\'s payload and returns it; the body cannot ask for it', async () => {
    const body = { resources: [{ type: KmsWire.KEY_COLLECTION_TYPE, name: 'std', extractable: true }] };
    const full = await kp('POST', '/keys', { contentType: 'application/vnd.ibm.kms.key+json', body, headers: { prefer: 'return=representation' } });
    expect(full.status).toBe(201);
    expect(full.json()).toMatchObject({ resources: [{ extractable: true, payload: 'c3RhbmRhcmQta2V5LW1hdGVyaWFs' }] });
    expect(last()?.request).toEqual({ instanceId: KP, resources: [{ ...body.resources[0] }], returnPayload: true });

    const minimal = await kp('POST', '/keys', { contentType: 'application/vnd.ibm.kms.key+json', body: { ...body, returnPayload: true }, headers: { prefer: 'return=minimal' } });
    expect(minimal.status).toBe(201);
    expect(minimal.json()).toEqual(keys());
    expect(last()?.request).toMatchObject({ returnPayload: false });
  });

  it('GET /keys: query strings coerced (limit, offset, state list, extractable)', async () => {
    const response = await kp('GET', '/keys?limit=10&offset=5&state=1%2C5&extractable=false');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.ibm\.kms\.key\+json/);
    expect(last()?.request).toEqual({ instanceId: KP, limit: 10, offset: 5, state: [1, 5], extractable: false });
  });

  it('HEAD /keys: the total in Key-Total, no body', async () => {
    const response = await kp('HEAD', '/keys?state=1');
    expect(response.status).toBe(200);
    expect(response.headers['key-total']).toBe('42');
    expect(response.body).toHaveLength(0);
    expect(last()).toMatchObject({ subject: 'kms.api.key.count', request: { instanceId: KP, state: [1] } });
  });

  it.each([
    ['GET', `/keys/${KEY_ID}`, 'kms.api.key.get', 200],
    ['GET', '/keys/my-alias', 'kms.api.key.get', 200],
    ['GET', `/keys/${KEY_ID}/metadata`, 'kms.api.key.metadata', 200],
    ['DELETE', `/keys/${KEY_ID}/purge`, 'kms.api.key.purge', 200],
  ] as const)('%s %s → %s, %i with the key content type', async (method, path, subject, status) => {
    const response = await kp(method, path);
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.ibm\.kms\.key\+json/);
    expect(response.json()).toEqual(keys());
    expect(last()).toMatchObject({ subject, request: { instanceId: KP, id: path.split('/')[2] } });
  });

  it('GET /keys/{id} of a standard key returns its payload as kms gives it', async () => {
    const response = await kp('GET', `/keys/${STANDARD_KEY_ID}`);
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ resources: [{ id: STANDARD_KEY_ID, extractable: true, payload: 'c3RhbmRhcmQta2V5LW1hdGVyaWFs' }] });
  });

  it('wrap with an empty body (Content-Length 0, vendor type) asks for a generated key; unwrap and rewrap pass ciphertext and aad', async () => {
    const wrapped = await kp('POST', `/keys/${KEY_ID}/actions/wrap`, { contentType: 'application/vnd.ibm.kms.key_action_wrap+json', body: '' });
    expect(wrapped.status).toBe(200);
    expect(last()).toMatchObject({ subject: 'kms.api.key.wrap', request: { instanceId: KP, id: KEY_ID } });
    expect(last()?.request).not.toHaveProperty('plaintext');

    const unwrapped = await kp('POST', `/keys/${KEY_ID}/actions/unwrap`, {
      contentType: 'application/vnd.ibm.kms.key_action_unwrap+json',
      body: { ciphertext: 'Y2lwaGVy', aad: ['a'] },
    });
    expect(unwrapped.json()).toEqual({ plaintext: 'cGxhaW4=', keyVersion: { id: 'v1' }, rewrappedKeyVersion: { id: 'v2' }, ciphertext: 'bmV3' });
    expect(last()?.request).toEqual({ instanceId: KP, id: KEY_ID, ciphertext: 'Y2lwaGVy', aad: ['a'] });

    const rewrapped = await kp('POST', `/keys/${KEY_ID}/actions/rewrap`, { contentType: 'application/vnd.ibm.kms.key_action_rewrap+json', body: { ciphertext: 'Y2lwaGVy' } });
    expect(rewrapped.status).toBe(200);
    expect(last()?.subject).toBe('kms.api.key.rewrap');
  });

  it.each([
    ['rotate', 'kms.api.key.rotate', 'application/vnd.ibm.kms.key_action_rotate+json', '{}'],
    ['disable', 'kms.api.key.disable', 'application/json', ''],
    ['enable', 'kms.api.key.enable', 'application/json', ''],
    ['setKeyForDeletion', 'kms.api.key.set-for-deletion', 'application/json', ''],
    ['unsetKeyForDeletion', 'kms.api.key.unset-for-deletion', 'application/json', ''],
  ] as const)('POST actions/%s → %s, 204 with no body', async (action, subject, contentType, body) => {
    const response = await kp('POST', `/keys/${KEY_ID}/actions/${action}`, { contentType, body });
    expect(response.status).toBe(204);
    expect(response.body).toHaveLength(0);
    expect(last()).toMatchObject({ subject, request: { instanceId: KP, id: KEY_ID } });
  });

  it('rotate of an imported key forwards the new payload', async () => {
    await kp('POST', `/keys/${KEY_ID}/actions/rotate`, { contentType: 'application/vnd.ibm.kms.key_action_rotate+json', body: { payload: 'cGF5bG9hZA==' } });
    expect(last()?.request).toEqual({ instanceId: KP, id: KEY_ID, payload: 'cGF5bG9hZA==' });
  });

  it('DELETE /keys/{id}: 204 by default, 200 with the key for Prefer: return=representation; force=true forwarded', async () => {
    const minimal = await kp('DELETE', `/keys/${KEY_ID}`);
    expect(minimal.status).toBe(204);
    expect(minimal.body).toHaveLength(0);
    expect(last()?.request).toEqual({ instanceId: KP, id: KEY_ID, force: false });
    const full = await kp('DELETE', `/keys/${KEY_ID}?force=true`, { headers: { prefer: 'return=representation' } });
    expect(full.status).toBe(200);
    expect(full.headers['content-type']).toMatch(/^application\/vnd\.ibm\.kms\.key\+json/);
    expect(full.json()).toEqual(keys());
    expect(last()?.request).toEqual({ instanceId: KP, id: KEY_ID, force: true });
  });

  it('POST /keys/{id}/restore: 201 with the key (the payload of an imported key forwarded)', async () => {
    const response = await kp('POST', `/keys/${KEY_ID}/restore`, { contentType: 'application/vnd.ibm.kms.key_action_restore+json', body: { payload: 'cA==' } });
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.ibm\.kms\.key\+json/);
    expect(last()).toMatchObject({ subject: 'kms.api.key.restore', request: { instanceId: KP, id: KEY_ID, payload: 'cA==' } });
  });

  it('versions, registrations (per key and for all keys), policies, aliases', async () => {
    expect((await kp('GET', `/keys/${KEY_ID}/versions?limit=2&totalCount=true`)).status).toBe(200);
    expect(last()?.request).toEqual({ instanceId: KP, id: KEY_ID, limit: 2, offset: 0, totalCount: true });

    expect((await kp('GET', `/keys/${KEY_ID}/registrations?preventKeyDeletion=true`)).status).toBe(200);
    expect(last()?.request).toMatchObject({ instanceId: KP, id: KEY_ID, preventKeyDeletion: true });
    expect((await kp('GET', `/keys/registrations?urlEncodedResourceCRNQuery=${encodeURIComponent('crn:v1:*')}`)).status).toBe(200);
    expect(last()).toMatchObject({ subject: 'kms.api.registration.list', request: { instanceId: KP, urlEncodedResourceCRNQuery: 'crn:v1:*' } });
    expect(last()?.request).not.toHaveProperty('id');

    expect((await kp('GET', `/keys/${KEY_ID}/policies?policy=rotation`)).status).toBe(200);
    expect(last()?.request).toEqual({ instanceId: KP, id: KEY_ID, policy: 'rotation' });
    const policy = { metadata: { collectionType: KmsWire.POLICY_COLLECTION_TYPE, collectionTotal: 1 }, resources: [{ type: KmsWire.POLICY_COLLECTION_TYPE, dualAuthDelete: { enabled: true } }] };
    expect((await kp('PUT', `/keys/${KEY_ID}/policies?policy=dualAuthDelete`, { contentType: 'application/json', body: policy })).status).toBe(200);
    expect(last()?.request).toMatchObject({ instanceId: KP, id: KEY_ID, policy: 'dualAuthDelete', resources: policy.resources });

    const alias = await kp('POST', `/keys/${KEY_ID}/aliases/my-alias`, { contentType: 'application/json', body: '' });
    expect(alias.status).toBe(201);
    expect(last()?.request).toEqual({ instanceId: KP, id: KEY_ID, alias: 'my-alias' });
    expect((await kp('DELETE', `/keys/${KEY_ID}/aliases/my-alias`)).status).toBe(204);
  });

  it('import token: POST (defaults applied) and GET', async () => {
    const created = await kp('POST', '/import_token', { contentType: 'application/json', body: { expiration: 900 } });
    expect(created.status).toBe(200);
    expect(last()?.request).toEqual({ instanceId: KP, expiration: 900, maxAllowedRetrievals: 1 });
    const token = await kp('GET', '/import_token');
    expect(token.json()).toMatchObject({ payload: 'cGVt', nonce: 'bm9uY2U=' });
  });

  it('HPCS master key: load a part, read the status, zeroize', async () => {
    const part = Buffer.alloc(32, 1).toString('base64');
    const loaded = await kp('POST', '/instance/master_key/parts', { instance: HPCS, contentType: 'application/json', body: { part } });
    expect(loaded.status).toBe(200);
    expect(loaded.json()).toEqual(masterKey);
    expect(last()?.request).toEqual({ instanceId: HPCS, part });
    expect((await kp('GET', '/instance/master_key', { instance: HPCS })).json()).toEqual(masterKey);
    expect((await kp('DELETE', '/instance/master_key', { instance: HPCS })).json()).toMatchObject({ status: 'uninitialized' });
  });
});

describe('Key Protect routes: access', () => {
  it('asks IAM about the kms action on the key of the kms instance, in the caller account', async () => {
    await kp('POST', `/keys/${KEY_ID}/actions/wrap`, { contentType: 'application/json', body: '{}' });
    expect(gateway.authorizations.at(-1)).toEqual({
      subject: { iamId: TEST_CALLER.iamId, accountId: TEST_CALLER.accountId },
      action: 'kms.key.wrap',
      resource: { accountId: TEST_CALLER.accountId, serviceName: 'kms', serviceInstance: KP, resourceType: 'key', resource: KEY_ID },
    });
  });

  it('asks IAM about the hs-crypto action and service for an HPCS-like instance', async () => {
    await kp('POST', `/keys/${KEY_ID}/actions/unwrap`, { instance: HPCS, contentType: 'application/json', body: { ciphertext: 'eA==' } });
    expect(gateway.authorizations.at(-1)).toMatchObject({
      action: 'hs-crypto.key.unwrap',
      resource: { serviceName: 'hs-crypto', serviceInstance: HPCS, resourceType: 'key', resource: KEY_ID },
    });
    await kp('POST', '/instance/master_key/parts', { instance: HPCS, contentType: 'application/json', body: { part: 'AA==' } });
    expect(gateway.authorizations.at(-1)).toMatchObject({ action: 'hs-crypto.instance.manage', resource: { serviceName: 'hs-crypto', serviceInstance: HPCS } });
  });

  it('remembers which service an instance belongs to, and forgets it when the instance is deleted', async () => {
    const instance = KP;
    await kp('GET', '/keys');
    const lookups = instanceLookups.filter((id) => id === instance).length;
    await kp('GET', '/keys');
    expect(instanceLookups.filter((id) => id === instance).length).toBe(lookups);
    const deleted: CloudEvent = {
      specversion: '1.0',
      id: randomUUID(),
      source: '/sealbox/kms',
      type: 'com.sealbox.kms.instance.deleted',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { accountId: 'someone', instanceId: 'some-instance' },
    };
    await gateway.events.publish('events.kms.instance.deleted', deleted);
    await expect
      .poll(async () => {
        await kp('GET', '/keys');
        return instanceLookups.filter((id) => id === instance).length;
      })
      .toBeGreaterThan(lookups);
  });

  it.each([
    ['a key route', 'POST', `/keys/${KEY_ID}/actions/wrap`, 'kms.key.wrap', 404, 'NOT_FOUND'],
    ['a key read', 'GET', `/keys/${KEY_ID}`, 'kms.key.read', 404, 'NOT_FOUND'],
    ['an instance route', 'POST', '/keys', 'kms.key.create', 403, 'FORBIDDEN'],
    ['the key list', 'GET', '/keys', 'kms.key.list', 403, 'FORBIDDEN'],
    ['the import token', 'GET', '/import_token', 'kms.key.import', 403, 'FORBIDDEN'],
  ] as const)('answers an unknown or foreign Bluemix-Instance on %s exactly like a denial (%i %s)', async (_, method, path, action, status, code) => {
    const body = method === 'POST' ? { contentType: 'application/json', body: path === '/keys' ? { resources: [{ name: 'root' }] } : '{}' } : {};
    deniedActions.add(action);
    const denied = expectIbmError(await kp(method, path, body), status, code);
    deniedActions.clear();
    const unknown = expectIbmError(await kp(method, path, { ...body, instance: 'no-such-instance' }), status, code);
    const foreign = expectIbmError(await kp(method, path, { ...body, instance: FOREIGN }), status, code);
    expect(unknown.errors).toEqual(denied.errors);
    expect(foreign.errors).toEqual(denied.errors);
    expect(received.filter((item) => item.subject !== 'kms.instance.get')).toEqual([]);
  });

  it('the denial does not tell a kms from an hs-crypto instance', async () => {
    deniedActions.add('kms.key.create');
    deniedActions.add('hs-crypto.key.create');
    const create = { contentType: 'application/json', body: { resources: [{ name: 'root' }] } };
    const kmsDenied = expectIbmError(await kp('POST', '/keys', create), 403, 'FORBIDDEN');
    const hpcsDenied = expectIbmError(await kp('POST', '/keys', { ...create, instance: HPCS }), 403, 'FORBIDDEN');
    expect(hpcsDenied.errors).toEqual(kmsDenied.errors);
  });

  it('requires the Bluemix-Instance header: 400 VALIDATION_FAILED naming it, before IAM', async () => {
    const body = expectIbmError(await kp('GET', '/keys', { instance: null }), 400, 'VALIDATION_FAILED');
    expect(body.errors[0]?.message).toContain('Bluemix-Instance');
    expect(gateway.authorizations).toEqual([]);
  });

  it('answers a caller without a token with 401 before asking kms anything', async () => {
    const response = await send(gateway.url, { path: `${base}/keys`, headers: { 'bluemix-instance': KP } });
    expectIbmError(response, 401, 'UNAUTHORIZED');
    expect(instanceLookups).toEqual([]);
  });
});

describe('Key Protect routes: errors', () => {
  it.each([
    ['kms.api.key.wrap', 'KEY_DISABLED', 409],
    ['kms.api.key.wrap', 'INSTANCE_NOT_INITIALIZED', 409],
    ['kms.api.key.wrap', 'INVALID_PLAINTEXT', 400],
    ['kms.api.key.wrap', 'KEY_DESTROYED', 410],
    ['kms.api.key.wrap', 'SERVICE_UNAVAILABLE', 503],
    ['kms.api.key.wrap', 'KEY_ROOT_REQ_ERR', 400],
  ] as const)('%s failing with %s answers %i in the IBM error shape', async (subject, code, status) => {
    failures.set(subject, code);
    expectIbmError(await kp('POST', `/keys/${KEY_ID}/actions/wrap`, { contentType: 'application/json', body: '{}' }), status, code);
  });

  it.each([
    ['unwrap', 'INVALID_CIPHERTEXT', 400],
    ['unwrap', 'INTEGRITY_FAILED', 422],
    ['unwrap', 'KEY_ROOT_REQ_ERR', 400],
  ] as const)('%s failing with %s answers %i', async (action, code, status) => {
    failures.set('kms.api.key.unwrap', code);
    expectIbmError(await kp('POST', `/keys/${KEY_ID}/actions/${action}`, { contentType: 'application/json', body: { ciphertext: 'eA==' } }), status, code);
  });

  it('delete prevented, dual authorization, purge too early, restore expired', async () => {
    failures.set('kms.api.key.delete', 'KEY_DELETION_PREVENTED');
    expectIbmError(await kp('DELETE', `/keys/${KEY_ID}`), 409, 'KEY_DELETION_PREVENTED');
    failures.set('kms.api.key.delete', 'DUAL_AUTH_REQUIRED');
    expectIbmError(await kp('DELETE', `/keys/${KEY_ID}`), 409, 'DUAL_AUTH_REQUIRED');
    failures.set('kms.api.key.purge', 'REQ_TOO_EARLY_ERR');
    expectIbmError(await kp('DELETE', `/keys/${KEY_ID}/purge`), 409, 'REQ_TOO_EARLY_ERR');
    failures.set('kms.api.key.restore', 'KEY_RESTORE_EXPIRED');
    expectIbmError(await kp('POST', `/keys/${KEY_ID}/restore`, { contentType: 'application/json', body: '' }), 410, 'KEY_RESTORE_EXPIRED');
  });

  it.each([
    ['a limit over 5000', 'GET', '/keys?limit=5001', undefined],
    ['a state that does not exist', 'GET', '/keys?state=4', undefined],
    ['a non-boolean extractable', 'GET', '/keys?extractable=maybe', undefined],
    ['two keys in one create', 'POST', '/keys', { resources: [{ name: 'a1' }, { name: 'a2' }] }],
    ['a key without a name', 'POST', '/keys', { resources: [{}] }],
    ['aad that is not a list', 'POST', `/keys/${KEY_ID}/actions/wrap`, { aad: 'x' }],
    ['an unwrap without ciphertext', 'POST', `/keys/${KEY_ID}/actions/unwrap`, {}],
    ['an import token that expires too soon', 'POST', '/import_token', { expiration: 10 }],
    ['an alias shaped like a UUID', 'POST', `/keys/${KEY_ID}/aliases/${randomUUID()}`, {}],
  ])('refuses %s at the edge with 400 VALIDATION_FAILED', async (_, method, path, body) => {
    const response = await kp(method, path, body === undefined ? {} : { contentType: 'application/json', body });
    expectIbmError(response, 400, 'VALIDATION_FAILED');
    expect(received).toEqual([]);
  });
});
