import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { appendFileSync } from 'node:fs';
import { SEALBOX_VERSION } from '../version.js';
import { setSpansRecorded } from './tracer.js';

export type TracingConfig =
  | { readonly exporter: 'none' }
  | { readonly exporter: 'otlp'; readonly url: string }
  | { readonly exporter: 'file'; readonly path: string }
  | { readonly exporter: 'custom'; readonly spanExporter: SpanExporter };

/** One JSON line per finished span; what the e2e tier reads back across processes. */
export interface SpanRecord {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeMs: number;
  readonly durationMs: number;
  readonly attributes: Record<string, unknown>;
}

export class FileSpanExporter implements SpanExporter {
  constructor(
    private readonly path: string,
    private readonly service: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      const lines = spans.map((span) => JSON.stringify(toSpanRecord(span, this.service))).join('\n');
      if (lines) appendFileSync(this.path, `${lines}\n`, { mode: 0o600 });
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  async shutdown(): Promise<void> {}
}

export function toSpanRecord(span: ReadableSpan, service: string): SpanRecord {
  const context = span.spanContext();
  const [startSeconds, startNanos] = span.startTime;
  const [durationSeconds, durationNanos] = span.duration;
  return {
    service,
    traceId: context.traceId,
    spanId: context.spanId,
    ...(span.parentSpanContext?.spanId ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    kind: span.kind,
    startTimeMs: startSeconds * 1000 + startNanos / 1e6,
    durationMs: durationSeconds * 1000 + durationNanos / 1e6,
    attributes: { ...span.attributes },
  };
}

/** Records nothing: with exporter `none` spans still get real ids, for log correlation and error traces. */
class DiscardingProcessor implements SpanProcessor {
  onStart(): void {}
  onEnd(): void {}
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

function processorFor(config: TracingConfig, service: string): SpanProcessor {
  switch (config.exporter) {
    case 'none':
      return new DiscardingProcessor();
    case 'otlp':
      return new BatchSpanProcessor(new OTLPTraceExporter({ url: config.url }));
    case 'file':
      return new SimpleSpanProcessor(new FileSpanExporter(config.path, service));
    case 'custom':
      return new SimpleSpanProcessor(config.spanExporter);
  }
}

export interface TracingHandle {
  shutdown(): Promise<void>;
}

/**
 * Start the OpenTelemetry Node SDK for one process: W3C trace context propagation, AsyncLocalStorage
 * context, and the configured exporter. Call once, before the Nest application is created.
 */
export function startTracing(service: string, config: TracingConfig): TracingHandle {
  setSpansRecorded(config.exporter !== 'none');
  const sdk = new NodeSDK({
    serviceName: `sealbox-${service}`,
    resource: resourceFromAttributes({ 'service.version': SEALBOX_VERSION }),
    autoDetectResources: false,
    textMapPropagator: new W3CTraceContextPropagator(),
    // With nothing to export, spans are not recorded at all: the edge's request span still gets real
    // trace and span ids (for log lines, error bodies and propagation) without the cost of collecting
    // attributes, and the RPC hops make no span of their own (setSpansRecorded).
    ...(config.exporter === 'none' ? { sampler: new AlwaysOffSampler() } : {}),
    spanProcessors: [processorFor(config, service)],
    logRecordProcessors: [],
    metricReaders: [],
    instrumentations: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
