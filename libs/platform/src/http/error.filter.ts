import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { DomainError, RateLimitedError } from '../errors/index.js';
import { rootLogger } from '../logging/index.js';
import { databaseUnavailable, isConnectionLoss } from '../persistence/connection-loss.js';
import { activeTraceId } from '../tracing/tracer.js';
import { domainErrorFromHttp, ibmErrorBody } from './error-body.js';
import { requestSpanContext } from './tracing-hooks.js';

interface ReplyLike {
  status(code: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body: unknown): unknown;
  sent?: boolean;
}

/** What a 503 tells the client to wait: faults the stack recovers from (a replica, NATS, a connection) take about a second. */
export const SERVICE_UNAVAILABLE_RETRY_AFTER_S = 1;

/**
 * Turn any error into an IBM error body. Domain errors map by code; unknown errors are 500 with the
 * trace id and nothing else (the details go to the log).
 */
export function sendError(error: unknown, reply: ReplyLike, request?: object): void {
  const traceId = (request && requestSpanContext(request)?.traceId) ?? activeTraceId() ?? '';
  let domain = domainErrorFromHttp(error);
  if (!domain && isConnectionLoss(error)) {
    // The gateway's own database (its Idempotency-Keys) went away: a dependency down is a 503.
    rootLogger().warn({ trace: traceId, reason: error instanceof Error ? error.message : String(error) }, 'the database connection was lost');
    domain = databaseUnavailable('gateway');
  }
  if (!domain) {
    rootLogger().error({ err: error, trace: traceId }, 'unexpected error in the HTTP edge');
    domain = new DomainError('INTERNAL', 'An internal error occurred');
  }
  const { status, body } = ibmErrorBody(domain, traceId);
  if (domain.code === 'RATE_LIMITED') {
    reply.header('retry-after', String(domain instanceof RateLimitedError ? domain.retryAfterSeconds : 1));
  } else if (domain.code === 'SERVICE_UNAVAILABLE') {
    // A dependency is away (a service, NATS, the database): worth retrying soon, not hammering.
    reply.header('retry-after', String(SERVICE_UNAVAILABLE_RETRY_AFTER_S));
  }
  reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
}

@Catch()
export class IbmErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(exception, http.getResponse<ReplyLike>(), http.getRequest<object>());
  }
}
