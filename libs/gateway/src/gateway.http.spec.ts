import 'reflect-metadata';
import { Controller, Get } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { notFound, RpcHandler, startTracing, type RpcMeta, type TracingHandle } from '@sealbox/platform';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Public } from './auth/access.decorators.js';
import { Operation } from './openapi/operation.js';
import { expectIbmError, send, type TestResponse } from './testing/http-client.js';
import { startTestGateway, TEST_BODY_LIMIT_BYTES, TEST_CALLER, type TestGateway } from './testing/test-gateway.js';

const SECRET_DETAIL = 'postgres://admin:hunter2@db.internal/sealbox';

/** A Resource Controller create body that passes the edge's validation (lifecycle has no handler: 501). */
const RC_CREATE = { name: 'i', target: 'us-south', resource_group: 'rg', resource_plan_id: 'p' };

/** Lifecycle answering `lifecycle.instance.get` with the id and the caller it received. */
@Controller()
class EchoLifecycle {
  @RpcHandler('lifecycle.instance.get')
  async get(request: ValidatedRequestOf<'lifecycle.instance.get'>, meta: RpcMeta): Promise<ResponseOf<'lifecycle.instance.get'>> {
    // Not an instance: what arrived, for the test to look at.
    return { received: request.id, caller: meta.caller } as unknown as ResponseOf<'lifecycle.instance.get'>;
  }
}

/** Secrets failing the two ways a service can fail. */
@Controller()
class FailingSecrets {
  @RpcHandler('secrets.secret.get')
  async get(request: ValidatedRequestOf<'secrets.secret.get'>): Promise<ResponseOf<'secrets.secret.get'>> {
    throw notFound(`Secret ${request.id}`);
  }

  @RpcHandler('secrets.secret.create')
  async create(): Promise<ResponseOf<'secrets.secret.create'>> {
    throw new Error(`cannot connect to ${SECRET_DETAIL}`);
  }
}

/** kms knows every Key Protect instance as a `kms` one of the caller's account (the gateway asks before IAM). */
@Controller()
class KmsInstances {
  @RpcHandler('kms.instance.get')
  async get(request: ValidatedRequestOf<'kms.instance.get'>): Promise<ResponseOf<'kms.instance.get'>> {
    return { ...request, serviceName: 'kms', region: 'us-south', provider: 'key-protect', masterKeyStatus: 'not_applicable' };
  }
}

/** An HTTP route with a bug. */
@Controller('test')
class BrokenRoute {
  @Get('boom')
  @Public()
  @Operation({ summary: 'A route with a bug', response: null })
  boom(): never {
    throw new TypeError(`Cannot read properties of undefined (reading 'x') at ${SECRET_DETAIL}`);
  }
}

let tracing: TracingHandle;
let gateway: TestGateway;

const SM = '/secrets-manager/6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f/api/v2';
const MISSING_SECRET = '0b5571f7-21e6-42b7-91c5-3f5ac9793a46';
/** A valid createSecret body, so the request passes the edge and reaches the (failing) service. */
const ARBITRARY = JSON.stringify({ secret_type: 'arbitrary', name: 's1', payload: 'p' });

/** A POST as an authenticated caller. */
const post = async (path: string, contentType: string | undefined, body: string, headers: Record<string, string> = {}) =>
  send(gateway.url, {
    method: 'POST',
    path,
    headers: { ...await gateway.auth(), ...(contentType ? { 'content-type': contentType } : {}), ...headers },
    body,
  });

/** A GET as an authenticated caller. */
const get = async (path: string, headers: Record<string, string> = {}) => send(gateway.url, { path, headers: { ...await gateway.auth(), ...headers } });

function expectNotImplemented(response: TestResponse, subject: string): void {
  const body = expectIbmError(response, 501, 'NOT_IMPLEMENTED');
  expect(body.errors[0]?.message).toContain(subject);
}

beforeAll(async () => {
  // Real span ids, as every app has (exporter `none` still starts the SDK).
  tracing = startTracing('gateway-test', { exporter: 'none' });
  gateway = await startTestGateway({ controllers: [EchoLifecycle, FailingSecrets, KmsInstances, BrokenRoute] });
});

afterAll(async () => {
  await gateway?.close();
  await tracing?.shutdown();
});

describe('gateway HTTP edge: routing and errors', () => {
  it('answers /healthz', async () => {
    const response = await send(gateway.url, { path: '/healthz' });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', version: expect.any(String) });
  });

  it('answers an unknown route with 404 ROUTE_NOT_FOUND in the IBM error shape', async () => {
    const response = await send(gateway.url, { path: '/no/such/route' });
    const body = expectIbmError(response, 404, 'ROUTE_NOT_FOUND');
    expect(Object.keys(body).sort()).toEqual(['errors', 'status_code', 'trace']);
  });

  it('answers an unknown method on a known path with an IBM error', async () => {
    const response = await send(gateway.url, { method: 'DELETE', path: '/healthz' });
    expectIbmError(response, 404, 'ROUTE_NOT_FOUND');
  });

  it('continues an incoming traceparent: the error trace is the caller trace id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await send(gateway.url, {
      path: '/no/such/route',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(expectIbmError(response, 404, 'ROUTE_NOT_FOUND').trace).toBe(traceId);
  });

  it('hides an unexpected error in a route: 500 INTERNAL with the trace id and no internal message', async () => {
    const response = await send(gateway.url, { path: '/test/boom' });
    const body = expectIbmError(response, 500, 'INTERNAL');
    expect(body.errors[0]?.message).toBe('An internal error occurred');
    expect(response.text()).not.toContain('hunter2');
    expect(response.text()).not.toContain('TypeError');
  });

  it('hides an unexpected error in a service the same way', async () => {
    const response = await post(`${SM}/secrets`, 'application/json', ARBITRARY);
    const body = expectIbmError(response, 500, 'INTERNAL');
    expect(response.text()).not.toContain('hunter2');
    expect(body.errors[0]?.message).not.toContain('connect');
  });

  it('maps a DomainError NOT_FOUND from a service to 404 NOT_FOUND', async () => {
    const response = await get(`${SM}/secrets/${MISSING_SECRET}`);
    const body = expectIbmError(response, 404, 'NOT_FOUND');
    expect(body.errors[0]?.message).toBe(`Secret ${MISSING_SECRET} was not found`);
  });

  it('passes a percent-encoded CRN (with %2F) to lifecycle decoded, as one path parameter, with the caller', async () => {
    const response = await get('/v2/resource_instances/crn%3Av1%3Ax%2Fy');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ received: 'crn:v1:x/y', caller: { ...TEST_CALLER, subType: 'user' } });
  });

  it('passes a real-length percent-encoded CRN through (longer than Fastify\'s default 100-character parameter limit)', async () => {
    const crn = 'crn:v1:bluemix:public:secrets-manager:us-south:a/a5ebf2570dcaedf18d7ed78e216c263a:f1bc94a6-64aa-4c55-b00f-f6cd70e4b2ce::';
    const response = await get(`/v2/resource_instances/${encodeURIComponent(crn)}`);
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ received: crn });
  });

  it('answers a path parameter over the limit with an IBM 414 URI_TOO_LONG', async () => {
    const response = await get(`/v2/resource_instances/${'a'.repeat(3000)}`);
    expect(expectIbmError(response, 414, 'URI_TOO_LONG').errors[0]?.message).toContain('too long');
  });

  it('answers a malformed percent-encoding with an IBM 404 ROUTE_NOT_FOUND', async () => {
    const response = await get('/v2/resource_instances/%E0%A4%A');
    expect(expectIbmError(response, 404, 'ROUTE_NOT_FOUND').errors[0]?.message).toContain('malformed');
  });

  it('answers a subject without a handler yet with 501 NOT_IMPLEMENTED', async () => {
    expectNotImplemented(await post('/v2/resource_instances', 'application/json', JSON.stringify(RC_CREATE)), 'lifecycle.instance.create');
  });

  it('rejects an action on a key without the Bluemix-Instance header: 400 VALIDATION_FAILED naming the header', async () => {
    const response = await post('/kms/api/v2/keys/k1/actions/wrap', 'application/json', '{}');
    const body = expectIbmError(response, 400, 'VALIDATION_FAILED');
    expect(body.errors[0]?.message).toContain('Bluemix-Instance');
  });

  it('answers an unknown key action with 404 ROUTE_NOT_FOUND', async () => {
    const response = await post('/kms/api/v2/keys/k1/actions/explode', 'application/json', '{}', { 'bluemix-instance': 'i1' });
    expectIbmError(response, 404, 'ROUTE_NOT_FOUND');
  });
});

describe('gateway HTTP edge: request bodies', () => {
  it('rejects malformed JSON with 400 INVALID_BODY', async () => {
    expectIbmError(await post('/v2/resource_instances', 'application/json', '{"name": '), 400, 'INVALID_BODY');
  });

  it('rejects malformed JSON sent with a vendor +json type with 400 INVALID_BODY', async () => {
    const response = await post('/v2/resource_instances', 'application/vnd.ibm.kms.key+json', 'not json');
    expectIbmError(response, 400, 'INVALID_BODY');
  });

  it('rejects a JSON array body with 400 INVALID_BODY', async () => {
    expectIbmError(await post('/v2/resource_instances', 'application/json', '[1,2]'), 400, 'INVALID_BODY');
  });

  it('rejects a JSON scalar body with 400 INVALID_BODY', async () => {
    expectIbmError(await post('/v2/resource_instances', 'application/json', '"text"'), 400, 'INVALID_BODY');
  });

  it('rejects a JSON body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ blob: 'x'.repeat(TEST_BODY_LIMIT_BYTES) });
    expectIbmError(await post('/v2/resource_instances', 'application/json', body), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('accepts a JSON body just under the limit', async () => {
    const envelope = Buffer.byteLength(JSON.stringify({ ...RC_CREATE, parameters: { blob: '' } }));
    const body = JSON.stringify({ ...RC_CREATE, parameters: { blob: 'x'.repeat(TEST_BODY_LIMIT_BYTES - envelope - 20) } });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(TEST_BODY_LIMIT_BYTES);
    expectNotImplemented(await post('/v2/resource_instances', 'application/json', body), 'lifecycle.instance.create');
  });

  it('rejects a text/plain body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectIbmError(await post('/v2/resource_instances', 'text/plain', 'hello'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts application/merge-patch+json (Secrets Manager PATCH)', async () => {
    const response = await post(`${SM}/secrets`, 'application/merge-patch+json', ARBITRARY);
    // Reaches the service (which fails on purpose with a 500), so parsing passed.
    expectIbmError(response, 500, 'INTERNAL');
    const parsingFailed = await post(`${SM}/secrets`, 'application/merge-patch+json', '{');
    expectIbmError(parsingFailed, 400, 'INVALID_BODY');
  });

  it('accepts application/vnd.ibm.kms.key_action_wrap+json (Key Protect wrap)', async () => {
    const response = await post(
      '/kms/api/v2/keys/k1/actions/wrap',
      'application/vnd.ibm.kms.key_action_wrap+json',
      '{"plaintext":"c2VjcmV0"}',
      { 'bluemix-instance': 'kp-1' },
    );
    expectNotImplemented(response, 'kms.api.key.wrap');
  });

  it('accepts a JSON content type with a charset parameter', async () => {
    const response = await post('/v2/resource_instances', 'application/json; charset=utf-8', JSON.stringify(RC_CREATE));
    expectNotImplemented(response, 'lifecycle.instance.create');
  });

  it('accepts application/x-www-form-urlencoded (IAM token exchange)', async () => {
    const response = await post(
      '/identity/token',
      'application/x-www-form-urlencoded',
      'grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=abc&response_type=cloud_iam',
    );
    expectNotImplemented(response, 'iam.token.exchange');
  });

  it('accepts an empty body with Content-Type: application/json (Content-Length: 0)', async () => {
    const response = await post('/kms/api/v2/keys/k1/actions/wrap', 'application/json', '', { 'bluemix-instance': 'kp-1' });
    expectNotImplemented(response, 'kms.api.key.wrap');
  });

  it('accepts an empty body with a vendor JSON type', async () => {
    const response = await post('/kms/api/v2/keys/k1/actions/wrap', 'application/vnd.ibm.kms.key_action_wrap+json', '', {
      'bluemix-instance': 'kp-1',
    });
    expectNotImplemented(response, 'kms.api.key.wrap');
  });

  it('accepts a gzip-compressed request body (SDK option enableGzipCompression)', async () => {
    const response = await send(gateway.url, {
      method: 'POST',
      path: `${SM}/secrets`,
      headers: { ...await gateway.auth(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(ARBITRARY),
    });
    // Reaches the service (which fails on purpose), so the body was inflated and parsed.
    expectIbmError(response, 500, 'INTERNAL');
  });

  it('applies the body limit to the inflated size: a small gzip bomb is 413 PAYLOAD_TOO_LARGE', async () => {
    const bomb = gzipSync(JSON.stringify({ blob: 'x'.repeat(3 * TEST_BODY_LIMIT_BYTES) }));
    expect(bomb.length).toBeLessThan(TEST_BODY_LIMIT_BYTES / 10);
    const response = await send(gateway.url, {
      method: 'POST',
      path: '/v2/resource_instances',
      headers: { ...await gateway.auth(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expectIbmError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('rejects a body that claims gzip but is not with 400 INVALID_BODY', async () => {
    const response = await send(gateway.url, {
      method: 'POST',
      path: '/v2/resource_instances',
      headers: { ...await gateway.auth(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: '{"name":"i"}',
    });
    expectIbmError(response, 400, 'INVALID_BODY');
  });

  it('rejects a form body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const body = `apikey=${'x'.repeat(TEST_BODY_LIMIT_BYTES)}`;
    expectIbmError(await post('/identity/token', 'application/x-www-form-urlencoded', body), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('accepts a POST with no body and no content type (Resource Controller lock)', async () => {
    const response = await send(gateway.url, { method: 'POST', path: '/v2/resource_instances/i-1/lock', headers: await gateway.auth() });
    expectNotImplemented(response, 'lifecycle.instance.lock');
  });
});

describe('gateway HTTP edge: OpenAPI, docs and compression', () => {
  it('serves an OpenAPI 3 document listing /healthz and /readyz', async () => {
    const response = await send(gateway.url, { path: '/openapi.json' });
    expect(response.status).toBe(200);
    const document = response.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/v2/resource_instances/{id}']));
  });

  it('serves the docs UI as HTML', async () => {
    const response = await send(gateway.url, { path: '/docs' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text()).toMatch(/<html/i);
  });

  it('gzips a large response when the client accepts gzip', async () => {
    const plain = await send(gateway.url, { path: '/openapi.json' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    const zipped = await send(gateway.url, { path: '/openapi.json', headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
  });

  it('gzips error bodies too only when they are large enough: a small error stays plain', async () => {
    const response = await send(gateway.url, { path: '/nope', headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers['content-encoding']).toBeUndefined();
    expectIbmError(response, 404, 'ROUTE_NOT_FOUND');
  });
});

describe('gateway HTTP edge: readiness', () => {
  it('tells the public only ready or not: no versions, replicas or transport', async () => {
    const response = await send(gateway.url, { path: '/readyz' });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'ready' });
    // A token that does not verify is the public answer, not a 401 (probes send none).
    expect((await send(gateway.url, { path: '/readyz', headers: { authorization: 'Bearer nope' } })).json()).toEqual({ status: 'ready' });
  });

  it('gives the report behind it to an administrator, and only to one', async () => {
    const strict = await startTestGateway({ authorize: (request) => ({ allowed: request.action === 'sealbox.readiness.read' && request.subject.iamId === 'IBMid-admin' }) });
    try {
      const viewer = await send(strict.url, { path: '/readyz', headers: await strict.auth({ iamId: 'IBMid-viewer', accountId: 'acc-test' }) });
      expect(viewer.json()).toEqual({ status: 'ready' });
      const admin = await send(strict.url, { path: '/readyz', headers: await strict.auth({ iamId: 'IBMid-admin', accountId: 'acc-test' }) });
      expect(admin.json()).toMatchObject({ status: 'ready', transport: 'in-process', services: { iam: { ok: true, replica: expect.stringContaining(':') } } });
    } finally {
      await strict.close();
    }
  });

  it('is ready (200) when every service answers its health subject', async () => {
    const response = await send(gateway.url, { path: '/readyz', headers: await gateway.auth() });
    expect(response.status).toBe(200);
    const report = response.json<{ status: string; transport: string; services: Record<string, { ok: boolean }> }>();
    expect(report.status).toBe('ready');
    expect(report.transport).toBe('in-process');
    expect(Object.keys(report.services).sort()).toEqual(['crypto', 'iam', 'kms', 'lifecycle', 'secrets', 'storage']);
    expect(Object.values(report.services).every((service) => service.ok)).toBe(true);
  });

  it('is 503 SERVICE_UNAVAILABLE naming the service that does not answer', async () => {
    const partial = await startTestGateway({ services: { lifecycle: 'absent' }, rpcTimeoutMs: 100 });
    try {
      const anonymous = expectIbmError(await send(partial.url, { path: '/readyz' }), 503, 'SERVICE_UNAVAILABLE');
      expect(anonymous.errors[0]?.message).toBe('Not ready');
      const response = await send(partial.url, { path: '/readyz', headers: await partial.auth() });
      const body = expectIbmError(response, 503, 'SERVICE_UNAVAILABLE');
      expect(body.errors[0]?.message).toContain('lifecycle (no answer)');
      for (const healthy of ['iam', 'kms', 'crypto', 'storage', 'secrets']) {
        expect(body.errors[0]?.message).not.toContain(healthy);
      }
      // A request routed to the absent service fails after the RPC deadline instead of hanging.
      const routed = await send(partial.url, { path: '/v2/resource_instances/abc', headers: await partial.auth() });
      expect(expectIbmError(routed, 503, 'SERVICE_UNAVAILABLE').errors[0]?.message).toContain('lifecycle');
      expect(routed.headers['retry-after']).toBe('1');
    } finally {
      await partial.close();
    }
  });

  it('is 503 naming a service whose health check fails, with the failing check', async () => {
    const degraded = await startTestGateway({ services: { storage: 'degraded' } });
    try {
      const body = expectIbmError(await send(degraded.url, { path: '/readyz', headers: await degraded.auth() }), 503, 'SERVICE_UNAVAILABLE');
      expect(body.errors[0]?.message).toContain('storage (database: test dependency is down)');
    } finally {
      await degraded.close();
    }
  });

  it('is 503 SERVICE_UNAVAILABLE when the transport is disconnected', async () => {
    const disconnected = await startTestGateway({
      transportStatus: { isConnected: () => false, describe: () => 'nats disconnected' },
    });
    try {
      expect(expectIbmError(await send(disconnected.url, { path: '/readyz' }), 503, 'SERVICE_UNAVAILABLE').errors[0]?.message).toBe('Not ready');
      const body = expectIbmError(await send(disconnected.url, { path: '/readyz', headers: await disconnected.auth() }), 503, 'SERVICE_UNAVAILABLE');
      expect(body.errors[0]?.message).toContain('nats disconnected');
      // Liveness does not depend on the transport.
      expect((await send(disconnected.url, { path: '/healthz' })).status).toBe(200);
    } finally {
      await disconnected.close();
    }
  });
});
