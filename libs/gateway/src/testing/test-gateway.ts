import 'reflect-metadata';
import { Module, type Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  healthSubject,
  ServiceNames,
  subjectsOf,
  type IamWire,
  type ResponseOf,
  type ServiceName,
  type Subject,
  type ValidatedRequestOf,
} from '@sealbox/contracts';
import {
  addNotImplementedHandlers,
  BufferedEventPublisher,
  Clock,
  consume,
  createHttpApp,
  createLogger,
  healthReport,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  inProcessStatus,
  listen,
  PlatformModule,
  RecentEventsFeed,
  signJwt,
  SystemClock,
  type HttpOptions,
  type ReplyFrame,
  type RequestFrame,
  type TransportStatus,
} from '@sealbox/platform';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { configureGateway } from '../gateway-hooks.js';
import { GatewayModule } from '../gateway.module.js';
import { setupOpenApi } from '../openapi.js';
import { ConsoleAssets, setupConsole } from '../console.js';
import type { GatewayOptions } from '../options.js';

/**
 * How a fake service behaves: `ok` answers its health subject healthy, `degraded` answers with a
 * failing check, `absent` has no handler at all (callers time out, as with a service that is down).
 */
export type TestServiceState = 'ok' | 'degraded' | 'absent';

export type TestAuthorize = (request: ValidatedRequestOf<'iam.authorize'>) => IamWire.Decision;

export interface TestGatewayOptions {
  /** Per service; unspecified services are `ok`. */
  readonly services?: Partial<Record<ServiceName, TestServiceState>>;
  /**
   * Extra controllers in the root module: `@RpcHandler` ones replace the fallback answer of their
   * subject (also the fake IAM's), HTTP ones add routes (and need an access rule).
   */
  readonly controllers?: readonly Type<unknown>[];
  /** The fake iam's decision on `iam.authorize`; allows everything by default. */
  readonly authorize?: TestAuthorize;
  readonly transportStatus?: TransportStatus;
  readonly rpcTimeoutMs?: number;
  readonly bodyLimitBytes?: number;
  readonly tls?: HttpOptions['tls'];
  /** The edge's timeouts, connection cap and JSON depth (defaults otherwise). */
  readonly limits?: HttpOptions['limits'];
  /** Rate limits and decision cache; generous by default so tests are not limited by accident. */
  readonly gateway?: Partial<GatewayOptions>;
  readonly clock?: Clock;
  /** A folder of built console files to serve at /console (none by default, so `/` leads to /docs). */
  readonly consoleDir?: string;
}

export interface TestCaller {
  readonly iamId: string;
  readonly accountId: string;
  readonly subType?: 'user' | 'ServiceId';
}

export interface TestGateway {
  readonly app: NestFastifyApplication;
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly bus: InProcessBus;
  /** The process's event bus: audit events arrive here (`events.audit.request`). */
  readonly events: InProcessEventBus;
  /** Every route the HTTP server serves (method and URL pattern, as Fastify registered it). */
  readonly routes: readonly { readonly method: string; readonly url: string }[];
  /** Decisions the fake iam was asked for. */
  readonly authorizations: ValidatedRequestOf<'iam.authorize'>[];
  /** The revocations the fake iam lists (`iam.revocation.list`); no event is published for them. */
  readonly revoked: IamWire.Revocation[];
  /** An access token the gateway accepts (signed with the fake iam's key), for `caller`. */
  token(caller?: TestCaller, overrides?: Partial<IamWire.AccessTokenClaims>): Promise<string>;
  /** `{ authorization: 'Bearer <token>' }`. */
  auth(caller?: TestCaller): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export const TEST_BODY_LIMIT_BYTES = 1_048_576;
export const TEST_CALLER: TestCaller = { iamId: 'IBMid-test-user', accountId: 'acc-test' };
export const TEST_SIGNING_KID = 'test-key-1';

const GENEROUS: GatewayOptions = {
  rateLimitPerIp: { perSecond: 10_000, burst: 10_000 },
  rateLimitPerIdentity: { perSecond: 10_000, burst: 10_000 },
  decisionCacheTtlMs: 0,
  decisionCacheSize: 1,
  revocationReconcileMs: 0,
};

type RawHandler = (frame: RequestFrame) => Promise<ReplyFrame>;

/** A raw handler (no controller), registered like the NOT_IMPLEMENTED fallback. */
function rawHandler<S extends Subject>(subject: S, answer: (request: ValidatedRequestOf<S>) => Promise<ResponseOf<S>>): RawHandler {
  return (frame) => consume(subject, frame.d, frame.h, (request) => answer(request));
}

function healthHandler(service: ServiceName, state: 'ok' | 'degraded'): RawHandler {
  return rawHandler(healthSubject(service), () =>
    healthReport(
      service,
      state === 'ok'
        ? {}
        : {
            database: async () => {
              throw new Error('test dependency is down');
            },
          },
    ),
  );
}

/** The signing key of the fake iam, and its JWKS. */
function signingKey(): { privateKey: KeyObject; jwks: IamWire.JwksResponse } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    privateKey,
    jwks: { keys: [{ ...jwk, kty: jwk.kty ?? 'EC', kid: TEST_SIGNING_KID, alg: 'ES256', use: 'sig' }] },
  };
}

/**
 * The gateway HTTP edge exactly as `runGateway` builds it (createHttpApp, GatewayModule,
 * configureGateway, OpenAPI), but over the in-process transport, with fake services answering on a
 * microservice of the same app:
 * - every declared subject answers NOT_IMPLEMENTED unless a test controller handles it;
 * - each service's health subject answers as `options.services` says;
 * - a fake iam serves `iam.jwks.get` (tokens from `gateway.token()` verify) and `iam.authorize`
 *   (`options.authorize`, allow-all by default).
 * Listens on a free loopback port.
 */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const bus = new InProcessBus();
  const events = new InProcessEventBus();
  const eventFeed = new RecentEventsFeed(events);
  const logger = createLogger({ app: 'test', level: 'silent' });
  const clock = options.clock ?? new SystemClock();
  const gatewayOptions: GatewayOptions = { ...GENEROUS, ...options.gateway };
  const key = signingKey();
  const authorizations: ValidatedRequestOf<'iam.authorize'>[] = [];
  /** What the fake iam answers to `iam.revocation.list`. */
  const revoked: IamWire.Revocation[] = [];
  const authorize: TestAuthorize = options.authorize ?? (() => ({ allowed: true, policyId: 'test-policy' }));
  const http: HttpOptions = {
    host: '127.0.0.1',
    port: 0,
    bodyLimitBytes: options.bodyLimitBytes ?? TEST_BODY_LIMIT_BYTES,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  };

  @Module({
    imports: [
      PlatformModule.forRoot({
        logger,
        clientProxy: new InProcessClient(bus),
        rpcTimeoutMs: options.rpcTimeoutMs ?? 2000,
        eventPublisher: events,
        eventSubscriber: events,
        clock,
      }),
      GatewayModule.register({
        transportStatus: options.transportStatus ?? inProcessStatus,
        gateway: gatewayOptions,
        eventFeed,
        database: { type: 'sqlite', path: ':memory:' },
        console: new ConsoleAssets(options.consoleDir),
      }),
    ],
    controllers: [...(options.controllers ?? [])],
  })
  class TestRootModule {}

  const app = await createHttpApp(TestRootModule, http, logger);
  const routes: { method: string; url: string }[] = [];
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
  const audit = new BufferedEventPublisher(events, logger);
  configureGateway(app, gatewayOptions, audit, clock);
  const server = new InProcessServer(bus);
  for (const service of ServiceNames) {
    const state = options.services?.[service] ?? 'ok';
    if (state === 'absent') continue;
    addNotImplementedHandlers(server, subjectsOf(service));
    server.addHandler(healthSubject(service), healthHandler(service, state));
  }
  if ((options.services?.iam ?? 'ok') !== 'absent') {
    server.addHandler('iam.jwks.get', rawHandler('iam.jwks.get', async () => key.jwks));
    server.addHandler('iam.revocation.list', rawHandler('iam.revocation.list', async () => ({ revocations: [...revoked] })));
    server.addHandler(
      'iam.authorize',
      rawHandler('iam.authorize', async (request) => {
        authorizations.push(request);
        return authorize(request);
      }),
    );
  }
  app.connectMicroservice({ strategy: server });
  setupOpenApi(app);
  await setupConsole(app);

  const token = (caller: TestCaller = TEST_CALLER, overrides: Partial<IamWire.AccessTokenClaims> = {}): Promise<string> => {
    const now = Math.floor(clock.nowMs() / 1000);
    const claims: IamWire.AccessTokenClaims = {
      iss: 'sealbox-test',
      sub: caller.iamId,
      sub_type: caller.subType ?? 'user',
      iam_id: caller.iamId,
      id: caller.iamId,
      account: { bss: caller.accountId },
      grant_type: 'urn:ibm:params:oauth:grant-type:apikey',
      scope: 'ibm openid',
      jti: randomUUID(),
      iat: now,
      exp: now + 3600,
      ...overrides,
    };
    return signJwt(claims, key.privateKey, TEST_SIGNING_KID);
  };

  try {
    await app.startAllMicroservices();
    const url = await listen(app, http);
    return {
      app,
      url,
      bus,
      events,
      routes,
      authorizations,
      revoked,
      token,
      auth: async (caller) => ({ authorization: `Bearer ${await token(caller)}` }),
      close: async () => {
        await app.close();
        await audit.close(0);
        await eventFeed.close();
      },
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}
