import { Module, type DynamicModule, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { subjectsOf, type ServiceName } from '@sealbox/contracts';
import type { z } from 'zod';
import {
  ConfigError,
  loadConfig,
  LogSettings,
  eventsStreamOf,
  natsConfigOf,
  natsConfigOfService,
  NatsSettings,
  tracingConfigOf,
  TracingSettings,
  type ConfigShape,
} from '../config/index.js';
import { JetStreamPublisher, StreamSettingsError } from '../events/jetstream.js';
import { NatsEventSubscriber } from '../events/nats-subscriber.js';
import { createLogger, PinoNestLogger, setRootLogger } from '../logging/index.js';
import { exitOnStartupError, StartupError, StartupExitCode } from './startup.js';
import { PlatformModule } from '../nest/platform.module.js';
import { addNotImplementedHandlers } from '../rpc/fallback.js';
import { natsClient, natsServer, waitForNats } from '../rpc/nats.js';
import { startTracing } from '../tracing/sdk.js';

/** Settings every distributed service reads. */
export const ServiceSettings = { ...LogSettings, ...TracingSettings, ...NatsSettings };

type ServiceConfigShape = ConfigShape & typeof ServiceSettings;

export interface RunServiceOptions<S extends z.ZodObject<ServiceConfigShape>> {
  readonly service: ServiceName;
  readonly schema: S;
  readonly module: (config: z.output<S>) => DynamicModule;
  readonly env?: Record<string, string | undefined>;
}

/** A configuration error: one line naming the variables, then exit 78 (EX_CONFIG). Anything else is thrown on. */
export function exitOnConfigError(error: unknown, app = 'sealbox'): never {
  if (error instanceof ConfigError) exitOnStartupError(error, app);
  throw error;
}

/**
 * Start one distributed service: config validated once, JSON logs, tracing, NATS (waited for with
 * backoff), the domain module as a NATS microservice in the service's queue group, and a
 * NOT_IMPLEMENTED answer for every declared subject that has no handler yet.
 */
export async function runService<S extends z.ZodObject<ServiceConfigShape>>(
  options: RunServiceOptions<S>,
): Promise<INestMicroservice> {
  let config: z.output<S>;
  let tracing: ReturnType<typeof tracingConfigOf>;
  let nats: ReturnType<typeof natsConfigOf>;
  let domainModule: DynamicModule;
  try {
    config = loadConfig(options.schema, options.env);
    tracing = tracingConfigOf(config);
    nats = natsConfigOfService(natsConfigOf(config), options.service);
    // Built here, so a setting it checks (the database's TLS files, say) refuses the start as a configuration error.
    domainModule = options.module(config);
  } catch (error) {
    exitOnConfigError(error, `sealbox ${options.service}`);
  }
  const logger = createLogger({ app: options.service, level: config.SEALBOX_LOG_LEVEL, format: config.SEALBOX_LOG_FORMAT });
  setRootLogger(logger);
  const tracingHandle = startTracing(options.service, tracing);

  await waitForNats(nats, logger);
  const publisher = new JetStreamPublisher(nats, options.service, logger, eventsStreamOf(config));
  await publisher.prepare().catch((error: unknown) => {
    if (error instanceof StreamSettingsError) exitOnStartupError(new StartupError(StartupExitCode.CONFIG, error.problem, error.fix), `sealbox ${options.service}`);
    throw error;
  });
  const subscriber = new NatsEventSubscriber(nats, options.service, logger);
  const server = natsServer(nats, options.service);
  addNotImplementedHandlers(server, subjectsOf(options.service));

  @Module({
    imports: [
      PlatformModule.forRoot({
        logger,
        clientProxy: natsClient(nats, options.service),
        rpcTimeoutMs: config.SEALBOX_RPC_TIMEOUT_MS,
        eventPublisher: publisher,
        eventSubscriber: subscriber,
      }),
      domainModule,
    ],
  })
  class ServiceRootModule {}

  const app = await NestFactory.createMicroservice(ServiceRootModule, {
    strategy: server,
    logger: new PinoNestLogger(logger),
  });
  app.enableShutdownHooks();
  await app.listen();
  logger.info({ service: options.service, queue: options.service }, 'service ready');

  const shutdown = async () => {
    await subscriber.close();
    await publisher.close();
    await tracingHandle.shutdown();
  };
  process.once('beforeExit', () => void shutdown());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void app
        .close()
        .then(shutdown)
        .finally(() => process.exit(0));
    });
  }
  return app;
}
