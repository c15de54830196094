import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSpanExporter, startTracing, type SpanRecord } from './sdk.js';
import { inSpan, SpanKind } from './tracer.js';

/** The file exporter is what the e2e tier reads back across processes; its dependency is the filesystem. */
const memory = new InMemorySpanExporter();
startTracing('file-exporter-test', { exporter: 'custom', spanExporter: memory });

function exportTo(exporter: FileSpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

describe('FileSpanExporter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-spans-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one JSON line per span to a file only its owner can read', async () => {
    await inSpan('outer', SpanKind.SERVER, { route: '/api' }, () => inSpan('inner', SpanKind.PRODUCER, {}, async () => undefined));
    const spans = memory.getFinishedSpans();
    const path = join(dir, 'spans.jsonl');
    const exporter = new FileSpanExporter(path, 'gateway');

    expect(await exportTo(exporter, spans)).toEqual({ code: ExportResultCode.SUCCESS });
    expect(await exportTo(exporter, [])).toEqual({ code: ExportResultCode.SUCCESS });
    expect(await exportTo(exporter, spans.slice(0, 1))).toEqual({ code: ExportResultCode.SUCCESS });

    const records = readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as SpanRecord);
    expect(records.map((record) => [record.service, record.name])).toEqual([
      ['gateway', 'inner'],
      ['gateway', 'outer'],
      ['gateway', 'inner'],
    ]);
    expect(records[0]?.traceId).toBe(records[1]?.traceId);
    expect(records[0]?.parentSpanId).toBe(records[1]?.spanId);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('reports a failed export instead of throwing', async () => {
    const exporter = new FileSpanExporter(join(dir, 'missing-folder', 'spans.jsonl'), 'gateway');
    const result = await exportTo(exporter, memory.getFinishedSpans());
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error).toBeInstanceOf(Error);
  });
});
