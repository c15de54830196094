import 'reflect-metadata';
import { Controller, Get } from '@nestjs/common';
import type { CloudEvent, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { activeTraceId, ManualClock, RpcHandler, signJwt, startTracing, type RpcMeta, type TracingHandle } from '@sealbox/platform';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Public } from './auth/access.decorators.js';
import { expectIbmError, send } from './testing/http-client.js';
import { startTestGateway, TEST_CALLER, TEST_SIGNING_KID, type TestGateway } from './testing/test-gateway.js';

/** Secrets answering a read with what it was asked, to see the request got through. */
@Controller()
class EchoSecrets {
  @RpcHandler('secrets.secret.get')
  async get(request: ValidatedRequestOf<'secrets.secret.get'>, meta: RpcMeta): Promise<ResponseOf<'secrets.secret.get'>> {
    // Not a Secret: the test reads back what reached the service.
    return { id: request.id, instance: request.instanceGuid, caller: meta.caller, traceId: activeTraceId() } as unknown as ResponseOf<'secrets.secret.get'>;
  }
}

const INSTANCE = '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const SECRET = '0b5571f7-21e6-42b7-91c5-3f5ac9793a46';
const DENIED_SECRET = '1c6682f8-32f7-43c8-a2d6-4a6bd8a04b57';
const SECRET_PATH = `/secrets-manager/${INSTANCE}/api/v2/secrets/${SECRET}`;

let tracing: TracingHandle;
const started: TestGateway[] = [];
const start = async (...args: Parameters<typeof startTestGateway>) => {
  const gateway = await startTestGateway(...args);
  started.push(gateway);
  return gateway;
};

beforeAll(() => {
  tracing = startTracing('gateway-auth-test', { exporter: 'none' });
});

afterEach(async () => {
  for (const gateway of started.splice(0)) await gateway.close();
});

afterAll(async () => {
  await tracing.shutdown();
});

describe('gateway access: authentication', () => {
  it('lets an authenticated, authorized caller through, with the caller forwarded to the service', async () => {
    const gateway = await start({ controllers: [EchoSecrets] });
    const response = await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ id: SECRET, instance: INSTANCE, caller: { ...TEST_CALLER, subType: 'user' }, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('answers a protected route without a token with 401 UNAUTHORIZED, before reaching the service', async () => {
    const gateway = await start({ controllers: [EchoSecrets] });
    const body = expectIbmError(await send(gateway.url, { path: SECRET_PATH }), 401, 'UNAUTHORIZED');
    expect(body.errors[0]?.message).toContain('Bearer');
    expect(gateway.authorizations).toEqual([]);
  });

  it.each([
    ['a non-Bearer scheme', 'Basic dXNlcjpwYXNz'],
    ['a token that is not a JWT', 'Bearer not-a-jwt'],
    ['an unsigned (alg none) token', `Bearer ${Buffer.from('{"alg":"none","kid":"test-key-1"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`],
  ])('answers %s with 401 UNAUTHORIZED', async (_name, authorization) => {
    const gateway = await start({ controllers: [EchoSecrets] });
    expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: { authorization } }), 401, 'UNAUTHORIZED');
  });

  it('answers a token signed by another key under the same kid with 401 UNAUTHORIZED', async () => {
    const gateway = await start({ controllers: [EchoSecrets] });
    const genuine = await gateway.token();
    const [header, claims] = genuine.split('.');
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = await signJwt(JSON.parse(Buffer.from(claims ?? '', 'base64url').toString('utf8')) as object, forger, TEST_SIGNING_KID);
    expect(forged.split('.')[0]).toBe(header);
    expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: { authorization: `Bearer ${forged}` } }), 401, 'UNAUTHORIZED');
  });

  it('answers an expired token with 401 UNAUTHORIZED, a fresh one with 200', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 1));
    const gateway = await start({ controllers: [EchoSecrets], clock });
    const token = await gateway.token();
    expect((await send(gateway.url, { path: SECRET_PATH, headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    clock.advance(2 * 3600 * 1000);
    expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: { authorization: `Bearer ${token}` } }), 401, 'UNAUTHORIZED');
    expect((await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() })).status).toBe(200);
  });

  it('refuses a token at once when the revocation of its API key arrives on the in-process bus (standalone)', async () => {
    const gateway = await start({ controllers: [EchoSecrets] });
    const token = await gateway.token(TEST_CALLER, { apikey_id: 'ApiKey-revoked', chain_id: 'chain-1' });
    const other = await gateway.token(TEST_CALLER, { apikey_id: 'ApiKey-kept', chain_id: 'chain-2' });
    expect((await send(gateway.url, { path: SECRET_PATH, headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const data = { accountId: TEST_CALLER.accountId, kind: 'apikey', id: 'ApiKey-revoked', reason: 'apikey-deleted', expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
    await gateway.events.publish('events.iam.tokens.revoked', {
      specversion: '1.0',
      id: 'revocation-1',
      source: 'iam',
      type: 'com.sealbox.iam.tokens.revoked',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
    });
    const refused = expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: { authorization: `Bearer ${token}` } }), 401, 'UNAUTHORIZED');
    expect(refused.errors[0]?.message).toContain('revoked');
    expect((await send(gateway.url, { path: SECRET_PATH, headers: { authorization: `Bearer ${other}` } })).status).toBe(200);
  });

  it('refuses a token whose identity iam lists as revoked, from the first request', async () => {
    const gateway = await start({ controllers: [EchoSecrets] });
    gateway.revoked.push({ kind: 'identity', id: TEST_CALLER.iamId, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() }), 401, 'UNAUTHORIZED');
  });

  it('serves public routes without a token', async () => {
    const gateway = await start();
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs', '/identity/keys']) {
      expect((await send(gateway.url, { path })).status, path).toBe(200);
    }
  });

  it('answers 503 SERVICE_UNAVAILABLE on a protected route when iam cannot be reached to verify tokens', async () => {
    const gateway = await start({ services: { iam: 'absent' }, rpcTimeoutMs: 100 });
    expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() }), 503, 'SERVICE_UNAVAILABLE');
  });
});

describe('gateway access: authorization', () => {
  it('asks iam about the action on the resource addressed by the route, in the caller account', async () => {
    const gateway = await start({ controllers: [EchoSecrets] });
    await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() });
    expect(gateway.authorizations).toEqual([
      {
        subject: { iamId: TEST_CALLER.iamId, accountId: TEST_CALLER.accountId },
        action: 'secrets-manager.secret.read',
        resource: { accountId: TEST_CALLER.accountId, serviceName: 'secrets-manager', serviceInstance: INSTANCE, resourceType: 'secret', resource: SECRET },
      },
    ]);
  });

  it('answers a denied read of one item with 404 NOT_FOUND, like a missing item', async () => {
    const gateway = await start({ controllers: [EchoSecrets], authorize: () => ({ allowed: false }) });
    const body = expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() }), 404, 'NOT_FOUND');
    expect(body.errors[0]?.message).toBe('The requested resource was not found');
  });

  it('answers a denied create with 403 FORBIDDEN naming the action', async () => {
    const gateway = await start({ authorize: () => ({ allowed: false }) });
    const response = await send(gateway.url, {
      method: 'POST',
      path: `/secrets-manager/${INSTANCE}/api/v2/secrets`,
      headers: { ...await gateway.auth(), 'content-type': 'application/json' },
      body: '{"name":"s"}',
    });
    expect(expectIbmError(response, 403, 'FORBIDDEN').errors[0]?.message).toContain('secrets-manager.secret.create');
  });

  it('decides per caller: another account is asked about its own resources', async () => {
    const gateway = await start({
      controllers: [EchoSecrets],
      authorize: (request) => ({ allowed: request.subject.accountId === TEST_CALLER.accountId }),
    });
    const other = { iamId: 'IBMid-other', accountId: 'acc-other' };
    expect((await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() })).status).toBe(200);
    expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth(other) }), 404, 'NOT_FOUND');
    expect(gateway.authorizations.map((request) => request.resource.accountId)).toEqual(['acc-test', 'acc-other']);
  });

  it('refuses to start when a route declares no access rule (closed by default)', async () => {
    @Controller('unguarded')
    class UnguardedRoute {
      @Get()
      open(): string {
        return 'should never be served';
      }
    }
    await expect(startTestGateway({ controllers: [UnguardedRoute] })).rejects.toThrow(/UnguardedRoute\.open/);
  });

  it('refuses to start when a route has no @Operation (every route is in the OpenAPI document)', async () => {
    @Controller('undocumented')
    class UndocumentedRoute {
      @Get()
      @Public()
      open(): string {
        return 'should never be served';
      }
    }
    await expect(startTestGateway({ controllers: [UndocumentedRoute] })).rejects.toThrow(/without an @Operation.*UndocumentedRoute\.open/);
  });
});

describe('gateway edge: rate limits and audit', () => {
  it('limits requests per client IP with 429 RATE_LIMITED and Retry-After, then lets them through once refilled', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 1));
    const gateway = await start({ clock, gateway: { rateLimitPerIp: { perSecond: 1, burst: 2 } } });
    expect((await send(gateway.url, { path: '/healthz' })).status).toBe(200);
    expect((await send(gateway.url, { path: '/healthz' })).status).toBe(200);
    const limited = await send(gateway.url, { path: '/healthz' });
    expectIbmError(limited, 429, 'RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('1');
    // Unknown routes count too: the limit sits in front of routing.
    expectIbmError(await send(gateway.url, { path: '/nope' }), 429, 'RATE_LIMITED');
    clock.advance(1000);
    expect((await send(gateway.url, { path: '/healthz' })).status).toBe(200);
  });

  it('limits requests per identity with 429 RATE_LIMITED, independently of other identities', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 1));
    const gateway = await start({ controllers: [EchoSecrets], clock, gateway: { rateLimitPerIdentity: { perSecond: 1, burst: 1 } } });
    expect((await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() })).status).toBe(200);
    expectIbmError(await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() }), 429, 'RATE_LIMITED');
    const other = { iamId: 'IBMid-other', accountId: 'acc-test' };
    expect((await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth(other) })).status).toBe(200);
  });

  it("runs the route in the request's trace: the service it calls works in the caller's trace", async () => {
    const gateway = await start({ controllers: [EchoSecrets] });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await send(gateway.url, { path: SECRET_PATH, headers: { ...await gateway.auth(), traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ id: SECRET, traceId });
    // Without an incoming trace, the edge starts one and the service joins it.
    const fresh = await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() });
    expect((fresh.json() as { traceId?: string }).traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('publishes one audit event per request: who, what, on which resource, the outcome and the trace', async () => {
    const gateway = await start({ controllers: [EchoSecrets], authorize: (request) => ({ allowed: request.resource.resource !== DENIED_SECRET }) });
    const audited: CloudEvent[] = [];
    let notify: () => void = () => undefined;
    gateway.events.subscribe('events.audit.>', (_subject, event) => {
      audited.push(event);
      notify();
    });
    const until = (count: number) =>
      audited.length >= count ? Promise.resolve() : new Promise<void>((resolve) => (notify = () => audited.length >= count && resolve()));

    await send(gateway.url, { path: SECRET_PATH, headers: await gateway.auth() });
    const denied = await send(gateway.url, { path: `/secrets-manager/${INSTANCE}/api/v2/secrets/${DENIED_SECRET}`, headers: await gateway.auth() });
    await send(gateway.url, { path: SECRET_PATH, headers: { authorization: 'Bearer nope' } });
    await until(3);

    expect(audited.map((event) => event.type)).toEqual(Array(3).fill('com.sealbox.audit.request'));
    expect(audited.every((event) => event.source === '/sealbox/gateway')).toBe(true);
    const [allowed, refused, anonymous] = audited.map((event) => event.data as Record<string, unknown>);
    expect(allowed).toMatchObject({
      iamId: TEST_CALLER.iamId,
      accountId: TEST_CALLER.accountId,
      action: 'secrets-manager.secret.read',
      target: `crn:v1:sealbox:public:secrets-manager::a/acc-test:${INSTANCE}:secret:${SECRET}`,
      method: 'GET',
      route: '/secrets-manager/:instance_guid/api/v2/secrets/:id',
      status: 200,
      outcome: 'success',
      sourceIp: '127.0.0.1',
    });
    expect(allowed?.['traceId']).toMatch(/^[0-9a-f]{32}$/);
    expect(refused).toMatchObject({ status: 404, outcome: 'denied', traceId: expectIbmError(denied, 404, 'NOT_FOUND').trace });
    expect(anonymous).toMatchObject({ status: 401, outcome: 'denied' });
    expect(anonymous).not.toHaveProperty('iamId');
    // Never the token.
    expect(JSON.stringify(audited)).not.toMatch(/Bearer|eyJ/);
  });
});
