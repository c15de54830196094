import { Module } from '@nestjs/common';
import { allSubjects } from '@sealbox/contracts';
import { CryptoModule, cryptoOptionsFrom } from '@sealbox/crypto';
import {
  configureGateway,
  GatewayModule,
  gatewayOptionsFrom,
  httpOptionsFrom,
  SealableServer,
  setupConsole,
  setupOpenApi,
  type SealControl,
} from '@sealbox/gateway';
import { pkcs11SealOptionsFrom, SoftHsm } from '@sealbox/hsm';
import { iamDomainOptions, IamModule } from '@sealbox/iam';
import { kmsDomainOptions, KmsModule } from '@sealbox/kms';
import { lifecycleDomainOptions, LifecycleModule } from '@sealbox/lifecycle';
import {
  addNotImplementedHandlers,
  autoUnsealAtStart,
  SpooledEventPublisher,
  SystemClock,
  createHttpApp,
  createLogger,
  dataDirStartupError,
  DomainError,
  StartupError,
  StartupExitCode,
  devUnseal,
  listenStartupError,
  readSecretFile,
  SealKeeper,
  sealModeOf,
  unsealSources,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  inProcessStatus,
  loadConfig,
  PlatformModule,
  RecentEventsFeed,
  setRootLogger,
  startTracing,
  tracingConfigOf,
  type Clock,
  type DatabaseConfig,
  type KeyProtector,
} from '@sealbox/platform';
import { SecretsModule, secretsDomainOptions } from '@sealbox/secrets';
import { StorageModule } from '@sealbox/storage';
import type { ServiceName } from '@sealbox/contracts';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StandaloneAppConfig } from './config.js';

export interface StandaloneOptions {
  readonly env?: Record<string, string | undefined>;
  readonly clock?: Clock;
  /** Receives the first-start banner (stdout by default). */
  readonly announce?: (text: string) => void;
  /** Cost of the passphrase KDF (scrypt 2^N) for new unseal passphrases; tests lower it (minimum 14). */
  readonly scryptLogN?: number;
}

export interface Standalone {
  /** The HTTP app answering now: the full API, or the sealed one (health, readiness, seal endpoints). */
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly dataDir: string;
  /** Whether the key store is sealed now. */
  readonly sealed: boolean;
  /** Stop whichever app is answering. */
  close(): Promise<void>;
}

/**
 * Every service module in one process over the in-process transport: same subjects, same JSON round
 * trip, same error mapping as NATS. SQLite files, filesystem buckets and the soft HSM live under
 * SEALBOX_DATA_DIR; the soft HSM's and iam's master keys are there only wrapped by the key store's
 * seal (seal.json), which is unsealed in dev mode from DEV-ONLY-unseal.key, or by operators. While
 * sealed, only health, readiness and the seal endpoints answer. Throws a ConfigError for bad settings
 * and a StartupError (one line: what and how to fix it) for a port that cannot be listened on or a
 * data directory that cannot be used.
 */
export async function startStandalone(options: StandaloneOptions = {}): Promise<Standalone> {
  const config = loadConfig(StandaloneAppConfig, options.env);
  const http = httpOptionsFrom(config);
  const tracing = tracingConfigOf(config);
  const logger = createLogger({ app: 'standalone', level: config.SEALBOX_LOG_LEVEL, format: config.SEALBOX_LOG_FORMAT });
  setRootLogger(logger);
  const announce = options.announce ?? ((text: string) => process.stdout.write(text));

  // Everything this process creates is its own alone: SQLite files with their -wal and -shm, buckets,
  // keys (0600 files, 0700 folders), whatever the umask it was started with.
  process.umask(0o077);
  const dataDir = resolve(config.SEALBOX_DATA_DIR);
  const clock = options.clock ?? new SystemClock();
  let keeper: SealKeeper;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
    const pkcs11 = pkcs11SealOptionsFrom(config);
    const sources = unsealSources({ ...(options.scryptLogN ? { scryptLogN: options.scryptLogN } : {}), ...(pkcs11 ? { pkcs11 } : {}) });
    keeper = await SealKeeper.open({ directory: dataDir, sources, clock });
    await unsealAtStart(keeper, config, dataDir, logger, announce);
  } catch (error) {
    throw dataDirStartupError(error, dataDir) ?? error;
  }
  const tracingHandle = startTracing('standalone', tracing);
  const gateway = gatewayOptionsFrom(config);
  const hsmDirectory = join(dataDir, 'hsm');

  const server = new SealableServer({
    keeper,
    http,
    logger,
    clock,
    rateLimitPerIp: gateway.rateLimitPerIp,
    unsealedApp: (protector, seal, afterResponse) =>
      createUnsealedApp({ config, dataDir, hsmDirectory, logger, clock, gateway, http, protector, seal, afterResponse, announce: options.announce }),
    rotateMasterKey: async (protector) => {
      const hsm = new SoftHsm({ directory: hsmDirectory, protector });
      try {
        return await hsm.rotateMasterKey();
      } finally {
        await hsm.close();
      }
    },
    onStopped: () => void tracingHandle.shutdown(),
  });
  let url: string;
  try {
    url = await server.start();
  } catch (error) {
    // A cause the user can fix (the port, the data directory) as one line; the rest as it is.
    await tracingHandle.shutdown();
    throw listenStartupError(error, http) ?? dataDirStartupError(error, dataDir) ?? error;
  }
  if (server.sealed) {
    const status = keeper.status();
    const autoError = status.auto_unseal_error;
    announce(
      autoError
        ? `Sealbox is SEALED: the auto-unseal from the PKCS#11 token failed (${autoError.code}: ${autoError.message}). Fix the token or SEALBOX_SEAL_PKCS11_*, then restart or run \`sealbox operator unseal\`.\n`
        : status.initialized
        ? `Sealbox is SEALED: unseal it with \`sealbox operator unseal\` (${status.t} of ${status.n} ${status.type === 'shamir' ? 'shares' : 'secret'}); until then only /healthz, /readyz and /v1/sys/* answer.\n`
        : 'Sealbox is SEALED and not initialised: run `sealbox operator init` (a passphrase, or Shamir shares), then `sealbox operator unseal`.\n',
    );
  }
  logger.info({ url, dataDir, sealed: server.sealed }, 'sealbox standalone listening');
  return {
    get app() {
      return server.app;
    },
    get url() {
      return server.url;
    },
    get sealed() {
      return server.sealed;
    },
    dataDir,
    close: () => server.close(),
  };
}

/**
 * Dev mode unseals from DEV-ONLY-unseal.key (creating it on an empty store); a passphrase file unseals
 * in any mode; a store sealed by a PKCS#11 token unseals from it in any mode (or stays sealed, one log line).
 */
async function unsealAtStart(
  keeper: SealKeeper,
  config: StandaloneAppConfig,
  dataDir: string,
  logger: Logger,
  announce: (text: string) => void,
): Promise<void> {
  const { mode, devInProduction } = sealModeOf(config);
  const tokenLabel = config.SEALBOX_SEAL_PKCS11_TOKEN_LABEL;
  if (mode === 'dev' && !keeper.initialized && tokenLabel !== undefined) {
    // Dev mode with a token configured: still one command, but auto-unseal instead of a key file beside the data.
    try {
      await keeper.initialize('pkcs11', {});
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      throw new StartupError(
        StartupExitCode.CONFIG,
        `cannot initialise the seal with the PKCS#11 token ${tokenLabel}: ${error.code}: ${error.message}`,
        'check SEALBOX_SEAL_PKCS11_LIBRARY, SEALBOX_SEAL_PKCS11_TOKEN_LABEL and SEALBOX_SEAL_PKCS11_PIN_FILE',
      );
    }
    announce(`DEV MODE: the key store was initialised with the PKCS#11 token ${tokenLabel} and unseals itself from it (auto-unseal); no unseal key is written beside the data.\n`);
  } else if (mode === 'dev') {
    if (devInProduction) logger.warn('seal: SEALBOX_SEAL_MODE=dev with SEALBOX_ENV=production: the unseal key lies beside the data (asked for explicitly)');
    const dev = await devUnseal(keeper, dataDir);
    if (dev.unsealed) {
      announce(
        `DEV MODE: the key store is unsealed from ${dev.keyFile}${dev.initialized ? ' (created now)' : ''}. ` +
          'Anyone with a copy of the data directory can open everything: for real data set SEALBOX_SEAL_MODE=operator and rekey (sealbox operator rekey).\n',
      );
    } else if (keeper.type === 'dev-key') {
      logger.warn({ keyFile: dev.keyFile }, 'seal: the store is sealed by a dev key but its file is missing; it stays sealed');
    }
  } else if (keeper.type === 'dev-key') {
    logger.warn('seal: operator mode and a store sealed by a dev-only key: it stays sealed (unseal with the key, then rekey)');
  }
  await autoUnsealAtStart(keeper, logger);
  const passphraseFile = config.SEALBOX_UNSEAL_PASSPHRASE_FILE;
  if (keeper.sealed && keeper.initialized && passphraseFile) {
    if (keeper.type !== 'passphrase') throw new Error(`SEALBOX_UNSEAL_PASSPHRASE_FILE is set but the key store is sealed by ${keeper.type ?? 'nothing'}`);
    await keeper.unseal(await readSecretFile(passphraseFile, 'SEALBOX_UNSEAL_PASSPHRASE_FILE'));
    logger.info('seal: unsealed with SEALBOX_UNSEAL_PASSPHRASE_FILE');
  }
}

interface UnsealedAppInput {
  readonly config: StandaloneAppConfig;
  readonly dataDir: string;
  readonly hsmDirectory: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly gateway: ReturnType<typeof gatewayOptionsFrom>;
  readonly http: ReturnType<typeof httpOptionsFrom>;
  readonly protector: KeyProtector;
  readonly seal: SealControl;
  readonly afterResponse: () => void;
  readonly announce: ((text: string) => void) | undefined;
}

/** The full API over the unsealed key store, ready but not listening. */
async function createUnsealedApp(input: UnsealedAppInput): Promise<NestFastifyApplication> {
  const { config, dataDir, logger, clock, gateway, protector } = input;
  const database = (service: ServiceName | 'gateway'): DatabaseConfig => ({ type: 'sqlite', path: join(dataDir, 'db', `${service}.sqlite`) });
  const bus = new InProcessBus();
  const server = new InProcessServer(bus);
  const events = new InProcessEventBus();
  const eventFeed = new RecentEventsFeed(events);
  // Audit events wait in a spool under the data directory until delivered: a crash loses none.
  const audit = await SpooledEventPublisher.open(join(dataDir, 'audit-spool'), events, logger.child({ component: 'audit' }));

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
      GatewayModule.register({ transportStatus: inProcessStatus, gateway, eventFeed, seal: input.seal, database: database('gateway') }),
      IamModule.register({
        database: database('iam'),
        bootstrap: {
          adminKeyFile: join(dataDir, 'admin-apikey'),
          ...(input.announce ? { announce: input.announce } : {}),
        },
        iam: {
          // The clear key file of an older version is migrated into the wrapped one, then deleted.
          ...iamDomainOptions(config, join(dataDir, 'iam-master.key')),
          sealedMasterKey: { file: join(dataDir, 'iam-master.key.sealed'), protector },
        },
      }),
      KmsModule.register({
        database: database('kms'),
        hsm: { backend: 'soft', directory: input.hsmDirectory },
        hsmProtector: protector,
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
  try {
    app = await createHttpApp(StandaloneRootModule, input.http, logger);
    configureGateway(app, gateway, audit, clock);
    const afterResponse = input.afterResponse;
    app.getHttpAdapter().getInstance().addHook('onResponse', async () => afterResponse());
    // The HTTP app's guards, filters and interceptors must not apply to the RPC handlers: they run as on NATS.
    app.connectMicroservice({ strategy: server });
    await app.startAllMicroservices();
    setupOpenApi(app);
    await setupConsole(app);
    await app.init();
  } catch (error) {
    await app?.close().catch(() => undefined);
    await audit.close(0);
    await eventFeed.close();
    throw error;
  }
  app.getHttpServer().once('close', () => {
    void audit.close();
    void eventFeed.close();
  });
  return app;
}
