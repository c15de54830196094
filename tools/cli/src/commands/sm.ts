import { SecretsWire } from '@sealbox/contracts';
import { SecretsManagerClient, SecretsManagerError, SecretsManagerResponseError } from '@sealbox/sm-client';
import { type CommandSpec, confirmed, type Context, fieldOption, forceOption, jsonObject, listOption, type OptionSpec, requiredOption, show, showList, stringOption } from '../command.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { serverError } from '../http.js';
import { instanceOf, instanceOptions } from '../instance.js';
import { emit, fields, table } from '../output.js';

/** The project's SM v2 client on the logged-in gateway, for the instance of `-i` (or the target). */
async function client(context: Context): Promise<SecretsManagerClient> {
  const instanceId = await instanceOf(context, 'sm');
  const gateway = context.gateway();
  return new SecretsManagerClient({ serviceUrl: gateway.endpoint, instanceId, authenticator: { getToken: () => gateway.token() }, fetch: context.io.fetch });
}

/** fetch's own failures: no connection (`TypeError: fetch failed`) or the request timeout. */
const isTransportFailure = (error: unknown): boolean =>
  error instanceof Error && ((error instanceof TypeError && error.message === 'fetch failed') || error.name === 'TimeoutError' || error.name === 'AbortError');

/** One SM call on the command's instance, its failures as CLI failures: the server's error (exit 1), a wrong shape (1), no answer (5). */
async function sm<T>(context: Context, operation: (client: SecretsManagerClient) => Promise<T>): Promise<T> {
  const smClient = await client(context);
  try {
    return await operation(smClient);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof SecretsManagerError) throw serverError(error);
    if (error instanceof SecretsManagerResponseError) throw new CliError(ExitCode.SERVER, error.message);
    if (!isTransportFailure(error)) throw error;
    throw new CliError(ExitCode.UNREACHABLE, `Cannot reach ${smClient.baseUrl}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`);
  }
}

/** Every item of a paged list (the client follows `next`). */
async function every<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const item of pages) found.push(item);
  return found;
}

const id = (context: Context) => context.positionals[0] ?? '';
/** A version: an id, `current` (the default) or `previous`. */
const version = (context: Context) => context.positionals[1] ?? 'current';

// ---------- output ----------

const secretFields = (secret: SecretsWire.SecretMetadata) =>
  fields([
    ['ID', secret.id],
    ['Name', secret.name],
    ['Type', secret.secret_type],
    ['State', secret.state_description],
    ['Group', secret.secret_group_id],
    ['Labels', secret.labels.join(', ')],
    ['Versions', secret.versions_total],
    ['Locks', secret.locks_total],
    ['Expires', 'expiration_date' in secret ? secret.expiration_date : undefined],
    ['CRN', secret.crn],
    ['Created', secret.created_at],
    ['Updated', secret.updated_at],
  ]);

/** The data of a secret or version: what is not metadata, by type. */
function dataFields(value: object, metadataKeys: ReadonlySet<string>): string {
  const data = Object.entries(value).filter(([key]) => !metadataKeys.has(key));
  return data.length ? fields(data.map(([key, inner]) => [key.charAt(0).toUpperCase() + key.slice(1).replaceAll('_', ' '), inner] as const)) : '';
}
const secretData = (secret: SecretsWire.Secret) => dataFields(secret, new Set(Object.keys(SecretsWire.SecretMetadata.parse(secret))));

const versionFields = (v: SecretsWire.SecretVersionMetadata) =>
  fields([
    ['ID', v.id],
    ['Alias', v.alias],
    ['Secret', v.secret_id],
    ['Created', v.created_at],
    ['Payload available', v.payload_available],
    ['Expires', v.expiration_date],
  ]);
const versionData = (v: SecretsWire.SecretVersion) => dataFields(v, new Set(Object.keys(SecretsWire.SecretVersionMetadata.parse(v))));

const secretColumns = [
  ['ID', (s: SecretsWire.SecretMetadata) => s.id],
  ['Name', (s: SecretsWire.SecretMetadata) => s.name],
  ['Type', (s: SecretsWire.SecretMetadata) => s.secret_type],
  ['State', (s: SecretsWire.SecretMetadata) => s.state_description],
  ['Group', (s: SecretsWire.SecretMetadata) => s.secret_group_id],
  ['Updated', (s: SecretsWire.SecretMetadata) => s.updated_at],
] as const;

// ---------- secrets ----------

const dataOptions: readonly OptionSpec[] = [
  { flags: '--payload <value>', description: 'arbitrary: the secret value (@FILE or @- to keep it off the command line)' },
  { flags: '--username <name>', description: 'username_password: the user name' },
  { flags: '--password <value>', description: 'username_password: the password (generated when absent)' },
  { flags: '--data <json>', description: 'kv: the key-value pairs, a JSON object' },
];

/** The data fields of a secret or version from `--payload`, `--username`, `--password`, `--data`. */
function dataOf(context: Context): Record<string, unknown> {
  const { values } = context;
  const payload = stringOption(values, 'payload');
  const username = stringOption(values, 'username');
  const password = stringOption(values, 'password');
  const data = stringOption(values, 'data');
  return {
    ...(payload !== undefined ? { payload } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(data !== undefined ? { data: jsonObject(data, '--data') } : {}),
  };
}

/** The prototype from the options: `--secret-prototype JSON`, or `--type` and its fields. */
export function prototypeOf(context: Context): SecretsWire.SecretPrototypeInput {
  const { values } = context;
  const prototype = stringOption(values, 'secret-prototype') ?? stringOption(values, 'prototype');
  if (prototype !== undefined) return jsonObject(prototype, '--secret-prototype') as SecretsWire.SecretPrototypeInput;
  const type = stringOption(values, 'type') ?? 'arbitrary';
  if (!['arbitrary', 'username_password', 'kv'].includes(type)) throw usage('--type must be arbitrary, username_password or kv (other types: --secret-prototype JSON)');
  const description = stringOption(values, 'description');
  const group = stringOption(values, 'group');
  const labels = stringOption(values, 'labels');
  const expiration = stringOption(values, 'expiration-date');
  const data = dataOf(context);
  if (type === 'arbitrary' && data['payload'] === undefined) throw usage('--payload is required for an arbitrary secret');
  if (type === 'username_password' && data['username'] === undefined) throw usage('--username is required for a username_password secret');
  if (type === 'kv' && data['data'] === undefined) throw usage('--data is required for a kv secret');
  return {
    secret_type: type,
    name: requiredOption(values, 'name'),
    ...(description !== undefined ? { description } : {}),
    ...(group !== undefined ? { secret_group_id: group } : {}),
    ...(labels !== undefined ? { labels: listOption(labels) } : {}),
    ...(expiration !== undefined ? { expiration_date: expiration } : {}),
    ...data,
  } as SecretsWire.SecretPrototypeInput;
}

const secretCreate: CommandSpec = {
  words: ['sm', 'secret-create'],
  summary: 'Create a secret (its value is never printed back)',
  options: [
    ...instanceOptions,
    { flags: '--name <name>', description: 'the secret name (unique per type in its group)' },
    { flags: '--type <type>', description: 'arbitrary (default), username_password or kv; other types with --secret-prototype' },
    ...dataOptions,
    { flags: '--group <id>', description: 'secret group id (default: default)' },
    { flags: '--labels <a,b>', description: 'labels, comma-separated' },
    { flags: '--description <text>', description: 'what the secret is for' },
    { flags: '--expiration-date <date>', description: 'when it expires (ISO 8601)' },
    { flags: '--secret-prototype <json>', description: 'the whole SecretPrototype as JSON, instead of the options above' },
    { flags: '--prototype <json>', description: 'same as --secret-prototype', hidden: true },
  ],
  examples: [
    'sealbox sm secret-create --name db-password --payload @- < password.txt',
    "sealbox sm secret-create --name db --type username_password --username app",
    `sealbox sm secret-create --name cfg --type kv --data '{"url":"postgres://…"}'`,
  ],
  async run(context) {
    const prototype = prototypeOf(context);
    const { result } = await sm(context, (client) => client.createSecret(prototype));
    const metadata = SecretsWire.SecretMetadata.parse(result);
    emit(context.io.stdout, context.format, metadata, () => `Secret ${metadata.name} was created.\n\n${secretFields(metadata)}`);
  },
};

const secret: CommandSpec = {
  words: ['sm', 'secret'],
  summary: 'Show a secret with its value (its current version)',
  arguments: ['<id>'],
  options: [...instanceOptions, fieldOption],
  examples: ['sealbox sm secret 5e0c7a1b-… --field payload', 'export DB_PASSWORD=$(sealbox sm secret 5e0c7a1b-… --field password)'],
  async run(context) {
    const { result } = await sm(context, (client) => client.getSecret(id(context)));
    show(context, result, () => `${secretFields(result)}${secretData(result)}`);
  },
};

const secretByName: CommandSpec = {
  words: ['sm', 'secret-by-name'],
  summary: 'Show a secret with its value by name, type and group name',
  arguments: ['<name>'],
  options: [
    ...instanceOptions,
    { flags: '--type <type>', description: 'the secret type (default arbitrary)' },
    { flags: '--group <name>', description: 'the secret group name (default: default)' },
    fieldOption,
  ],
  examples: ['sealbox sm secret-by-name db-password --field payload'],
  async run(context) {
    const type = stringOption(context.values, 'type') ?? 'arbitrary';
    const parsed = SecretsWire.IbmSecretType.safeParse(type);
    if (!parsed.success) throw usage(`--type must be one of ${SecretsWire.IbmSecretTypes.join(', ')}`);
    const group = stringOption(context.values, 'group') ?? 'default';
    const { result } = await sm(context, (client) => client.getSecretByNameType(group, parsed.data, id(context)));
    show(context, result, () => `${secretFields(result)}${secretData(result)}`);
  },
};

const secrets: CommandSpec = {
  words: ['sm', 'secrets'],
  summary: 'List the secrets of the instance (metadata only), every page',
  options: [
    ...instanceOptions,
    { flags: '--group <id,…>', description: 'only secrets of these groups (ids, default allowed)' },
    { flags: '--type <type,…>', description: 'only secrets of these types' },
    { flags: '--labels <a,b>', description: 'only secrets with all these labels' },
    { flags: '--search <text>', description: 'only secrets whose id, name, description, labels or type contain it' },
    { flags: '--sort <field>', description: 'id, name, created_at, updated_at, expiration_date, secret_type (-field: descending)' },
  ],
  async run(context) {
    const { values } = context;
    const list = (name: string) => {
      const text = stringOption(values, name);
      return text === undefined ? undefined : listOption(text);
    };
    const types = list('type');
    const sort = stringOption(values, 'sort');
    if (types && !types.every((type) => SecretsWire.IbmSecretType.safeParse(type).success)) throw usage(`--type takes ${SecretsWire.IbmSecretTypes.join(', ')}`);
    if (sort !== undefined && !SecretsWire.SecretSort.safeParse(sort).success) throw usage(`--sort takes ${SecretsWire.SecretSort.options.join(', ')}`);
    const groups = list('group');
    const labels = list('labels');
    const search = stringOption(values, 'search');
    const options = {
      ...(groups ? { groups } : {}),
      ...(types ? { secretTypes: types as SecretsWire.IbmSecretType[] } : {}),
      ...(labels ? { matchAllLabels: labels } : {}),
      ...(search ? { search } : {}),
      ...(sort ? { sort: sort as SecretsWire.SecretSort } : {}),
    };
    const found = await sm(context, (client) => every(client.listSecretsAll(options)));
    showList(context, found, secretColumns, 'No secret found.');
  },
};

const secretMetadata: CommandSpec = {
  words: ['sm', 'secret-metadata'],
  summary: 'Show the metadata of a secret (no value)',
  arguments: ['<id>'],
  options: [...instanceOptions, fieldOption],
  async run(context) {
    const { result } = await sm(context, (client) => client.getSecretMetadata(id(context)));
    show(context, result, () => secretFields(result));
  },
};

const secretMetadataUpdate: CommandSpec = {
  words: ['sm', 'secret-metadata-update'],
  summary: "Update a secret's name, description, labels, expiration or custom metadata",
  arguments: ['<id>'],
  options: [
    ...instanceOptions,
    { flags: '--name <name>', description: 'a new name' },
    { flags: '--description <text>', description: 'a new description' },
    { flags: '--labels <a,b>', description: 'the labels (replace the current ones)' },
    { flags: '--expiration-date <date>', description: 'a new expiration date (ISO 8601)' },
    { flags: '--custom-metadata <json>', description: 'custom metadata, a JSON object (merged; null removes a key)' },
    { flags: '--patch <json>', description: 'the whole JSON merge patch, instead of the options above' },
  ],
  examples: ['sealbox sm secret-metadata-update 5e0c7a1b-… --labels prod,db'],
  async run(context) {
    const { values } = context;
    const given = (name: string) => stringOption(values, name);
    const raw = given('patch');
    const patch: Record<string, unknown> = raw
      ? jsonObject(raw, '--patch')
      : {
          ...(given('name') !== undefined ? { name: given('name') } : {}),
          ...(given('description') !== undefined ? { description: given('description') } : {}),
          ...(given('labels') !== undefined ? { labels: listOption(given('labels') ?? '') } : {}),
          ...(given('expiration-date') !== undefined ? { expiration_date: given('expiration-date') } : {}),
          ...(given('custom-metadata') !== undefined ? { custom_metadata: jsonObject(given('custom-metadata') ?? '', '--custom-metadata') } : {}),
        };
    if (Object.keys(patch).length === 0) throw usage('Nothing to update: give --name, --description, --labels, --expiration-date, --custom-metadata or --patch');
    const { result } = await sm(context, (client) => client.updateSecretMetadata(id(context), patch as SecretsWire.SecretMetadataPatch));
    emit(context.io.stdout, context.format, result, () => `Secret ${result.name} was updated.\n\n${secretFields(result)}`);
  },
};

const secretDelete: CommandSpec = {
  words: ['sm', 'secret-delete'],
  summary: 'Delete a secret with every version, for good (asks first, or -f)',
  arguments: ['<id>'],
  options: [...instanceOptions, forceOption],
  async run(context) {
    if (!(await confirmed(context, `Delete secret ${id(context)} with every version?`))) return;
    await sm(context, (client) => client.deleteSecret(id(context)));
    emit(context.io.stdout, context.format, { id: id(context), deleted: true }, () => `Secret ${id(context)} was deleted.\n`);
  },
};

// ---------- versions ----------

const versionCreate: CommandSpec = {
  words: ['sm', 'secret-version-create'],
  summary: 'Create a new version of a secret (rotate it): its value is never printed back',
  arguments: ['<id>'],
  options: [
    ...instanceOptions,
    ...dataOptions.filter((option) => !option.flags.startsWith('--username')),
    { flags: '--version-prototype <json>', description: 'the whole SecretVersionPrototype as JSON, instead of the options above' },
  ],
  examples: ['sealbox sm secret-version-create 5e0c7a1b-… --payload @new-value.txt', 'sealbox sm secret-version-create 5e0c7a1b-…   # username_password: a new generated password'],
  async run(context) {
    const raw = stringOption(context.values, 'version-prototype');
    const prototype = raw ? jsonObject(raw, '--version-prototype') : dataOf(context);
    const { result } = await sm(context, (client) => client.createSecretVersion(id(context), prototype as SecretsWire.SecretVersionPrototype));
    const metadata = SecretsWire.SecretVersionMetadata.parse(result);
    emit(context.io.stdout, context.format, metadata, () => `Version ${metadata.id} of secret ${metadata.secret_id} was created.\n\n${versionFields(metadata)}`);
  },
};

const versions: CommandSpec = {
  words: ['sm', 'secret-versions'],
  summary: 'List the versions of a secret (metadata)',
  arguments: ['<id>'],
  options: [...instanceOptions],
  async run(context) {
    const { result } = await sm(context, (client) => client.listSecretVersions(id(context)));
    showList(
      context,
      result.versions,
      [
        ['ID', (v) => v.id],
        ['Alias', (v) => v.alias],
        ['Created', (v) => v.created_at],
        ['Payload available', (v) => v.payload_available],
      ],
      'No version.',
    );
  },
};

const versionShow: CommandSpec = {
  words: ['sm', 'secret-version'],
  summary: 'Show a version of a secret with its value (VERSION: an id, current or previous)',
  arguments: ['<id>', '[version]'],
  options: [...instanceOptions, fieldOption],
  examples: ['sealbox sm secret-version 5e0c7a1b-… previous --field payload'],
  async run(context) {
    const { result } = await sm(context, (client) => client.getSecretVersion(id(context), version(context)));
    show(context, result, () => `${versionFields(result)}${versionData(result)}`);
  },
};

const versionMetadata: CommandSpec = {
  words: ['sm', 'secret-version-metadata'],
  summary: 'Show the metadata of a version (VERSION: an id, current or previous)',
  arguments: ['<id>', '[version]'],
  options: [...instanceOptions, fieldOption],
  async run(context) {
    const { result } = await sm(context, (client) => client.getSecretVersionMetadata(id(context), version(context)));
    show(context, result, () => versionFields(result));
  },
};

// ---------- groups ----------

const groupCreate: CommandSpec = {
  words: ['sm', 'secret-group-create'],
  summary: 'Create a secret group',
  arguments: ['<name>'],
  options: [...instanceOptions, { flags: '--description <text>', description: 'what the group is for' }],
  async run(context) {
    const description = stringOption(context.values, 'description');
    const { result } = await sm(context, (client) => client.createSecretGroup({ name: id(context), ...(description !== undefined ? { description } : {}) }));
    emit(context.io.stdout, context.format, result, () => `Secret group ${result.name} was created: ${result.id}\n`);
  },
};

const groups: CommandSpec = {
  words: ['sm', 'secret-groups'],
  summary: 'List the secret groups of the instance',
  options: [...instanceOptions],
  async run(context) {
    const { result } = await sm(context, (client) => client.listSecretGroups());
    showList(
      context,
      result.secret_groups,
      [
        ['ID', (g) => g.id],
        ['Name', (g) => g.name],
        ['Description', (g) => g.description],
        ['Created', (g) => g.created_at],
      ],
      'No secret group.',
    );
  },
};

const groupDelete: CommandSpec = {
  words: ['sm', 'secret-group-delete'],
  summary: 'Delete an empty secret group (asks first, or -f)',
  arguments: ['<id>'],
  options: [...instanceOptions, forceOption],
  async run(context) {
    if (!(await confirmed(context, `Delete secret group ${id(context)}?`))) return;
    await sm(context, (client) => client.deleteSecretGroup(id(context)));
    emit(context.io.stdout, context.format, { id: id(context), deleted: true }, () => `Secret group ${id(context)} was deleted.\n`);
  },
};

// ---------- locks ----------

const versionOption: OptionSpec = { flags: '--version <version>', description: "a version's locks (an id, current or previous) instead of the secret's" };

const lockColumns = [
  ['Name', (l: SecretsWire.SecretLock) => l.name],
  ['Version', (l: SecretsWire.SecretLock) => l.secret_version_alias ?? l.secret_version_id],
  ['Description', (l: SecretsWire.SecretLock) => l.description],
  ['Created', (l: SecretsWire.SecretLock) => l.created_at],
] as const;

const locksShown = (locks: SecretsWire.SecretLocks) =>
  table(locks.versions, [
    ['Version', (v) => v.version_alias ?? v.version_id],
    ['Locks', (v) => v.locks.join(', ')],
  ]);

const locks: CommandSpec = {
  words: ['sm', 'secret-locks'],
  summary: 'List the locks of a secret (or of one version); without an id, every secret with locks',
  arguments: ['[id]'],
  options: [...instanceOptions, versionOption],
  async run(context) {
    const secretId = context.positionals[0];
    const at = stringOption(context.values, 'version');
    if (secretId === undefined || secretId === '') {
      if (at !== undefined) throw usage('--version needs the secret id');
      const all = await sm(context, (client) => every(client.listSecretsLocksAll()));
      emit(context.io.stdout, context.format, all, () =>
        all.length === 0
          ? 'No secret has locks.\n'
          : table(
              all.flatMap((entry) => entry.versions.map((v) => ({ entry, v }))),
              [
                ['Secret', ({ entry }) => entry.secret_id],
                ['Name', ({ entry }) => entry.secret_name],
                ['Version', ({ v }) => v.version_alias ?? v.version_id],
                ['Locks', ({ v }) => v.locks.join(', ')],
              ],
            ),
      );
      return;
    }
    const found = await sm(context, (client) => every(at === undefined ? client.listSecretLocksAll(secretId) : client.listSecretVersionLocksAll(secretId, at)));
    showList(context, found, lockColumns, 'No lock.');
  },
};

const locksCreate: CommandSpec = {
  words: ['sm', 'secret-locks-create'],
  summary: "Lock a secret's current version (or --version): locked versions cannot be deleted",
  description:
    'Adds locks to a version. --mode remove_previous moves the locks off the previous version; remove_previous_and_delete also deletes the previous version\'s data, which cannot be undone (asks first, or -f).',
  arguments: ['<id>'],
  options: [
    ...instanceOptions,
    { flags: '--lock <name,…>', description: 'the lock names (required)' },
    { flags: '--description <text>', description: 'why it is locked' },
    { flags: '--attributes <json>', description: 'attributes of the locks, a JSON object' },
    versionOption,
    { flags: '--mode <mode>', description: 'remove_previous or remove_previous_and_delete' },
    forceOption,
  ],
  examples: ['sealbox sm secret-locks-create 5e0c7a1b-… --lock app-1'],
  async run(context) {
    const { values } = context;
    const names = listOption(requiredOption(values, 'lock'));
    const description = stringOption(values, 'description');
    const attributes = stringOption(values, 'attributes');
    const modeText = stringOption(values, 'mode');
    const mode = modeText === undefined ? undefined : SecretsWire.LockMode.safeParse(modeText);
    if (mode && !mode.success) throw usage(`--mode takes ${SecretsWire.LockModes.join(' or ')}`);
    if (mode?.data === 'remove_previous_and_delete' && !(await confirmed(context, `Lock ${id(context)} and delete the data of its previous version?`))) return;
    const prototypes = names.map((name) => ({
      name,
      ...(description !== undefined ? { description } : {}),
      ...(attributes !== undefined ? { attributes: jsonObject(attributes, '--attributes') } : {}),
    }));
    const at = stringOption(values, 'version');
    const options = mode?.data ? { mode: mode.data } : {};
    const { result } = await sm(context, (client) =>
      at === undefined ? client.createSecretLocksBulk(id(context), prototypes, options) : client.createSecretVersionLocksBulk(id(context), at, prototypes, options),
    );
    emit(context.io.stdout, context.format, result, () => `Locked ${result.secret_name}.\n\n${locksShown(result)}`);
  },
};

const locksDelete: CommandSpec = {
  words: ['sm', 'secret-locks-delete'],
  summary: 'Remove locks of a secret (every version holding them) or of one version; all when --lock is not given',
  arguments: ['<id>'],
  options: [...instanceOptions, { flags: '--lock <name,…>', description: 'the lock names (default: every lock)' }, versionOption],
  async run(context) {
    const lockNames = stringOption(context.values, 'lock');
    const options = lockNames === undefined ? {} : { name: listOption(lockNames) };
    const at = stringOption(context.values, 'version');
    const { result } = await sm(context, (client) =>
      at === undefined ? client.deleteSecretLocksBulk(id(context), options) : client.deleteSecretVersionLocksBulk(id(context), at, options),
    );
    emit(context.io.stdout, context.format, result, () => `Locks removed from ${result.secret_name}.\n\n${locksShown(result)}`);
  },
};

// ---------- configurations (private_cert) ----------

const configurationColumns = [
  ['Name', (c: SecretsWire.Configuration) => c.name],
  ['Type', (c: SecretsWire.Configuration) => c.config_type],
  ['Status', (c: SecretsWire.Configuration) => c.status ?? ''],
  ['Expires', (c: SecretsWire.Configuration) => c.expiration_date ?? ''],
  ['Updated', (c: SecretsWire.Configuration) => c.updated_at],
] as const;

const configurationFields = (configuration: SecretsWire.Configuration) =>
  fields([
    ['Name', configuration.name],
    ['Type', configuration.config_type],
    ['Status', configuration.status],
    ['Common name', typeof configuration['common_name'] === 'string' ? configuration['common_name'] : undefined],
    ['Certificate authority', typeof configuration['certificate_authority'] === 'string' ? configuration['certificate_authority'] : undefined],
    ['Serial', configuration.serial_number],
    ['Issuer', configuration.issuer],
    ['Expires', configuration.expiration_date],
    ['Created', configuration.created_at],
    ['Updated', configuration.updated_at],
  ]);

/** `--type` of the configuration commands: IBM's config_type, or its short form (root_ca, intermediate_ca, template). */
function configurationType(values: Context['values']): SecretsWire.ConfigurationType | undefined {
  const given = stringOption(values, 'type');
  if (given === undefined) return undefined;
  const full = given.startsWith('private_cert_configuration_') ? given : `private_cert_configuration_${given}`;
  const parsed = SecretsWire.ConfigurationType.safeParse(full);
  if (!parsed.success) throw usage(`--type takes root_ca, intermediate_ca or template (or ${SecretsWire.ConfigurationTypes.join(', ')})`);
  return parsed.data;
}

const typeOption: OptionSpec = { flags: '--type <type>', description: 'root_ca, intermediate_ca or template (sent as X-Sm-Accept-Configuration-Type)' };

const configurationCreate: CommandSpec = {
  words: ['sm', 'configuration-create'],
  summary: 'Create a private_cert configuration (a root CA, an intermediate CA or a certificate template) from its JSON',
  arguments: ['<json>'],
  options: [...instanceOptions],
  examples: [
    `sealbox sm configuration-create '{"config_type":"private_cert_configuration_root_ca","name":"root","common_name":"Example Root","max_ttl":"87600h"}'`,
    `sealbox sm configuration-create '{"config_type":"private_cert_configuration_template","name":"web","certificate_authority":"root","allowed_domains":["example.com"],"allow_subdomains":true,"max_ttl":"720h"}'`,
  ],
  async run(context) {
    const prototype = jsonObject(id(context), '<json>');
    const parsed = SecretsWire.ConfigurationPrototype.safeParse(prototype);
    if (!parsed.success) throw usage(`Not a configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`).join('; ')}`);
    const { result } = await sm(context, (client) => client.createConfiguration(parsed.data));
    emit(context.io.stdout, context.format, result, () => `Configuration ${result.name} was created.\n\n${configurationFields(result)}`);
  },
};

const configurations: CommandSpec = {
  words: ['sm', 'configurations'],
  summary: 'List the configurations of the instance, every page',
  options: [...instanceOptions, { flags: '--search <text>', description: 'only configurations whose name or type contains it' }],
  async run(context) {
    const search = stringOption(context.values, 'search');
    const found = await sm(context, (client) => every(client.listConfigurationsAll(search ? { search } : {})));
    showList(context, found, configurationColumns, 'No configuration found.');
  },
};

const configuration: CommandSpec = {
  words: ['sm', 'configuration'],
  summary: 'Show a configuration (a CA with its certificate and chain: --output json)',
  arguments: ['<name>'],
  options: [...instanceOptions, typeOption, fieldOption],
  async run(context) {
    const { result } = await sm(context, (client) => client.getConfiguration(id(context), configurationType(context.values)));
    show(context, result, () => configurationFields(result));
  },
};

const configurationActionCreate: CommandSpec = {
  words: ['sm', 'configuration-action-create'],
  summary: 'Run an action on a CA: sign_intermediate, sign_csr, set_signed, rotate_crl or revoke_ca_certificate',
  arguments: ['<name>', '<action>'],
  options: [
    ...instanceOptions,
    typeOption,
    { flags: '--intermediate <name>', description: 'sign_intermediate: the intermediate CA to sign' },
    { flags: '--csr <pem>', description: 'sign_csr: the CSR (PEM)' },
    { flags: '--certificate <pem>', description: 'set_signed: the signed certificate (PEM)' },
    { flags: '--body <json>', description: 'the whole action body instead of the options above' },
  ],
  examples: ['sealbox sm configuration-action-create root sign_intermediate --intermediate issuing', 'sealbox sm configuration-action-create issuing rotate_crl'],
  async run(context) {
    const { values } = context;
    const raw = stringOption(values, 'body');
    const short = context.positionals[1] ?? '';
    const actionType = short.startsWith('private_cert_configuration_action_') ? short : `private_cert_configuration_action_${short}`;
    const given = (name: string, field: string) => (stringOption(values, name) !== undefined ? { [field]: stringOption(values, name) } : {});
    const body = raw
      ? jsonObject(raw, '--body')
      : { action_type: actionType, ...given('intermediate', 'intermediate_certificate_authority'), ...given('csr', 'csr'), ...given('certificate', 'certificate') };
    const parsed = SecretsWire.ConfigurationActionPrototype.safeParse(body);
    if (!parsed.success) throw usage(`Not an action: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`).join('; ')}`);
    const { result } = await sm(context, (client) => client.createConfigurationAction(id(context), parsed.data, configurationType(values)));
    emit(context.io.stdout, context.format, result, () => `Action ${result.action_type} done on ${id(context)}.\n`);
  },
};

export const smCommands: readonly CommandSpec[] = [
  secretCreate,
  secret,
  secretByName,
  secrets,
  secretMetadata,
  secretMetadataUpdate,
  secretDelete,
  versionCreate,
  versions,
  versionShow,
  versionMetadata,
  groupCreate,
  groups,
  groupDelete,
  locks,
  locksCreate,
  locksDelete,
  configurationCreate,
  configurations,
  configuration,
  configurationActionCreate,
];
