import { Command as Commander, CommanderError, Option } from 'commander';
import type { CommandSpec, OptionValues } from './command.js';
import { accountCommands } from './commands/accounts.js';
import { eventsCommands } from './commands/events.js';
import { iamCommands } from './commands/iam.js';
import { kpCommands } from './commands/kp.js';
import { loginCommands } from './commands/login.js';
import { operatorCommands } from './commands/operator.js';
import { resourceCommands } from './commands/resource.js';
import { smCommands } from './commands/sm.js';
import { configDir } from './config.js';
import { CliError, ExitCode, usage } from './errors.js';
import { Gateway } from './http.js';
import type { CliIo } from './io.js';
import type { OutputFormat } from './output.js';
import { ValueReader } from './values.js';

export const VERSION = '0.1.0';

/** The command groups, named as the `ibmcloud` plugins name them. */
export const GROUPS: Readonly<Record<string, { readonly summary: string; readonly aliases?: readonly string[] }>> = {
  resource: { summary: 'Resource Controller: service instances and reclamations (as `ibmcloud resource`)' },
  sm: { summary: 'Secrets Manager: secrets, versions, groups and locks (as `ibmcloud sm`)', aliases: ['secrets-manager'] },
  kp: { summary: 'Key Protect and HPCS: root and standard keys (as `ibmcloud kp`)', aliases: ['key-protect'] },
  iam: { summary: 'IAM: service IDs, API keys, access and authorization policies (as `ibmcloud iam`)' },
  events: { summary: 'The event stream of the account' },
  operator: { summary: 'The key store\'s seal: init, unseal, seal-status, seal, rekey, rotate (as `vault operator`)' },
};

export const commands: readonly CommandSpec[] = [...loginCommands, ...resourceCommands, ...smCommands, ...kpCommands, ...iamCommands, ...accountCommands, ...eventsCommands, ...operatorCommands];

const EXIT_CODES = [
  'Exit codes: 0 done, 1 the server refused or the operation failed, 2 wrong usage (or a confirmation refused),',
  '3 not logged in, 4 an operation did not finish in time, 5 the gateway or NATS cannot be reached.',
].join('\n');

const VALUES_HELP = 'Any option value may be @FILE (the file\'s contents) or @- (standard input); @@text is a literal @text.';

function formatOf(value: unknown): OutputFormat {
  if (value === undefined) return 'table';
  if (typeof value === 'string' && value.toLowerCase() === 'json') return 'json';
  throw usage('--output takes json (tables are the default)');
}

/** `--output json` found anywhere in argv, so that even a usage error is reported as JSON. */
const jsonRequested = (argv: readonly string[]) =>
  argv.some((arg, index) => (arg === '--output' && argv[index + 1]?.toLowerCase() === 'json') || arg.toLowerCase() === '--output=json');

function report(io: CliIo, json: boolean, error: unknown): number {
  const failure = error instanceof CliError ? error : new CliError(ExitCode.SERVER, `Unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  if (json) {
    io.stderr.write(`${JSON.stringify({ error: { exit_code: failure.exitCode, message: failure.message, ...failure.details } })}\n`);
  } else {
    io.stderr.write(`FAILED\n${failure.message}\n`);
  }
  return failure.exitCode;
}

/** The option values of a parsed command by long name (`--no-wait` → `wait: false`). */
function valuesOf(command: Commander): Record<string, string | boolean | undefined> {
  const values: Record<string, string | boolean | undefined> = {};
  for (const option of command.options) {
    const value: unknown = command.getOptionValue(option.attributeName());
    const key = option.negate ? option.attributeName() : (option.long ?? '').replace(/^--/, '');
    if (typeof value === 'string' || typeof value === 'boolean') values[key] = value;
  }
  return values;
}

/** Every string option value read through `@FILE` / `@-` (not `--output`). */
async function expanded(values: Record<string, string | boolean | undefined>, reader: ValueReader): Promise<OptionValues> {
  const result: Record<string, string | boolean | undefined> = {};
  for (const [key, value] of Object.entries(values)) result[key] = typeof value === 'string' && key !== 'output' ? await reader.read(value, `--${key}`) : value;
  return result;
}

function leaf(parent: Commander, spec: CommandSpec, io: CliIo): void {
  const name = spec.words[spec.words.length - 1] ?? '';
  const command = parent.command(name).summary(spec.summary).description(spec.description ?? spec.summary);
  for (const argument of spec.arguments ?? []) command.argument(argument);
  for (const option of spec.options ?? []) command.addOption(new Option(option.flags, option.description).hideHelp(option.hidden ?? false));
  command.addOption(new Option('--output <format>', 'json: print the result as JSON (for scripts)'));
  if (spec.examples?.length) command.addHelpText('after', `\nExamples:\n${spec.examples.map((line) => `  ${line}`).join('\n')}\n`);
  command.action(async () => {
    if (command.processedArgs.some((arg: unknown) => arg === '')) throw usage(`Arguments must not be empty.\nRun: sealbox ${spec.words.join(' ')} --help`);
    const values = await expanded(valuesOf(command), new ValueReader(io.readStdin));
    const dir = configDir(io.env, io.homedir);
    let gateway: Gateway | undefined;
    await spec.run({
      io,
      format: formatOf(values['output']),
      configDir: dir,
      values,
      positionals: command.processedArgs.filter((arg: unknown): arg is string => typeof arg === 'string'),
      gateway: () => (gateway ??= new Gateway(dir, io.fetch, io.nowMs)),
    });
  });
}

/** The command tree: top-level commands and one subcommand per group, each with its own help. */
export function program(io: CliIo): Commander {
  const root = new Commander('sealbox')
    .description('The Sealbox command line: IBM Cloud-compatible Resource Controller, Secrets Manager, Key Protect and IAM APIs.')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Failures are reported once, by `run` (as JSON with --output json).
      outputError: () => undefined,
    })
    .addHelpText('after', `\n\`sealbox GROUP --help\` and \`sealbox GROUP COMMAND --help\` show more. ${VALUES_HELP}\n${EXIT_CODES}\n`);
  const groups = new Map<string, Commander>();
  for (const spec of commands) {
    const [first, second] = spec.words;
    if (second === undefined) {
      leaf(root, spec, io);
      continue;
    }
    let group = groups.get(first);
    if (!group) {
      const about = GROUPS[first];
      if (!about) throw new Error(`no group ${first}`);
      group = root.command(first).summary(about.summary).description(about.summary).aliases(about.aliases ?? []);
      group.addHelpText('after', `\n${VALUES_HELP}\n`);
      groups.set(first, group);
    }
    leaf(group, spec, io);
  }
  return root;
}

/** Where the help of what argv names is: the command's, else its group's, else the top's. */
function helpHint(argv: readonly string[]): string {
  const [first = '', second = ''] = argv;
  const group = Object.entries(GROUPS).find(([name, about]) => name === first || about.aliases?.includes(first))?.[0];
  if (!group) return commands.some((spec) => spec.words.length === 1 && spec.words[0] === first) ? `sealbox ${first} --help` : 'sealbox --help';
  return commands.some((spec) => spec.words[0] === group && spec.words[1] === second) ? `sealbox ${group} ${second} --help` : `sealbox ${group} --help`;
}

/** A Commander failure as the CLI reports it: usage errors exit 2 with a pointer to the help. */
function fromCommander(error: CommanderError, argv: readonly string[]): CliError | number {
  switch (error.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return ExitCode.OK;
    case 'commander.help':
      // `sealbox help` (0), or help shown on stderr instead of a missing command (2).
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    default:
      return usage(`${error.message.replace(/^error: /, '')}\nRun: ${helpHint(argv)}`);
  }
}

/** Runs one command line; the exit code is returned (never thrown). */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const json = jsonRequested(argv);
  try {
    const root = program(io);
    if (argv.length === 0) {
      io.stderr.write(root.helpInformation());
      return ExitCode.USAGE;
    }
    await root.parseAsync([...argv], { from: 'user' });
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      const outcome = fromCommander(error, argv);
      return typeof outcome === 'number' ? outcome : report(io, json, outcome);
    }
    return report(io, json, error);
  }
}
