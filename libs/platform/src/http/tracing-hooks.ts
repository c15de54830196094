import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type SpanContext } from '@opentelemetry/api';
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

/**
 * Fastify onRoute hook: every route handler runs inside its request's span (the active context), so
 * the RPC calls it makes join the same trace. Wrapping the handler once, when the route is
 * registered, costs one context switch per request; a Nest interceptor would put an observable
 * pipeline around every request for the same thing.
 */
export function runHandlerInRequestSpan(route: { handler: RouteHandler }): void {
  const handler = route.handler;
  route.handler = function (this: unknown, request: TracedRequest, reply: unknown) {
    const span = request[SPAN];
    if (!span) return handler.call(this, request, reply);
    return context.with(trace.setSpan(context.active(), span), () => handler.call(this, request, reply));
  } as RouteHandler;
}

type RouteHandler = (this: unknown, request: TracedRequest, reply: unknown) => unknown;
