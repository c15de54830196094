import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { beforeEach, describe, expect, it } from 'vitest';
import { startTracing, toSpanRecord } from './sdk.js';
import { activeTraceId, extractTraceContext, injectTraceContext, inSpan, setSpansRecorded, SpanKind } from './tracer.js';

// The global tracer provider can be registered once per process: once for this file.
const exporter = new InMemorySpanExporter();
startTracing('tracer-test', { exporter: 'custom', spanExporter: exporter });

const REMOTE_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const REMOTE_SPAN_ID = 'b7ad6b7169203331';

function only(name: string): ReadableSpan {
  const spans = exporter.getFinishedSpans().filter((span) => span.name === name);
  expect(spans).toHaveLength(1);
  return spans[0] as ReadableSpan;
}

describe('tracer', () => {
  beforeEach(() => {
    exporter.reset();
  });

  it('has no active trace outside a span', () => {
    expect(activeTraceId()).toBeUndefined();
    expect(injectTraceContext({})).toEqual({});
  });

  it('inSpan runs the function in a new active span and ends it', async () => {
    let inside: string | undefined;
    const result = await inSpan('work', SpanKind.INTERNAL, { 'sealbox.test': 'yes', count: 2 }, async () => {
      inside = activeTraceId();
      return 42;
    });
    expect(result).toBe(42);
    const span = only('work');
    expect(inside).toBe(span.spanContext().traceId);
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.attributes).toEqual({ 'sealbox.test': 'yes', count: 2 });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.ended).toBe(true);
    expect(activeTraceId()).toBeUndefined();
  });

  it('inSpan marks the span failed with the error class only, and rethrows the same error', async () => {
    class StorageDown extends Error {
      override name = 'StorageDown';
    }
    const error = new StorageDown('bucket b1 at s3://key:secret@minio is unreachable');
    await expect(inSpan('failing', SpanKind.INTERNAL, {}, async () => Promise.reject(error))).rejects.toBe(error);
    const span = only('failing');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'StorageDown' });
    expect(span.ended).toBe(true);
    await expect(inSpan('odd', SpanKind.INTERNAL, {}, async () => Promise.reject('text'))).rejects.toBe('text');
    expect(only('odd').status).toEqual({ code: SpanStatusCode.ERROR, message: 'error' });
  });

  it('nests spans in one trace', async () => {
    await inSpan('outer', SpanKind.SERVER, {}, () => inSpan('inner', SpanKind.CLIENT, {}, async () => undefined));
    const outer = only('outer');
    const inner = only('inner');
    expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
  });

  it('injects the active span as a W3C traceparent header', async () => {
    let headers: Record<string, string> = {};
    await inSpan('producer', SpanKind.PRODUCER, {}, async () => {
      headers = injectTraceContext({ existing: 'kept' });
    });
    const span = only('producer').spanContext();
    expect(headers).toEqual({ existing: 'kept', traceparent: `00-${span.traceId}-${span.spanId}-01` });
  });

  it('continues a remote trace extracted from headers', async () => {
    const parent = extractTraceContext({ traceparent: `00-${REMOTE_TRACE_ID}-${REMOTE_SPAN_ID}-01` });
    await inSpan('consumer', SpanKind.CONSUMER, {}, async () => undefined, parent);
    const span = only('consumer');
    expect(span.spanContext().traceId).toBe(REMOTE_TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(REMOTE_SPAN_ID);
    expect(span.parentSpanContext?.isRemote).toBe(true);
  });

  it('starts a new trace when the headers carry none or an invalid one', async () => {
    const carriers: (Record<string, string> | undefined)[] = [{}, { traceparent: 'garbage' }, undefined];
    for (const reader of carriers) {
      exporter.reset();
      await inSpan('root', SpanKind.CONSUMER, {}, async () => undefined, extractTraceContext(reader));
      const span = only('root');
      expect(span.parentSpanContext).toBeUndefined();
      expect(trace.isSpanContextValid(span.spanContext())).toBe(true);
      expect(span.spanContext().traceId).not.toBe(REMOTE_TRACE_ID);
    }
  });

  it('extracts into the active context when there are no headers', () => {
    expect(extractTraceContext(undefined)).toBe(context.active());
  });

  it('makes no span when spans are not recorded, yet runs in the caller trace and propagates it', async () => {
    setSpansRecorded(false);
    try {
      const parent = extractTraceContext({ traceparent: `00-${REMOTE_TRACE_ID}-${REMOTE_SPAN_ID}-01` });
      let inside: string | undefined;
      let propagated: Record<string, string> = {};
      const result = await inSpan(
        'hop',
        SpanKind.CONSUMER,
        {},
        async (span) => {
          span.setStatus({ code: SpanStatusCode.ERROR });
          inside = activeTraceId();
          propagated = injectTraceContext({});
          return 'done';
        },
        parent,
      );
      expect(result).toBe('done');
      expect(inside).toBe(REMOTE_TRACE_ID);
      expect(propagated['traceparent']).toContain(REMOTE_TRACE_ID);
      expect(exporter.getFinishedSpans()).toEqual([]);
      // Outside any trace: no trace id, and still no span.
      await inSpan('lonely', SpanKind.PRODUCER, {}, async () => {
        expect(activeTraceId()).toBeUndefined();
      });
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      setSpansRecorded(true);
    }
  });
});

describe('toSpanRecord', () => {
  beforeEach(() => {
    exporter.reset();
  });

  it('flattens a finished span into one JSON-ready record', async () => {
    await inSpan('parent', SpanKind.SERVER, {}, () => inSpan('child', SpanKind.CLIENT, { 'http.method': 'GET' }, async () => undefined));
    const parent = only('parent');
    const child = only('child');
    const record = toSpanRecord(child, 'gateway');
    expect(record).toEqual({
      service: 'gateway',
      traceId: child.spanContext().traceId,
      spanId: child.spanContext().spanId,
      parentSpanId: parent.spanContext().spanId,
      name: 'child',
      kind: SpanKind.CLIENT,
      startTimeMs: child.startTime[0] * 1000 + child.startTime[1] / 1e6,
      durationMs: child.duration[0] * 1000 + child.duration[1] / 1e6,
      attributes: { 'http.method': 'GET' },
    });
    expect(toSpanRecord(parent, 'gateway')).not.toHaveProperty('parentSpanId');
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });
});
