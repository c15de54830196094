import { usage } from './errors.js';
import type { Gateway } from './http.js';
import type { CliIo } from './io.js';
import { emit, fieldAt, rawField, table, type Columns, type OutputFormat } from './output.js';

/** Option values by long name (`instance`, `no-wait` → `wait`): strings, `true` for flags. */
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** What a command runs with. */
export interface Context {
  readonly io: CliIo;
  readonly format: OutputFormat;
  readonly configDir: string;
  /** Option values, `@FILE` and `@-` already read. */
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  /** The logged-in gateway (exit 3 when there is no session). */
  gateway(): Gateway;
}

export interface OptionSpec {
  /** Commander's flags: `-f, --force`, `--name <name>`, `--no-wait`. */
  readonly flags: string;
  readonly description: string;
  /** Accepted but not listed in help (an older spelling). */
  readonly hidden?: boolean;
}

export interface CommandSpec {
  /** The group and the verb (`['sm', 'secret-create']`), or one word at the top (`['login']`). */
  readonly words: readonly [string] | readonly [string, string];
  /** One line, in the command list. */
  readonly summary: string;
  /** More, in the command's own help. */
  readonly description?: string;
  /** Commander's arguments: `<id>`, `[version]`. */
  readonly arguments?: readonly string[];
  readonly options?: readonly OptionSpec[];
  /** Lines of the help's Examples section. */
  readonly examples?: readonly string[];
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

/** A JSON object given inline (or, like any value, as `@FILE` / `@-`). */
export function jsonObject(text: string, option: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw usage(`${option} must be a JSON object (inline, @FILE or @- for stdin)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage(`${option} must be a JSON object (inline, @FILE or @- for stdin)`);
  return parsed as Record<string, unknown>;
}

/** `a,b , c` → `['a', 'b', 'c']`. */
export const listOption = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** `--timeout SECONDS` (default 300). */
export function timeoutOption(values: OptionValues): number {
  const text = stringOption(values, 'timeout');
  if (text === undefined) return 300;
  if (!/^[0-9]{1,6}$/.test(text) || Number(text) < 1) throw usage('--timeout must be a whole number of seconds (at least 1)');
  return Number(text);
}

/** `--no-wait` and `--timeout`, for commands that follow an operation to its end. */
export const waitOptions: readonly OptionSpec[] = [
  { flags: '--no-wait', description: 'return as soon as the request is accepted' },
  { flags: '--timeout <seconds>', description: 'how long to wait for the operation (default 300)' },
];

export const waits = (context: Context): boolean => context.values['wait'] !== false;

/** `-f, --force`, on every command that cannot be undone. */
export const forceOption: OptionSpec = { flags: '-f, --force', description: 'do not ask for confirmation' };

/**
 * Asks before something that cannot be undone, unless `-f`. Without a terminal to ask on, refuses
 * (exit 2) naming `-f`. Answers whether to go on.
 */
export async function confirmed(context: Context, question: string): Promise<boolean> {
  if (context.values['force'] === true) return true;
  if (!context.io.confirm) throw usage(`${question.replace(/\?$/, '')}: this cannot be undone, so it needs confirmation. Add -f to go ahead without asking`);
  if (await context.io.confirm(`${question} This cannot be undone.`)) return true;
  context.io.stderr.write('Nothing was done.\n');
  return false;
}

/** `--field NAME`, on every command that shows one object. */
export const fieldOption: OptionSpec = {
  flags: '--field <name>',
  description: 'print only this field, raw (payload, password, data.key…), e.g. for $(…) or a pipe',
};

/**
 * Prints the one object a command shows: with `--field`, only that field, raw (a final newline only
 * on a terminal, so `$(sealbox … --field payload)` and pipes get the exact value); else as JSON or
 * for humans.
 */
export function show(context: Context, value: unknown, human: () => string): void {
  const field = stringOption(context.values, 'field');
  if (field === undefined) return emit(context.io.stdout, context.format, value, human);
  const found = fieldAt(value, field);
  if (found === undefined || found === null) {
    const names = typeof value === 'object' && value !== null ? Object.keys(value).join(', ') : '';
    throw usage(`--field ${field}: there is no such field here${names ? ` (fields: ${names})` : ''}`);
  }
  context.io.stdout.write(`${rawField(found)}${context.io.stdout.isTTY ? '\n' : ''}`);
}

/** Prints the rows a list command found: as JSON, or as a table (`empty` when there is none). */
export function showList<T>(context: Context, rows: readonly T[], columns: Columns<T>, empty: string): void {
  emit(context.io.stdout, context.format, rows, () => (rows.length === 0 ? `${empty}\n` : table(rows, columns)));
}
