import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type SpanContext } from '@opentelemetry/api';
import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { tracer } from '../tracing/tracer.js';

const SPAN = Symbol('sealbox:request-span');

interface TracedRequest {
  [SPAN]?: Span;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  routeOptions?: { url?: string };
}

/** Fastify onRequest hook: a SERVER span per request, continuing an incoming `traceparent`. */
export function startRequestSpan(request: TracedRequest): void {
  const parent = propagation.extract(context.active(), request.headers, {
    get: (carrier, key) => {
      const value = carrier[key];
      return Array.isArray(value) ? value[0] : value;
    },
    keys: (carrier) => Object.keys(carrier),
  });
  request[SPAN] = tracer().startSpan(
    `${request.method} ${request.url.split('?')[0]}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': request.url.split('?')[0] ?? '' } },
    parent,
  );
}

/** Fastify onResponse hook. */
export function endRequestSpan(request: TracedRequest, statusCode: number): void {
  const span = request[SPAN];
  if (!span || !span.isRecording()) return;
  if (request.routeOptions?.url) {
    span.updateName(`${request.method} ${request.routeOptions.url}`);
    span.setAttribute('http.route', request.routeOptions.url);
  }
  span.setAttribute('http.response.status_code', statusCode);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

export function requestSpanContext(request: object): SpanContext | undefined {
  return (request as TracedRequest)[SPAN]?.spanContext();
}

/** Run the route handler inside the request's span, so RPC calls it makes join the same trace. */
@Injectable()
export class RequestTraceInterceptor implements NestInterceptor {
  intercept(executionContext: ExecutionContext, next: CallHandler): Observable<unknown> {
    const span = executionContext.switchToHttp().getRequest<TracedRequest>()[SPAN];
    if (!span) return next.handle();
    const active = trace.setSpan(context.active(), span);
    return new Observable((subscriber) =>
      context.with(active, () => next.handle().subscribe(subscriber)),
    );
  }
}
