import type { NatsNode } from './infra.js';
import type { NatsClientOptions } from './nats-tls.js';
import { ServiceNames } from '@sealbox/contracts';

/** The seven processes of the distributed stack: the HTTP edge and one process per service. */
export const StackApps = ['gateway', ...ServiceNames] as const;
export type StackApp = (typeof StackApps)[number];

/** Environment of one process: exactly what it was started with, so a test can start it again. */
export type ProcessEnv = Readonly<Record<string, string>>;

/** What the global setup shares with every e2e test file (through vitest `provide`/`inject`). */
export interface StackInfo {
  /** Repository root: the cwd of every app process. */
  readonly root: string;
  /** Unique per run; also passed as an argument to every process this run starts. */
  readonly runId: string;
  /** Base URL of the gateway, e.g. `http://127.0.0.1:40123`. */
  readonly gatewayUrl: string;
  /** Temp folder of the run: logs/, spans/, s3/, softhsm/, nats/, postgres/ (the run's own cluster) and the pid file. */
  readonly workDir: string;
  /** One `<app>.spans.jsonl` per app (FileSpanExporter, one JSON line per span). */
  readonly spanDir: string;
  /** One `<app>.log` per app: stdout and stderr of every start of it. */
  readonly logDir: string;
  /** Every process started for this run, one `<pid> <name> <marker>` line each; teardown stops them all. */
  readonly pidFile: string;
  /** SEALBOX_RPC_TIMEOUT_MS of every process. */
  readonly rpcTimeoutMs: number;
  readonly natsUrl: string;
  /**
   * How the tests connect to the run's NATS (`connectNats(stack.nats)`): TLS with the tests' own client
   * certificate and user (every subject), unless SEALBOX_E2E_NATS_URL named a plain server.
   */
  readonly nats: NatsClientOptions;
  /** The nodes when the run's NATS is a cluster (SEALBOX_E2E_NATS_NODES > 1). */
  readonly natsNodes?: readonly NatsNode[];
  /** SEALBOX_NATS_* variables of docker/nats.conf's read-only `events` user (for `sealbox events tail --nats`). */
  readonly natsEventsEnv: Readonly<Record<string, string>>;
  /**
   * The run's own database, as its superuser: on the run's own cluster a URL with its TLS parameters
   * (verify-full, the superuser's client certificate), so `new pg.Client({ connectionString })` just works.
   */
  readonly databaseUrl: string;
  /** True on the run's own cluster (TLS only, one role per app); false with SEALBOX_E2E_POSTGRES_URL. */
  readonly databaseTls: boolean;
  readonly s3Endpoint: string;
  /** Where iam wrote the admin API key on its first start (mode 0600). */
  readonly adminKeyFile: string;
  /** The environment each app was started with. */
  readonly appEnv: Readonly<Record<StackApp, ProcessEnv>>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    sealbox: StackInfo;
  }
}
