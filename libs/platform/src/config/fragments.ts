import { z } from 'zod';
import type { EventsStreamSettings } from '../events/jetstream.js';
import { ConfigError } from './loader.js';
import type { TracingConfig } from '../tracing/sdk.js';
import type { LogLevel } from '../logging/logger.js';

/** Settings shared by several apps, composed into each app's schema. Nothing secret has a default. */

export const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const LogSettings = {
  SEALBOX_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Minimum level of log lines on stdout'),
  SEALBOX_LOG_FORMAT: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .describe('Log lines as JSON, or human-readable and coloured (pretty); auto: pretty when stdout is a terminal, JSON otherwise'),
};

export const TracingSettings = {
  SEALBOX_TRACING_EXPORTER: z
    .enum(['none', 'otlp', 'file'])
    .default('none')
    .describe('Where finished spans go: nowhere, an OTLP/HTTP collector, or a JSON-lines file'),
  SEALBOX_TRACING_OTLP_URL: z
    // http(s) only: `otel-collector:4318` parses as a URL of scheme "otel-collector" and would only
    // fail at the first export.
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional()
    .describe('OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces (exporter otlp)'),
  SEALBOX_TRACING_FILE: z.string().optional().describe('File that receives one JSON line per span (exporter file)'),
};

export const NatsSettings = {
  SEALBOX_NATS_URL: z.string().default('nats://127.0.0.1:4222').describe('NATS server(s), comma separated'),
  SEALBOX_NATS_USER: z.string().optional().describe('NATS user of this service (per-service permissions in docker/nats.conf)'),
  SEALBOX_NATS_PASSWORD: z.string().optional().describe('NATS password of this service (no default)'),
  SEALBOX_NATS_TLS_CA_FILE: z
    .string()
    .optional()
    .describe('PEM CA bundle that signed the NATS server certificate; set, the connection must be TLS (tls:// URLs)'),
  SEALBOX_NATS_TLS_CERT_FILE: z.string().optional().describe('PEM client certificate of this service, for NATS servers that verify clients (mutual TLS)'),
  SEALBOX_NATS_TLS_KEY_FILE: z.string().optional().describe('PEM private key of SEALBOX_NATS_TLS_CERT_FILE'),
  SEALBOX_EVENTS_STREAM_REPLICAS: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(5)])
    .default('auto')
    .describe('Copies of the SEALBOX_EVENTS stream: auto = 3 when the NATS cluster has 3 or more servers, else 1; reconciled at start'),
  SEALBOX_EVENTS_STREAM_STORAGE: z.enum(['file', 'memory']).default('file').describe('Where JetStream keeps the event stream (cannot change in place)'),
  SEALBOX_EVENTS_STREAM_MAX_AGE_MS: z.coerce.number().int().min(0).default(0).describe('Events older than this leave the stream (0: kept; audit trails usually want a retention set here)'),
  SEALBOX_EVENTS_STREAM_MAX_BYTES: z.coerce.number().int().min(-1).default(-1).describe('Size cap of the event stream, oldest dropped first (-1: none)'),
  SEALBOX_EVENTS_DUPLICATE_WINDOW_MS: positiveInt.default(120_000).describe('A republished event id within this window is dropped by the stream (exactly-once from the outbox)'),
  SEALBOX_RPC_TIMEOUT_MS: positiveInt.default(5000).describe('Deadline of one request to another service; then 503 SERVICE_UNAVAILABLE'),
  SEALBOX_RPC_LEAVE_ON_LAG_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .describe(
      'A service replica whose event loop is this many ms late twice in a row leaves its queue group until on time for 2 s, so other replicas take its requests (0 = never; set it only with 2 or more replicas)',
    ),
};

export const DatabaseSettings = {
  SEALBOX_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .describe('PostgreSQL connection URL (required; holds the password, so it has no default)'),
  SEALBOX_DATABASE_TLS_MODE: z
    .enum(['disable', 'require', 'verify-full'])
    .optional()
    .describe(
      'TLS to PostgreSQL: disable; require (encrypted, the server certificate is not checked); verify-full (a certificate signed by SEALBOX_DATABASE_TLS_CA_FILE, or by a public CA when that is unset, naming the host of SEALBOX_DATABASE_URL). Unset: verify-full when any SEALBOX_DATABASE_TLS_*_FILE is set, else disable',
    ),
  SEALBOX_DATABASE_TLS_CA_FILE: z.string().optional().describe('PEM CA bundle that signed the PostgreSQL server certificate (verify-full); read once at start'),
  SEALBOX_DATABASE_TLS_CERT_FILE: z
    .string()
    .optional()
    .describe('PEM client certificate of this service, for PostgreSQL servers that require one (pg_hba.conf `cert` or `clientcert=`); read once at start'),
  SEALBOX_DATABASE_TLS_KEY_FILE: z.string().optional().describe('PEM private key of SEALBOX_DATABASE_TLS_CERT_FILE; read once at start, never logged'),
};

export const HttpSettings = {
  SEALBOX_HOST: z.string().default('127.0.0.1').describe('Address the HTTP API listens on'),
  SEALBOX_PORT: port.default(8080).describe('Port the HTTP API listens on'),
  SEALBOX_TLS_CERT_FILE: z.string().optional().describe('PEM certificate chain; with the key file, serves HTTPS (TLS 1.2+)'),
  SEALBOX_TLS_KEY_FILE: z.string().optional().describe('PEM private key for SEALBOX_TLS_CERT_FILE'),
  SEALBOX_BODY_LIMIT_BYTES: positiveInt.default(1_048_576).describe('Largest accepted request body; larger is 413'),
  SEALBOX_HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(30_000).describe('Time a client has to send a whole request (headers and body); then 408'),
  SEALBOX_HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10_000).describe('Time a client has to send the request headers; then 408'),
  SEALBOX_HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5_000).describe('How long an idle keep-alive connection stays open'),
  SEALBOX_HTTP_MAX_CONNECTIONS: positiveInt.default(4096).describe('Open connections at most; further ones are closed at once'),
  SEALBOX_JSON_MAX_DEPTH: positiveInt.default(64).describe('Deepest nesting of arrays and objects in a JSON body; deeper is 400'),
};

export const DataDirSettings = {
  SEALBOX_DATA_DIR: z.string().default('./data').describe('Folder of the embedded SQLite files, object storage and keys'),
};

type Parsed<T extends Record<string, z.ZodType>> = z.output<z.ZodObject<T>>;

export function tracingConfigOf(config: Parsed<typeof TracingSettings>): TracingConfig {
  switch (config.SEALBOX_TRACING_EXPORTER) {
    case 'none':
      return { exporter: 'none' };
    case 'otlp':
      if (!config.SEALBOX_TRACING_OTLP_URL) throw new ConfigError(['SEALBOX_TRACING_OTLP_URL: is required when SEALBOX_TRACING_EXPORTER=otlp']);
      return { exporter: 'otlp', url: config.SEALBOX_TRACING_OTLP_URL };
    case 'file':
      if (!config.SEALBOX_TRACING_FILE) throw new ConfigError(['SEALBOX_TRACING_FILE: is required when SEALBOX_TRACING_EXPORTER=file']);
      return { exporter: 'file', path: config.SEALBOX_TRACING_FILE };
  }
}

export function logLevelOf(config: Parsed<typeof LogSettings>): LogLevel {
  return config.SEALBOX_LOG_LEVEL;
}

/** TLS to the NATS server: the CA that signed its certificate, and this client's own certificate and key (mutual TLS). */
export interface NatsTlsConfig {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface NatsConnectionConfig {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  /** Set: the connection is TLS (refused when the server does not offer it). */
  readonly tls?: NatsTlsConfig;
  /**
   * Where replies to this process's requests come (`<prefix>.<id>`): `_INBOX.<service>` for the
   * services, so NATS permissions can let each read its own replies only (not, say, crypto's answers
   * to secrets). Unset: nats.js's `_INBOX`.
   */
  readonly inboxPrefix?: string;
  /** Leave the queue group while the event loop is this late (ms); undefined: never. */
  readonly leaveOnLagMs?: number;
}

/** A service's NATS settings with its own reply prefix, `_INBOX.<service>`. */
export function natsConfigOfService(config: NatsConnectionConfig, service: string): NatsConnectionConfig {
  return { ...config, inboxPrefix: `_INBOX.${service}` };
}

export function natsConfigOf(config: Parsed<typeof NatsSettings>): NatsConnectionConfig {
  const { SEALBOX_NATS_TLS_CA_FILE: caFile, SEALBOX_NATS_TLS_CERT_FILE: certFile, SEALBOX_NATS_TLS_KEY_FILE: keyFile } = config;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError([
      certFile ? 'SEALBOX_NATS_TLS_KEY_FILE: is required with SEALBOX_NATS_TLS_CERT_FILE' : 'SEALBOX_NATS_TLS_CERT_FILE: is required with SEALBOX_NATS_TLS_KEY_FILE',
    ]);
  }
  const tls = caFile || certFile ? { ...(caFile ? { caFile } : {}), ...(certFile && keyFile ? { certFile, keyFile } : {}) } : undefined;
  return {
    servers: config.SEALBOX_NATS_URL.split(',').map((server) => server.trim()).filter(Boolean),
    ...(config.SEALBOX_NATS_USER ? { user: config.SEALBOX_NATS_USER } : {}),
    ...(config.SEALBOX_NATS_PASSWORD ? { pass: config.SEALBOX_NATS_PASSWORD } : {}),
    ...(tls ? { tls } : {}),
    ...(config.SEALBOX_RPC_LEAVE_ON_LAG_MS > 0 ? { leaveOnLagMs: config.SEALBOX_RPC_LEAVE_ON_LAG_MS } : {}),
  };
}

/** The events stream's settings (see EventsStreamSettings in events/jetstream.ts). */
export function eventsStreamOf(config: Parsed<typeof NatsSettings>): EventsStreamSettings {
  return {
    replicas: config.SEALBOX_EVENTS_STREAM_REPLICAS,
    storage: config.SEALBOX_EVENTS_STREAM_STORAGE,
    maxAgeMs: config.SEALBOX_EVENTS_STREAM_MAX_AGE_MS,
    maxBytes: config.SEALBOX_EVENTS_STREAM_MAX_BYTES,
    duplicateWindowMs: config.SEALBOX_EVENTS_DUPLICATE_WINDOW_MS,
  };
}
