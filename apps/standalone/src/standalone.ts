import { Module } from '@nestjs/common';
import { allSubjects } from '@sealbox/contracts';
import { CryptoModule, cryptoOptionsFrom } from '@sealbox/crypto';
import { configureGateway, GatewayModule, gatewayOptionsFrom, httpOptionsFrom, setupOpenApi } from '@sealbox/gateway';
import { iamDomainOptions, IamModule } from '@sealbox/iam';
import { kmsDomainOptions, KmsModule } from '@sealbox/kms';
import { lifecycleDomainOptions, LifecycleModule } from '@sealbox/lifecycle';
import {
  addNotImplementedHandlers,
  BufferedEventPublisher,
  SystemClock,
  createHttpApp,
  createLogger,
  dataDirStartupError,
  listenStartupError,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  inProcessStatus,
  listen,
  loadConfig,
  PlatformModule,
  RecentEventsFeed,
  setRootLogger,
  startTracing,
  tracingConfigOf,
  type Clock,
  type DatabaseConfig,
} from '@sealbox/platform';
import { SecretsModule, secretsDomainOptions } from '@sealbox/secrets';
import { StorageModule } from '@sealbox/storage';
import type { ServiceName } from '@sealbox/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StandaloneAppConfig } from './config.js';

export interface StandaloneOptions {
  readonly env?: Record<string, string | undefined>;
  readonly clock?: Clock;
  /** Receives the first-start banner (stdout by default). */
  readonly announce?: (text: string) => void;
}

export interface Standalone {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly dataDir: string;
}

/**
 * Every service module in one process over the in-process transport: same subjects, same JSON round
 * trip, same error mapping as NATS. SQLite files, filesystem buckets and the soft HSM live under
 * SEALBOX_DATA_DIR. Throws a ConfigError for bad settings and a StartupError (one line: what and how
 * to fix it) for a port that cannot be listened on or a data directory that cannot be used.
 */
export async function startStandalone(options: StandaloneOptions = {}): Promise<Standalone> {
  const config = loadConfig(StandaloneAppConfig, options.env);
  const http = httpOptionsFrom(config);
  const tracing = tracingConfigOf(config);
  const logger = createLogger({ app: 'standalone', level: config.SEALBOX_LOG_LEVEL, format: config.SEALBOX_LOG_FORMAT });
  setRootLogger(logger);

  // Everything this process creates is its own alone: SQLite files with their -wal and -shm, buckets,
  // keys (0600 files, 0700 folders), whatever the umask it was started with.
  process.umask(0o077);
  const dataDir = resolve(config.SEALBOX_DATA_DIR);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw dataDirStartupError(error, dataDir) ?? error;
  }
  const tracingHandle = startTracing('standalone', tracing);
  const database = (service: ServiceName): DatabaseConfig => ({ type: 'sqlite', path: join(dataDir, 'db', `${service}.sqlite`) });

  const bus = new InProcessBus();
  const server = new InProcessServer(bus);
  const events = new InProcessEventBus();
  const eventFeed = new RecentEventsFeed(events);
  const clock = options.clock ?? new SystemClock();
  const gateway = gatewayOptionsFrom(config);
  const audit = new BufferedEventPublisher(events, logger.child({ component: 'audit' }));

  @Module({
    imports: [
      PlatformModule.forRoot({
        logger,
        clientProxy: new InProcessClient(bus),
        rpcTimeoutMs: config.SEALBOX_RPC_TIMEOUT_MS,
        eventPublisher: events,
        eventSubscriber: events,
        clock,
      }),
      GatewayModule.register({ transportStatus: inProcessStatus, gateway, eventFeed }),
      IamModule.register({
        database: database('iam'),
        bootstrap: {
          adminKeyFile: join(dataDir, 'admin-apikey'),
          ...(options.announce ? { announce: options.announce } : {}),
        },
        iam: iamDomainOptions(config, join(dataDir, 'iam-master.key')),
      }),
      KmsModule.register({
        database: database('kms'),
        hsm: { backend: 'soft', directory: join(dataDir, 'hsm') },
        ...kmsDomainOptions(config),
      }),
      CryptoModule.register(cryptoOptionsFrom(config)),
      StorageModule.register({ objectStore: { driver: 'filesystem', root: join(dataDir, 'objects') } }),
      SecretsModule.register({ database: database('secrets'), secrets: secretsDomainOptions(config) }),
      LifecycleModule.register({
        database: database('lifecycle'),
        lifecycle: lifecycleDomainOptions(config),
      }),
    ],
  })
  class StandaloneRootModule {}

  addNotImplementedHandlers(server, allSubjects);
  let app: NestFastifyApplication | undefined;
  let url: string;
  try {
    app = await createHttpApp(StandaloneRootModule, http, logger);
    configureGateway(app, gateway, audit, clock);
    // The HTTP app's guards, filters and interceptors must not apply to the RPC handlers: they run as on NATS.
    app.connectMicroservice({ strategy: server });
    await app.startAllMicroservices();
    setupOpenApi(app);
    url = await listen(app, http);
  } catch (error) {
    // A cause the user can fix (the port, the data directory) as one line; the rest as it is.
    await app?.close().catch(() => undefined);
    await eventFeed.close();
    await tracingHandle.shutdown();
    throw listenStartupError(error, http) ?? dataDirStartupError(error, dataDir) ?? error;
  }
  logger.info({ url, dataDir }, 'sealbox standalone listening');
  app.getHttpServer().once('close', () => {
    void eventFeed.close();
    void tracingHandle.shutdown();
  });
  return { app, url, dataDir };
}
