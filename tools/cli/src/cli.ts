import { parseArgs } from 'node:util';
import { CliError, ExitCode, usage } from './errors.js';
import type { Command, OptionValues } from './command.js';
import { accountCommands } from './commands/accounts.js';
import { eventsCommands } from './commands/events.js';
import { kmsCommands } from './commands/kms.js';
import { loginCommands } from './commands/login.js';
import { resourceCommands } from './commands/resource.js';
import { secretsCommands } from './commands/secrets.js';
import { configDir } from './config.js';
import { Gateway } from './http.js';
import type { CliIo } from './io.js';
import type { OutputFormat } from './output.js';

export const VERSION = '0.1.0';

export const commands: readonly Command[] = [...loginCommands, ...resourceCommands, ...kmsCommands, ...secretsCommands, ...eventsCommands, ...accountCommands];

const commonOptions = { output: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

const usageLine = (command: Command) => `sealbox ${command.words.join(' ')}${command.usage ? ` ${command.usage}` : ''}`;

export function helpText(): string {
  const width = Math.max(...commands.map((command) => command.words.join(' ').length));
  return [
    `sealbox ${VERSION}: the Sealbox command line (IBM Cloud-compatible Resource Controller, Key Protect and Secrets Manager APIs).`,
    '',
    'Usage: sealbox COMMAND [ARGUMENTS] [--output json]',
    '',
    ...commands.map((command) => `  ${command.words.join(' ').padEnd(width)}   ${command.summary}`),
    '',
    '`sealbox COMMAND --help` shows its arguments. --output json prints results as JSON for scripts.',
    'Exit codes: 0 done, 1 the server refused or the operation failed, 2 wrong usage, 3 not logged in,',
    '4 an operation did not finish in time, 5 the gateway or NATS cannot be reached.',
    '',
  ].join('\n');
}

/** The command named by the leading words of argv (the longest match), and the rest of argv. */
function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const command of commands) {
    if (command.words.every((word, index) => argv[index] === word) && (!best || command.words.length > best.words.length)) best = command;
  }
  return best ? { command: best, rest: argv.slice(best.words.length) } : undefined;
}

function formatOf(value: string | boolean | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if (typeof value === 'string' && value.toLowerCase() === 'json') return 'json';
  throw usage('--output takes json (tables are the default)');
}

/** `--output json` found anywhere in argv, so that even a usage error is reported as JSON. */
const jsonRequested = (argv: readonly string[]) => argv.some((arg, index) => (arg === '--output' && argv[index + 1]?.toLowerCase() === 'json') || arg.toLowerCase() === '--output=json');

function report(io: CliIo, json: boolean, error: unknown): number {
  const failure =
    error instanceof CliError ? error : new CliError(ExitCode.SERVER, `Unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  if (json) {
    io.stderr.write(`${JSON.stringify({ error: { exit_code: failure.exitCode, message: failure.message, ...failure.details } })}\n`);
  } else {
    io.stderr.write(`FAILED\n${failure.message}\n`);
  }
  return failure.exitCode;
}

/** Runs one command line; the exit code is returned (never thrown). */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const json = jsonRequested(argv);
  try {
    if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
      (argv.length === 0 ? io.stderr : io.stdout).write(helpText());
      return argv.length === 0 ? ExitCode.USAGE : ExitCode.OK;
    }
    if (argv[0] === '--version' || argv[0] === 'version') {
      io.stdout.write(`${VERSION}\n`);
      return ExitCode.OK;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = commands.filter((command) => command.words[0] === argv[0]);
      throw usage(
        group.length
          ? `Unknown command: sealbox ${argv.slice(0, 2).join(' ')}. Commands:\n${group.map((command) => `  ${usageLine(command)}`).join('\n')}`
          : `Unknown command: ${argv[0]}. Run: sealbox help`,
      );
    }
    const { command, rest } = found;
    let parsed: { values: OptionValues; positionals: string[] };
    try {
      parsed = parseArgs({ args: rest, options: { ...commonOptions, ...command.options }, allowPositionals: true, strict: true }) as typeof parsed;
    } catch (error) {
      throw usage(`${error instanceof Error ? error.message : String(error)}\nUsage: ${usageLine(command)}`);
    }
    if (parsed.values['help'] === true) {
      io.stdout.write(`Usage: ${usageLine(command)}\n\n${command.summary}\n`);
      return ExitCode.OK;
    }
    const format = formatOf(parsed.values['output']);
    const [min, max] = command.positionals ?? [0, 0];
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw usage(`${parsed.positionals.length < min ? 'Missing' : 'Unexpected'} arguments.\nUsage: ${usageLine(command)}`);
    }
    if (parsed.positionals.some((positional) => positional.trim() === '')) throw usage(`Arguments must not be empty.\nUsage: ${usageLine(command)}`);
    const dir = configDir(io.env, io.homedir);
    let gateway: Gateway | undefined;
    await command.run({
      io,
      format,
      configDir: dir,
      values: parsed.values,
      positionals: parsed.positionals,
      gateway: () => (gateway ??= new Gateway(dir, io.fetch, io.nowMs)),
    });
    return ExitCode.OK;
  } catch (error) {
    return report(io, json, error);
  }
}
