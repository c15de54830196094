import type { SpanRecord } from '@sealbox/platform';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type { SpanRecord };

/** Every span the stack's processes have written so far (all `*.jsonl` files of the span folder). */
export function readSpans(spanDir: string): SpanRecord[] {
  if (!existsSync(spanDir)) return [];
  return readdirSync(spanDir)
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) =>
      readFileSync(join(spanDir, file), 'utf8')
        .split('\n')
        // A line still being appended is not JSON yet: skip it, it is read on the next pass.
        .flatMap((line) => {
          if (!line.trim()) return [];
          try {
            return [JSON.parse(line) as SpanRecord];
          } catch {
            return [];
          }
        }),
    );
}

export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  /** W3C `traceparent` header value (sampled). */
  readonly traceparent: string;
}

/** A fresh W3C trace context, to send as the parent of a request and find its spans afterwards. */
export function newTraceContext(): TraceContext {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

export function spansOfTrace(spanDir: string, traceId: string): SpanRecord[] {
  return readSpans(spanDir).filter((span) => span.traceId === traceId);
}

/**
 * Read the spans of a trace until `complete` says all expected ones are there (spans are written
 * when they end, some after the HTTP response), or `maxPolls` passes were made.
 */
export async function waitForTrace(
  spanDir: string,
  traceId: string,
  complete: (spans: readonly SpanRecord[]) => boolean,
  options: { readonly intervalMs?: number; readonly maxPolls?: number } = {},
): Promise<SpanRecord[]> {
  const maxPolls = options.maxPolls ?? 50;
  let spans = spansOfTrace(spanDir, traceId);
  for (let polls = 1; !complete(spans) && polls < maxPolls; polls++) {
    await sleep(options.intervalMs ?? 100);
    spans = spansOfTrace(spanDir, traceId);
  }
  return spans;
}
