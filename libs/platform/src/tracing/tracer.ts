import { context, INVALID_SPAN_CONTEXT, propagation, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { HeaderMap } from '../rpc/headers.js';

export const tracer = () => trace.getTracer('sealbox');

/** Trace id of the active span, or undefined outside a trace. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

export function injectTraceContext(into: HeaderMap, from: Context = context.active()): HeaderMap {
  propagation.inject(from, into);
  return into;
}

export function extractTraceContext(headers: HeaderMap | undefined): Context {
  if (!headers) return context.active();
  return propagation.extract(context.active(), headers, {
    get: (carrier, key) => carrier[key] || undefined,
    keys: (carrier) => Object.keys(carrier),
  });
}

let spansRecorded = true;

/**
 * Whether spans are recorded (something exports them). When not, `inSpan` makes no span at all: the
 * context it runs in still carries the trace started at the edge (its ids are in log lines, error
 * bodies and the headers of every call), so only the per-hop span bookkeeping is skipped.
 */
export function setSpansRecorded(recorded: boolean): void {
  spansRecorded = recorded;
}

/** Run `fn` in a new active span; errors mark the span and are rethrown. */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  if (!spansRecorded) {
    const span = trace.getSpan(parent) ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    return parent === context.active() ? fn(span) : context.with(parent, () => fn(span));
  }
  return tracer().startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
