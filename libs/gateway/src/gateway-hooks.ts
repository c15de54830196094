import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { eventSubject } from '@sealbox/contracts';
import {
  buildCloudEvent,
  Clock,
  RateLimitedError,
  requestSpanContext,
  sendError,
  type EventSink,
} from '@sealbox/platform';
import { auditOf } from './auth/audit-context.js';
import { RateLimiter } from './auth/rate-limiter.js';
import type { GatewayOptions } from './options.js';

/**
 * Edge behaviour outside Nest's routing: a per-IP rate limit before anything else (so unknown routes
 * and the token endpoint are covered too) and one audit event per request after the response.
 */
export function configureGateway(
  app: NestFastifyApplication,
  options: GatewayOptions,
  audit: EventSink,
  clock: Clock,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  const perIp = new RateLimiter(clock, options.rateLimitPerIp);

  fastify.addHook('onRequest', async (request, reply) => {
    const decision = perIp.take(request.ip);
    if (!decision.allowed) {
      sendError(new RateLimitedError(decision.retryAfterSeconds), reply, request);
      return reply;
    }
    return undefined;
  });

  fastify.addHook('onResponse', async (request, reply) => {
    const context = auditOf(request);
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const event = buildCloudEvent(
      'gateway',
      'audit.request',
      {
        ...(context.iamId ? { iamId: context.iamId } : {}),
        ...(context.accountId ? { accountId: context.accountId } : {}),
        ...(context.action ? { action: context.action } : {}),
        ...(context.target ? { target: context.target } : {}),
        method: request.method,
        route,
        status,
        outcome: context.denied || status === 401 || status === 403 ? 'denied' : status < 400 ? 'success' : 'failure',
        sourceIp: request.ip,
        traceId: requestSpanContext(request)?.traceId ?? '',
      },
      clock.now(),
    );
    audit.enqueue(eventSubject('audit.request'), event);
  });
}
