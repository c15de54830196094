import 'reflect-metadata';
import { Module, type Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { healthSubject, ServiceNames, subjectsOf, type HealthResponse, type ServiceName } from '@sealbox/contracts';
import {
  addNotImplementedHandlers,
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
  type HttpOptions,
  type TransportStatus,
} from '@sealbox/platform';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { GatewayModule } from '../gateway.module.js';
import { setupOpenApi } from '../openapi.js';

/**
 * How a fake service behaves: `ok` answers its health subject healthy, `degraded` answers with a
 * failing check, `absent` has no handler at all (callers time out, as with a service that is down).
 */
export type TestServiceState = 'ok' | 'degraded' | 'absent';

export interface TestGatewayOptions {
  /** Per service; unspecified services are `ok`. */
  readonly services?: Partial<Record<ServiceName, TestServiceState>>;
  /**
   * Extra controllers in the root module: `@RpcHandler` ones replace the NOT_IMPLEMENTED fallback of
   * their subject, HTTP ones add routes.
   */
  readonly controllers?: readonly Type<unknown>[];
  readonly transportStatus?: TransportStatus;
  readonly rpcTimeoutMs?: number;
  readonly bodyLimitBytes?: number;
  readonly tls?: HttpOptions['tls'];
}

export interface TestGateway {
  readonly app: NestFastifyApplication;
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly bus: InProcessBus;
  readonly events: InProcessEventBus;
  close(): Promise<void>;
}

export const TEST_BODY_LIMIT_BYTES = 1_048_576;

/** Health handler of a fake service, registered like the NOT_IMPLEMENTED fallback (raw, no Nest filters). */
function healthHandler(service: ServiceName, state: 'ok' | 'degraded') {
  const subject = healthSubject(service);
  return async (data: unknown, ctx: unknown): Promise<HealthResponse | Observable<never>> => {
    try {
      return await consume(subject, data, ctx, () =>
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
    } catch (error) {
      const wire = error instanceof RpcException ? error.getError() : { code: 'INTERNAL', message: 'An internal error occurred' };
      return throwError(() => wire);
    }
  };
}

/**
 * The gateway HTTP edge exactly as `runGateway` builds it (createHttpApp + GatewayModule + OpenAPI),
 * but over the in-process transport, with fake services answering on a microservice of the same
 * app: every declared subject answers NOT_IMPLEMENTED unless a test controller handles it, and each
 * service's health subject answers as `options.services` says. Listens on a free loopback port.
 */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const bus = new InProcessBus();
  const events = new InProcessEventBus();
  const logger = createLogger({ app: 'test', level: 'silent' });
  const http: HttpOptions = {
    host: '127.0.0.1',
    port: 0,
    bodyLimitBytes: options.bodyLimitBytes ?? TEST_BODY_LIMIT_BYTES,
    ...(options.tls ? { tls: options.tls } : {}),
  };

  @Module({
    imports: [
      PlatformModule.forRoot({
        logger,
        clientProxy: new InProcessClient(bus),
        rpcTimeoutMs: options.rpcTimeoutMs ?? 2000,
        eventPublisher: events,
        eventSubscriber: events,
      }),
      GatewayModule.register({ transportStatus: options.transportStatus ?? inProcessStatus }),
    ],
    controllers: [...(options.controllers ?? [])],
  })
  class TestRootModule {}

  const app = await createHttpApp(TestRootModule, http, logger);
  const server = new InProcessServer(bus);
  for (const service of ServiceNames) {
    const state = options.services?.[service] ?? 'ok';
    if (state === 'absent') continue;
    addNotImplementedHandlers(server, subjectsOf(service));
    server.addHandler(healthSubject(service), healthHandler(service, state));
  }
  app.connectMicroservice({ strategy: server });
  setupOpenApi(app);
  try {
    await app.startAllMicroservices();
    const url = await listen(app, http);
    return { app, url, bus, events, close: () => app.close() };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}
