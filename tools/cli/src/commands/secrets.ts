import { SecretsWire } from '@sealbox/contracts';
import { SecretsManagerClient, SecretsManagerError, SecretsManagerResponseError } from '@sealbox/sm-client';
import { jsonObjectOption, requiredOption, stringOption, valueOrFile, type Command, type Context } from '../command.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { serverError } from '../http.js';
import { emit, fields, table } from '../output.js';

const instanceOption = { 'instance-id': { type: 'string' } } as const;

/** The project's SM v2 client on the logged-in gateway, for the instance of `--instance-id`. */
function client(context: Context): SecretsManagerClient {
  const instanceId = requiredOption(context.values, 'instance-id');
  const gateway = context.gateway();
  return new SecretsManagerClient({ serviceUrl: gateway.endpoint, instanceId, authenticator: { getToken: () => gateway.token() }, fetch: context.io.fetch });
}

/** fetch's own failures: no connection (`TypeError: fetch failed`) or the request timeout. */
const isTransportFailure = (error: unknown): boolean =>
  error instanceof Error && ((error instanceof TypeError && error.message === 'fetch failed') || error.name === 'TimeoutError' || error.name === 'AbortError');

/** SM client failures as CLI failures: the server's error (exit 1), an answer of the wrong shape (exit 1), no answer (exit 5). */
async function call<T>(endpoint: () => string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof SecretsManagerError) throw serverError(error);
    if (error instanceof SecretsManagerResponseError) throw new CliError(ExitCode.SERVER, error.message);
    if (!isTransportFailure(error)) throw error;
    throw new CliError(ExitCode.UNREACHABLE, `Cannot reach ${endpoint()}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`);
  }
}

const list: Command = {
  words: ['secrets', 'list'],
  usage: '--instance-id GUID [--group ID] [--search TEXT]',
  summary: 'List the secrets of a Secrets Manager instance (metadata only)',
  options: { ...instanceOption, group: { type: 'string' }, search: { type: 'string' } },
  async run(context) {
    const sm = client(context);
    const group = stringOption(context.values, 'group');
    const search = stringOption(context.values, 'search');
    const secrets = await call(
      () => sm.baseUrl,
      async () => {
        const all: SecretsWire.SecretMetadata[] = [];
        for await (const secret of sm.listSecretsAll({ ...(group ? { groups: [group] } : {}), ...(search ? { search } : {}) })) all.push(secret);
        return all;
      },
    );
    emit(context.io.stdout, context.format, secrets, () =>
      secrets.length === 0
        ? 'No secret found.\n'
        : table(secrets, [
            ['ID', (s) => s.id],
            ['Name', (s) => s.name],
            ['Type', (s) => s.secret_type],
            ['State', (s) => s.state_description],
            ['Group', (s) => s.secret_group_id],
            ['Updated', (s) => s.updated_at],
          ]),
    );
  },
};

/** The prototype from the options: `--prototype JSON|@FILE`, or the fields of `--type`. */
export function prototypeOf(values: Context['values']): SecretsWire.SecretPrototypeInput {
  const prototype = stringOption(values, 'prototype');
  if (prototype !== undefined) return jsonObjectOption(prototype, '--prototype') as SecretsWire.SecretPrototypeInput;
  const type = stringOption(values, 'type') ?? 'arbitrary';
  const name = requiredOption(values, 'name');
  const description = stringOption(values, 'description');
  const group = stringOption(values, 'group');
  const labels = stringOption(values, 'labels');
  const common = {
    name,
    ...(description !== undefined ? { description } : {}),
    ...(group !== undefined ? { secret_group_id: group } : {}),
    ...(labels !== undefined ? { labels: labels.split(',').map((label) => label.trim()).filter(Boolean) } : {}),
  };
  switch (type) {
    case 'arbitrary':
      return { secret_type: 'arbitrary', ...common, payload: valueOrFile(requiredOption(values, 'payload'), '--payload') };
    case 'username_password': {
      const password = stringOption(values, 'password');
      return { secret_type: 'username_password', ...common, username: requiredOption(values, 'username'), ...(password !== undefined ? { password: valueOrFile(password, '--password') } : {}) };
    }
    case 'kv':
      return { secret_type: 'kv', ...common, data: jsonObjectOption(requiredOption(values, 'data'), '--data') };
    default:
      throw usage(`--type must be arbitrary, username_password or kv (other types: --prototype JSON|@FILE)`);
  }
}

const secretFields = (secret: SecretsWire.SecretMetadata) =>
  fields([
    ['ID', secret.id],
    ['Name', secret.name],
    ['Type', secret.secret_type],
    ['State', secret.state_description],
    ['Group', secret.secret_group_id],
    ['Labels', secret.labels.join(', ')],
    ['Versions', secret.versions_total],
    ['CRN', secret.crn],
    ['Created', secret.created_at],
    ['Updated', secret.updated_at],
  ]);

/** What `secrets get` prints of a secret's data, by type. */
function secretData(secret: SecretsWire.Secret): string {
  switch (secret.secret_type) {
    case 'arbitrary':
      return fields([['Payload', secret.payload]]);
    case 'username_password':
      return fields([
        ['Username', secret.username],
        ['Password', secret.password],
      ]);
    case 'kv':
      return fields([['Data', secret.data]]);
    default: {
      const metadata = SecretsWire.SecretMetadata.parse(secret);
      return fields([['Data', Object.fromEntries(Object.entries(secret).filter(([key]) => !(key in metadata)))]]);
    }
  }
}

const create: Command = {
  words: ['secrets', 'create'],
  usage:
    '--instance-id GUID --name NAME [--type arbitrary|username_password|kv] [--payload P|@FILE] [--username U --password P|@FILE] [--data JSON|@FILE] [--group ID] [--labels a,b] [--description TEXT] | --prototype JSON|@FILE',
  summary: 'Create a secret (its data is never echoed back)',
  options: {
    ...instanceOption,
    type: { type: 'string' },
    name: { type: 'string' },
    payload: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    data: { type: 'string' },
    group: { type: 'string' },
    labels: { type: 'string' },
    description: { type: 'string' },
    prototype: { type: 'string' },
  },
  async run(context) {
    const prototype = prototypeOf(context.values);
    const sm = client(context);
    const { result } = await call(() => sm.baseUrl, () => sm.createSecret(prototype));
    const metadata = SecretsWire.SecretMetadata.parse(result);
    emit(context.io.stdout, context.format, metadata, () => `Secret ${metadata.name} was created.\n\n${secretFields(metadata)}`);
  },
};

const get: Command = {
  words: ['secrets', 'get'],
  usage: 'ID --instance-id GUID',
  summary: "Show a secret with its data (the current version's payload)",
  options: instanceOption,
  positionals: [1, 1],
  async run(context) {
    const sm = client(context);
    const { result: secret } = await call(() => sm.baseUrl, () => sm.getSecret(context.positionals[0] ?? ''));
    emit(context.io.stdout, context.format, secret, () => `${secretFields(secret)}${secretData(secret)}`);
  },
};

export const secretsCommands: readonly Command[] = [list, create, get];
