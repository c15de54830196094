import { Module } from '@nestjs/common';
import { GatewayModule, setupOpenApi } from '@sealbox/gateway';
import {
  createHttpApp,
  createLogger,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  inProcessStatus,
  listen,
  PlatformModule,
  RecentEventsFeed,
  setRootLogger,
  startTracing,
  type HttpOptions,
} from '@sealbox/platform';
import type { AddressInfo } from 'node:net';

/**
 * Row 2's server: the gateway's Nest/Fastify app as runGateway builds it (createHttpApp with its
 * parsers, hooks, compression, filter and interceptor; GatewayModule with every route controller;
 * OpenAPI; tracing with exporter `none` unless disabled), except that the RPC client is in-process
 * instead of NATS: /healthz never sends a request, and the row must not depend on NATS.
 */
export async function startGatewayTarget(tracing: boolean): Promise<number> {
  const logger = createLogger({ app: 'gateway', level: 'silent' });
  setRootLogger(logger);
  if (tracing) startTracing('gateway', { exporter: 'none' });

  const events = new InProcessEventBus();
  @Module({
    imports: [
      PlatformModule.forRoot({
        logger,
        clientProxy: new InProcessClient(new InProcessBus()),
        rpcTimeoutMs: 5000,
        eventPublisher: events,
      }),
      GatewayModule.register({ transportStatus: inProcessStatus, eventFeed: new RecentEventsFeed(events), database: { type: 'sqlite', path: ':memory:' } }),
    ],
  })
  class GatewayBenchModule {}

  const http: HttpOptions = { host: '127.0.0.1', port: 0, bodyLimitBytes: 1_048_576 };
  const app = await createHttpApp(GatewayBenchModule, http, logger);
  setupOpenApi(app);
  await listen(app, http);
  return (app.getHttpServer().address() as AddressInfo).port;
}
