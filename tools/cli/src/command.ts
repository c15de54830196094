import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { usage } from './errors.js';
import type { Gateway } from './http.js';
import type { CliIo } from './io.js';
import type { OutputFormat } from './output.js';

/** parseArgs option declarations (@types/node 20 has no name for them). */
export type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** What a command runs with. */
export interface Context {
  readonly io: CliIo;
  readonly format: OutputFormat;
  readonly configDir: string;
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  /** The logged-in gateway (exit 3 when there is no session). */
  gateway(): Gateway;
}

export interface Command {
  /** The command words, e.g. `['resource', 'service-instance-create']`. */
  readonly words: readonly string[];
  /** The rest of the usage line, e.g. `NAME SERVICE PLAN LOCATION [-p JSON|@FILE]`. */
  readonly usage: string;
  readonly summary: string;
  /** node:util parseArgs options (string or boolean; `--output` and `--help` are added to every command). */
  readonly options?: ParseArgsOptionsConfig;
  /** How many positional arguments it takes: [min, max]. */
  readonly positionals?: readonly [number, number];
  run(context: Context): Promise<void>;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredOption(values: OptionValues, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw usage(`--${name} is required`);
  return value;
}

/** `VALUE`, or `@FILE` for the contents of a file (so a key or payload need not be on the command line). */
export function valueOrFile(value: string, option: string): string {
  if (!value.startsWith('@')) return value;
  try {
    return readFileSync(value.slice(1), 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw usage(`${option}: cannot read ${value.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** A JSON object given inline or as `@FILE`. */
export function jsonObjectOption(value: string, option: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(valueOrFile(value, option));
  } catch {
    throw usage(`${option} must be a JSON object (or @FILE holding one)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage(`${option} must be a JSON object (or @FILE holding one)`);
  return parsed as Record<string, unknown>;
}

/** `--timeout SECONDS` (default 300). */
export function timeoutOption(values: OptionValues): number {
  const text = stringOption(values, 'timeout');
  if (text === undefined) return 300;
  if (!/^[0-9]{1,6}$/.test(text) || Number(text) < 1) throw usage('--timeout must be a whole number of seconds (at least 1)');
  return Number(text);
}

/** `--no-wait` and `--timeout`, for commands that follow an operation to its end. */
export const waitOptions = {
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;
