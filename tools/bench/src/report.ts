import type { CaseResult } from './bench.js';

/** A result with its ratio to its baseline row, both measured in the same run. */
export interface ReportRow extends CaseResult {
  /** throughput / baseline throughput; absent without a baseline or when either side has no measurement. */
  readonly ratio?: number;
  /** throughput / the dependency row's throughput, likewise. */
  readonly dependencyRatio?: number;
}

export function withRatios(results: readonly CaseResult[]): ReportRow[] {
  const byName = new Map(results.map((result) => [result.name, result]));
  const ratioTo = (result: CaseResult, other: string | undefined): number | undefined => {
    const own = result.measurement?.throughput;
    const base = other === undefined ? undefined : byName.get(other)?.measurement?.throughput;
    return own !== undefined && base !== undefined && base > 0 ? own / base : undefined;
  };
  return results.map((result) => {
    const ratio = ratioTo(result, result.baseline);
    const dependencyRatio = ratioTo(result, result.dependency);
    return { ...result, ...(ratio !== undefined ? { ratio } : {}), ...(dependencyRatio !== undefined ? { dependencyRatio } : {}) };
  });
}

const DASH = '-';

export function formatRate(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return Math.round(value).toLocaleString('en-US');
}

/** Milliseconds with three decimals (sub-millisecond round trips are the point). */
export function formatMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return value.toFixed(3);
}

export function formatRatio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return `${value.toFixed(2)}x`;
}

interface Column {
  readonly header: string;
  readonly align: 'left' | 'right';
  readonly cell: (row: ReportRow) => string;
}

const COLUMNS: readonly Column[] = [
  { header: 'case', align: 'left', cell: (row) => row.name },
  { header: 'conc', align: 'right', cell: (row) => (row.measurement ? String(row.measurement.concurrency) : DASH) },
  {
    header: 'throughput',
    align: 'right',
    cell: (row) => (row.measurement ? `${formatRate(row.measurement.throughput)} ${row.measurement.unit}` : 'FAILED'),
  },
  { header: 'p50 ms', align: 'right', cell: (row) => formatMs(row.measurement?.p50Ms) },
  { header: 'p99 ms', align: 'right', cell: (row) => formatMs(row.measurement?.p99Ms) },
  { header: 'errors', align: 'right', cell: (row) => (row.measurement ? String(row.measurement.errors) : DASH) },
  { header: 'baseline', align: 'left', cell: (row) => row.baseline ?? DASH },
  { header: 'ratio', align: 'right', cell: (row) => formatRatio(row.ratio) },
];

/** A Markdown table (aligned, so it also reads as plain text), then one line per case saying what it is. */
export function formatTable(rows: readonly ReportRow[]): string {
  const cells = rows.map((row) => COLUMNS.map((column) => column.cell(row)));
  const widths = COLUMNS.map((column, index) =>
    Math.max(column.header.length, 3, ...cells.map((line) => (line[index] as string).length)),
  );
  const pad = (text: string, index: number) => {
    const width = widths[index] as number;
    return (COLUMNS[index] as Column).align === 'right' ? text.padStart(width) : text.padEnd(width);
  };
  const line = (texts: readonly string[]) => `| ${texts.map(pad).join(' | ')} |`;
  const rule = `|${COLUMNS.map((column, index) => {
    const dashes = '-'.repeat(widths[index] as number);
    return column.align === 'right' ? ` ${dashes.slice(1)}: ` : ` ${dashes} `;
  }).join('|')}|`;
  const notes = rows.map((row) => {
    const problems = row.error ?? (row.measurement?.firstError ? `first error: ${row.measurement.firstError}` : undefined);
    const dependency = row.dependency === undefined ? '' : ` (${formatRatio(row.dependencyRatio)} ${row.dependency}, the dependency it cannot avoid)`;
    return `- ${row.name}: ${row.description}${problems ? ` [${problems}]` : ''}${dependency}`;
  });
  return [
    line(COLUMNS.map((column) => column.header)),
    rule,
    ...cells.map(line),
    '',
    'ratio = throughput / baseline throughput, both measured in this run.',
    ...notes,
  ].join('\n');
}
