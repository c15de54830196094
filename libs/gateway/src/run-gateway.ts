import { Module } from '@nestjs/common';
import {
  ConfigError,
  NatsEventSubscriber,
  SystemClock,
  createHttpApp,
  createLogger,
  exitOnConfigError,
  HttpSettings,
  exitOnStartupError,
  listenStartupError,
  JetStreamEventFeed,
  JetStreamPublisher,
  StartupError,
  StartupExitCode,
  StreamSettingsError,
  listen,
  loadConfig,
  postgresConfigOf,
  SpooledEventPublisher,
  natsClient,
  eventsStreamOf,
  natsConfigOf,
  natsConfigOfService,
  PlatformModule,
  setRootLogger,
  startTracing,
  tracingConfigOf,
  waitForNats,
  NATS_WAIT_BACKOFF,
  retry,
  type HttpOptions,
} from '@sealbox/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { z } from 'zod';
import { GatewayAppConfig, gatewayOptionsFrom } from './config.js';
import { configureGateway } from './gateway-hooks.js';
import { GatewayModule } from './gateway.module.js';
import { setupConsole } from './console.js';
import { setupOpenApi } from './openapi.js';

export function httpOptionsFrom(config: z.output<z.ZodObject<typeof HttpSettings>>): HttpOptions {
  const cert = config.SEALBOX_TLS_CERT_FILE;
  const key = config.SEALBOX_TLS_KEY_FILE;
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError([
      `${cert ? 'SEALBOX_TLS_KEY_FILE' : 'SEALBOX_TLS_CERT_FILE'}: is required when the other TLS file is set`,
    ]);
  }
  return {
    host: config.SEALBOX_HOST,
    port: config.SEALBOX_PORT,
    bodyLimitBytes: config.SEALBOX_BODY_LIMIT_BYTES,
    ...(cert && key ? { tls: { certFile: cert, keyFile: key } } : {}),
    limits: {
      requestTimeoutMs: config.SEALBOX_HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: config.SEALBOX_HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: config.SEALBOX_HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: config.SEALBOX_HTTP_MAX_CONNECTIONS,
      maxJsonDepth: config.SEALBOX_JSON_MAX_DEPTH,
    },
  };
}

/**
 * Start the distributed gateway. HTTP comes up at once (`/healthz` answers); NATS is connected in
 * the background with backoff, and `/readyz` stays 503 until it is.
 */
export async function runGateway(env?: Record<string, string | undefined>): Promise<NestFastifyApplication> {
  let config: GatewayAppConfig;
  let http: HttpOptions;
  let tracing: ReturnType<typeof tracingConfigOf>;
  let nats: ReturnType<typeof natsConfigOf>;
  let database: ReturnType<typeof postgresConfigOf>;
  try {
    config = loadConfig(GatewayAppConfig, env);
    http = httpOptionsFrom(config);
    tracing = tracingConfigOf(config);
    nats = natsConfigOfService(natsConfigOf(config), 'gateway');
    database = postgresConfigOf(config);
  } catch (error) {
    exitOnConfigError(error, 'sealbox gateway');
  }
  const logger = createLogger({ app: 'gateway', level: config.SEALBOX_LOG_LEVEL, format: config.SEALBOX_LOG_FORMAT });
  setRootLogger(logger);
  const tracingHandle = startTracing('gateway', tracing);
  const client = natsClient(nats, 'gateway');
  const publisher = new JetStreamPublisher(nats, 'gateway', logger, eventsStreamOf(config));
  await publisher.prepare().catch((error: unknown) => {
    if (error instanceof StreamSettingsError) exitOnStartupError(new StartupError(StartupExitCode.CONFIG, error.problem, error.fix), 'sealbox gateway');
    throw error;
  });
  const subscriber = new NatsEventSubscriber(nats, 'gateway', logger);
  const eventFeed = new JetStreamEventFeed(nats, 'gateway', logger);
  let audit: SpooledEventPublisher;
  try {
    audit = await SpooledEventPublisher.open(config.SEALBOX_AUDIT_SPOOL_DIR, publisher, logger.child({ component: 'audit' }));
  } catch (error) {
    exitOnStartupError(
      new StartupError(
        StartupExitCode.CONFIG,
        `cannot use the audit spool ${config.SEALBOX_AUDIT_SPOOL_DIR}: ${error instanceof Error ? error.message : String(error)}`,
        'give each gateway process a writable SEALBOX_AUDIT_SPOOL_DIR of its own',
      ),
      'sealbox gateway',
    );
  }
  const clock = new SystemClock();
  const gateway = gatewayOptionsFrom(config);

  @Module({
    imports: [
      PlatformModule.forRoot({
        logger,
        clientProxy: client,
        rpcTimeoutMs: config.SEALBOX_RPC_TIMEOUT_MS,
        eventPublisher: publisher,
        eventSubscriber: subscriber,
        clock,
      }),
      GatewayModule.register({ transportStatus: client, gateway, eventFeed, database }),
    ],
  })
  class GatewayRootModule {}

  const app = await createHttpApp(GatewayRootModule, http, logger);
  configureGateway(app, gateway, audit, clock);
  setupOpenApi(app);
  await setupConsole(app);
  let url: string;
  try {
    url = await listen(app, http);
  } catch (error) {
    const cannot = listenStartupError(error, http);
    if (!cannot) throw error;
    await app.close().catch(() => undefined);
    exitOnStartupError(cannot, 'sealbox gateway');
  }
  logger.info({ url }, 'gateway listening');

  const connecting = new AbortController();
  // waitForNats backs off while NATS does not answer; this backs off when it answers but the client's
  // connection still fails (refused credentials, a server going away again).
  void retry(
    async () => {
      if (!(await waitForNats(nats, logger, connecting.signal))) return;
      await client.connect();
      logger.info('gateway connected to NATS');
    },
    {
      ...NATS_WAIT_BACKOFF,
      signal: connecting.signal,
      onRetry: (error, attempt, retryInMs) =>
        logger.warn({ attempt, retryInMs, reason: error instanceof Error ? error.message : String(error) }, 'NATS connect failed; retrying'),
    },
  ).catch(() => undefined); // aborted: the gateway is stopping

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      connecting.abort();
      void app
        .close()
        .then(() => audit.close())
        .then(() => subscriber.close())
        .then(() => eventFeed.close())
        .then(() => publisher.close())
        .then(() => tracingHandle.shutdown())
        .finally(() => process.exit(0));
    });
  }
  return app;
}
