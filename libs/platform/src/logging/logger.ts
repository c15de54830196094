import type { LoggerService } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

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

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerConfig {
  readonly app: string;
  readonly level: LogLevel;
}

/** Root pino logger: JSON lines with the app name, trace id and span id of the active span. */
export function createLogger(config: LoggerConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { app: config.app, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const spanContext = trace.getActiveSpan()?.spanContext();
      return spanContext && trace.isSpanContextValid(spanContext)
        ? { trace_id: spanContext.traceId, span_id: spanContext.spanId }
        : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
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

/** Nest's LoggerService on top of pino, so framework lines carry the same fields. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, stack: trace }, message instanceof Error ? message.message : String(message));
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
