import { KmsWire } from '@sealbox/contracts';
import { type CommandSpec, type Context, fieldOption, type OptionSpec, show, showList, stringOption } from '../command.js';
import { CliError, ExitCode, usage } from '../errors.js';
import type { HttpAnswer, HttpRequest } from '../http.js';
import { instanceOf, instanceOptions } from '../instance.js';
import { emit, fields } from '../output.js';
import { answerOf } from '../resource-api.js';

type Key = KmsWire.Key;

const KEY_TYPE = KmsWire.KEY_COLLECTION_TYPE;
const KEY_STATES: Readonly<Record<number, string>> = { 0: 'Pre-activation', 1: 'Active', 2: 'Suspended', 3: 'Deactivated', 5: 'Destroyed' };
export const keyState = (state: number): string => KEY_STATES[state] ?? String(state);

const keyFields = (key: Omit<Key, 'payload'>) =>
  fields([
    ['ID', key.id],
    ['Name', key.name],
    ['Type', key.extractable ? 'standard' : 'root'],
    ['State', keyState(key.state)],
    ['CRN', key.crn],
    ['Key version', key.keyVersion.id],
    ['Created', key.creationDate],
    ['Last rotated', key.lastRotateDate],
    ['Aliases', key.aliases.join(', ')],
  ]);

/** A key without its material: shown unless `--field payload` asks for it. */
const withoutPayload = ({ payload: _payload, ...key }: Key): Omit<Key, 'payload'> => key;

const materialOption: OptionSpec = { flags: '-k, --key-material <base64>', description: 'key material to import, base64 (@FILE or @- to keep it off the command line)' };

/** A Key Protect call on the instance of `-i` (or the target), in the `Bluemix-Instance` header. */
async function kp(context: Context, request: HttpRequest): Promise<HttpAnswer> {
  const instance = await instanceOf(context, 'kp');
  return context.gateway().request({ ...request, path: `/kms/api/v2${request.path}`, headers: { 'bluemix-instance': instance, ...request.headers } });
}

const keyPath = (context: Context) => `/keys/${encodeURIComponent(context.positionals[0] ?? '')}`;

function oneKey(answer: HttpAnswer, what: string): Key {
  const [key] = answerOf(KmsWire.KeyCollection, answer, what).resources;
  if (!key) throw new CliError(ExitCode.SERVER, `The gateway's answer to ${what} holds no key`);
  return key;
}

/** The key, re-read after an action (its state and version changed). */
async function reread(context: Context): Promise<Key> {
  return oneKey(await kp(context, { method: 'GET', path: `${keyPath(context)}/metadata` }), 'GET /kms/api/v2/keys/{id}/metadata');
}

const keys: CommandSpec = {
  words: ['kp', 'keys'],
  summary: 'List the keys of a Key Protect (kms or hs-crypto) instance',
  options: [...instanceOptions],
  examples: ['sealbox kp keys -i my-kms'],
  async run(context) {
    const answer = await kp(context, { method: 'GET', path: '/keys', query: { limit: 5000 } });
    const found = answerOf(KmsWire.KeyCollection, answer, 'GET /kms/api/v2/keys').resources.map(withoutPayload);
    showList(context, found, [
      ['ID', (k) => k.id],
      ['Name', (k) => k.name],
      ['Type', (k) => (k.extractable ? 'standard' : 'root')],
      ['State', (k) => keyState(k.state)],
      ['Created', (k) => k.creationDate],
    ], 'No key found.');
  },
};

const key: CommandSpec = {
  words: ['kp', 'key'],
  summary: "Show a key by id or alias (a standard key's material only with --field payload)",
  arguments: ['<key>'],
  options: [...instanceOptions, fieldOption],
  examples: ['sealbox kp key root-1 -i my-kms', 'sealbox kp key my-standard-key --field payload > key.b64'],
  async run(context) {
    const found = oneKey(await kp(context, { method: 'GET', path: keyPath(context) }), 'GET /kms/api/v2/keys/{id}');
    const asked = stringOption(context.values, 'field') !== undefined;
    show(context, asked ? found : withoutPayload(found), () => keyFields(withoutPayload(found)));
  },
};

const keyCreate: CommandSpec = {
  words: ['kp', 'key-create'],
  summary: 'Create a root key (generated, or imported with -k), or a standard key (--standard)',
  arguments: ['<name>'],
  options: [
    ...instanceOptions,
    { flags: '--standard', description: 'a standard key (extractable) instead of a root key' },
    materialOption,
    { flags: '--description <text>', description: 'what the key is for' },
    { flags: '--alias <alias>', description: 'an alias to find the key by' },
  ],
  examples: ['sealbox kp key-create root-1 -i my-kms', 'sealbox kp key-create imported -k @key.b64 -i my-kms'],
  async run(context) {
    const description = stringOption(context.values, 'description');
    const alias = stringOption(context.values, 'alias');
    const material = stringOption(context.values, 'key-material');
    const body = {
      metadata: { collectionType: KEY_TYPE, collectionTotal: 1 },
      resources: [
        {
          type: KEY_TYPE,
          name: context.positionals[0],
          extractable: context.values['standard'] === true,
          ...(material !== undefined ? { payload: material.trim() } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(alias !== undefined ? { aliases: [alias] } : {}),
        },
      ],
    };
    const created = withoutPayload(oneKey(await kp(context, { method: 'POST', path: '/keys', json: body, contentType: KEY_TYPE }), 'POST /kms/api/v2/keys'));
    emit(context.io.stdout, context.format, created, () => `Key ${created.name} was created.\n\n${keyFields(created)}`);
  },
};

function keyAction(word: string, action: 'disable' | 'enable' | 'rotate', summary: string, done: string): CommandSpec {
  return {
    words: ['kp', word],
    summary,
    arguments: ['<key>'],
    options: [...instanceOptions, ...(action === 'rotate' ? [materialOption] : [])],
    async run(context) {
      const material = stringOption(context.values, 'key-material');
      await kp(context, {
        method: 'POST',
        path: `${keyPath(context)}/actions/${action}`,
        json: material !== undefined ? { payload: material.trim() } : {},
        contentType: `application/vnd.ibm.kms.key_action_${action}+json`,
      });
      const after = withoutPayload(await reread(context));
      emit(context.io.stdout, context.format, after, () => `Key ${after.id} ${done}: ${keyState(after.state)}, version ${after.keyVersion.id}.\n`);
    },
  };
}

const keyDelete: CommandSpec = {
  words: ['kp', 'key-delete'],
  summary: 'Delete a key: it can be restored for 30 days (kp key-restore), so nothing is asked',
  arguments: ['<key>'],
  options: [...instanceOptions, { flags: '--with-registrations', description: 'also delete the registrations that protect resources with it' }],
  async run(context) {
    const answer = await kp(context, {
      method: 'DELETE',
      path: keyPath(context),
      headers: { prefer: 'return=representation' },
      ...(context.values['with-registrations'] === true ? { query: { force: true } } : {}),
    });
    const deleted = withoutPayload(oneKey(answer, 'DELETE /kms/api/v2/keys/{id}'));
    emit(context.io.stdout, context.format, deleted, () => `Key ${deleted.id} was deleted: ${keyState(deleted.state)}. Restore it within 30 days with: sealbox kp key-restore ${deleted.id}\n`);
  },
};

const keyRestore: CommandSpec = {
  words: ['kp', 'key-restore'],
  summary: 'Restore a deleted key (an imported one with its key material, -k)',
  arguments: ['<key>'],
  options: [...instanceOptions, materialOption],
  async run(context) {
    const material = stringOption(context.values, 'key-material');
    const answer = await kp(context, {
      method: 'POST',
      path: `${keyPath(context)}/restore`,
      json: material !== undefined ? { payload: material.trim() } : {},
      contentType: 'application/vnd.ibm.kms.key_action_restore+json',
    });
    const restored = withoutPayload(oneKey(answer, 'POST /kms/api/v2/keys/{id}/restore'));
    emit(context.io.stdout, context.format, restored, () => `Key ${restored.id} was restored: ${keyState(restored.state)}.\n`);
  },
};

const importTokenCreate: CommandSpec = {
  words: ['kp', 'import-token-create'],
  summary: 'Create the import token of the instance (to import key material encrypted)',
  options: [
    ...instanceOptions,
    { flags: '-e, --expiration <seconds>', description: 'how long the token is usable (300 to 86400, default 600)' },
    { flags: '-m, --max-retrievals <count>', description: 'how many times it may be retrieved (1 to 500, default 1)' },
  ],
  async run(context) {
    const number = (name: string) => {
      const text = stringOption(context.values, name);
      if (text === undefined) return undefined;
      if (!/^[0-9]{1,6}$/.test(text)) throw usage(`--${name} must be a whole number`);
      return Number(text);
    };
    const expiration = number('expiration');
    const maxAllowedRetrievals = number('max-retrievals');
    const answer = await kp(context, {
      method: 'POST',
      path: '/import_token',
      json: { ...(expiration !== undefined ? { expiration } : {}), ...(maxAllowedRetrievals !== undefined ? { maxAllowedRetrievals } : {}) },
    });
    const token = answerOf(KmsWire.ImportTokenMetadata, answer, 'POST /kms/api/v2/import_token');
    emit(context.io.stdout, context.format, token, () =>
      `Import token created.\n\n${fields([
        ['Created', token.creationDate],
        ['Expires', token.expirationDate],
        ['Retrievals left', `${token.remainingRetrievals} of ${token.maxAllowedRetrievals}`],
      ])}`,
    );
  },
};

export const kpCommands: readonly CommandSpec[] = [
  keyCreate,
  keys,
  key,
  keyAction('key-rotate', 'rotate', 'Rotate a root key: new wraps use a new version, old ones still unwrap', 'was rotated'),
  keyAction('key-disable', 'disable', 'Disable a key: wrap and unwrap fail until it is enabled again', 'was disabled'),
  keyAction('key-enable', 'enable', 'Enable a disabled key', 'was enabled'),
  keyDelete,
  keyRestore,
  importTokenCreate,
];
