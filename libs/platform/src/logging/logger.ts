import type { LoggerService } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

/**
 * Paths whose values never reach a log line. Matching is by key at any of these depths; values are
 * replaced, never logged. Add a path here rather than scrubbing at call sites.
 */
export const REDACTED_PATHS = [
  'password',
  'apikey',
  'api_key',
  'token',
  'access_token',
  'refresh_token',
  'payload',
  'secret',
  'privateKey',
  'private_key',
  'plaintext',
  'dek',
  'pin',
  'authorization',
  'headers.authorization',
  'headers["iam-apikey"]',
  'req.headers.authorization',
  'req.headers["iam-apikey"]',
  'req.headers.cookie',
].flatMap((path) => [path, `*.${path}`]);

/** Key names whose values are replaced wherever they appear in a logged object (compared lower-case). */
export const SENSITIVE_KEYS = new Set([
  'password',
  'passphrase',
  'apikey',
  'api_key',
  'iam-apikey',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'payload',
  'secret',
  'secret_key',
  'secretkey',
  'client_secret',
  'privatekey',
  'private_key',
  'plaintext',
  'dek',
  'pin',
  'so_pin',
  'authorization',
  'cookie',
  'set-cookie',
  'x-auth-token',
]);

const REDACTED = '[REDACTED]';
const MAX_DEPTH = 8;

/**
 * A copy of `value` with every sensitive key's value replaced, at any depth and in any letter case
 * (pino's path redaction only reaches fixed paths). Cycles and very deep objects are cut short.
 */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1, seen));
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  // Errors keep their type, message and stack (not enumerable) and lose their secrets.
  if (value instanceof Error) return redactDeep({ ...pino.stdSerializers.err(value) }, depth, seen);
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = SENSITIVE_KEYS.has(key.toLowerCase()) ? REDACTED : redactDeep(inner, depth + 1, seen);
  }
  return copy;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerConfig {
  readonly app: string;
  readonly level: LogLevel;
  /** `auto` (default): human-readable on a terminal, JSON otherwise. */
  readonly format?: LogFormat;
}

/** Whether lines are for a person: asked for, or `auto` and stdout is a terminal. */
export const prettyLogs = (format: LogFormat | undefined, isTerminal: boolean): boolean => format === 'pretty' || ((format ?? 'auto') === 'auto' && isTerminal);

/**
 * Human-readable lines (`[12:00:01.234] INFO: [standalone] message {fields}`), coloured when the
 * terminal takes colours, written synchronously so they stay in order with other output. The same
 * records as JSON: redaction happens before.
 */
export function prettyDestination(): DestinationStream {
  return pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app', messageFormat: '{if app}[{app}] {end}{msg}', singleLine: true, destination: 1 });
}

/**
 * Root pino logger: the app name, trace id and span id of the active span on every record; JSON
 * lines to `destination`, else to stdout, written synchronously (human-readable when it is a
 * terminal, see `format`).
 */
export function createLogger(config: LoggerConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { app: config.app, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: REDACTED },
    formatters: { log: (object) => redactDeep(object) as Record<string, unknown> },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const spanContext = trace.getActiveSpan()?.spanContext();
      return spanContext && trace.isSpanContextValid(spanContext)
        ? { trace_id: spanContext.traceId, span_id: spanContext.spanId }
        : {};
    },
  };
  if (destination) return pino(options, destination);
  // Synchronous, as the pretty lines: log lines and other output (the first-start banner) stay in order.
  return pino(options, prettyLogs(config.format, process.stdout.isTTY === true) ? prettyDestination() : pino.destination({ dest: 1, sync: true }));
}

let processLogger: Logger | undefined;

/** The process-wide logger, set once at start; a quiet default keeps library code usable in tests. */
export function rootLogger(): Logger {
  processLogger ??= pino({ level: 'silent' });
  return processLogger;
}

export function setRootLogger(logger: Logger): void {
  processLogger = logger;
}

/**
 * Nest's LoggerService on top of pino, so framework lines carry the same fields. Nest's own `log`
 * lines (modules initialized, every route mapped, application started) are debug: they drowned the
 * start-up output.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    const text = message instanceof Error ? message.message : String(message);
    // A failed listen is also thrown to the app, which reports it as one start-up line: debug here.
    if (/^(Error: )?listen E[A-Z]+/.test(text)) return void this.logger.debug({ context }, text);
    this.logger.error({ context, stack: trace }, text);
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, String(message));
  }
}
