import type { Output } from './io.js';

export type OutputFormat = 'table' | 'json';

/** Columns of a table: a header and how to read the cell from a row. */
export type Columns<T> = readonly (readonly [header: string, cell: (row: T) => unknown])[];

const text = (value: unknown): string => {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

/** Rows as left-aligned columns separated by three spaces (like `ibmcloud`). */
export function table<T>(rows: readonly T[], columns: Columns<T>): string {
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, cell]) => text(cell(row))))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index]?.length ?? 0)));
  return cells.map((line) => line.map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join('   ').trimEnd()).join('\n') + '\n';
}

/** One object as `Label:   value` lines. */
export function fields(pairs: readonly (readonly [label: string, value: unknown])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length)) + 1;
  return pairs.map(([label, value]) => `${`${label}:`.padEnd(width)}   ${text(value)}`).join('\n') + '\n';
}

/** The result of a command: `json` for `--output json`, `human` otherwise. */
export function emit(out: Output, format: OutputFormat, json: unknown, human: () => string): void {
  out.write(format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : human());
}

/** The value at a dotted path (`payload`, `data.password`), or undefined. */
export function fieldAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A field as `--field` prints it: a string as it is (raw, like `vault kv get -field`), anything else as JSON. */
export const rawField = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
