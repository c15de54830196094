import { KmsWire } from '@sealbox/contracts';
import { requiredOption, stringOption, type Command, type Context } from '../command.js';
import { usage } from '../errors.js';
import { emit, fields, table } from '../output.js';
import { answerOf } from '../resource-api.js';

type Key = KmsWire.Key;

const KEY_TYPE = KmsWire.KEY_COLLECTION_TYPE;
const KEY_STATES: Readonly<Record<number, string>> = { 0: 'Pre-activation', 1: 'Active', 2: 'Suspended', 3: 'Deactivated', 5: 'Destroyed' };
export const keyState = (state: number): string => KEY_STATES[state] ?? String(state);

const instanceOption = { 'instance-id': { type: 'string' } } as const;
const instanceHeader = (context: Context) => ({ 'bluemix-instance': requiredOption(context.values, 'instance-id') });

const keyFields = (key: Key) =>
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

/** A key without its material: the CLI never prints a standard key's payload. */
const withoutPayload = ({ payload: _payload, ...key }: Key): Omit<Key, 'payload'> => key;

const keys: Command = {
  words: ['kms', 'keys'],
  usage: '--instance-id GUID',
  summary: 'List the keys of a Key Protect (kms / hs-crypto) instance',
  options: instanceOption,
  async run(context) {
    const answer = await context.gateway().request({ method: 'GET', path: '/kms/api/v2/keys', headers: instanceHeader(context), query: { limit: 5000 } });
    const found = answerOf(KmsWire.KeyCollection, answer, 'GET /kms/api/v2/keys').resources.map(withoutPayload);
    emit(context.io.stdout, context.format, found, () =>
      found.length === 0
        ? 'No key found.\n'
        : table(found, [
            ['ID', (k) => k.id],
            ['Name', (k) => k.name],
            ['Type', (k) => (k.extractable ? 'standard' : 'root')],
            ['State', (k) => keyState(k.state)],
            ['Created', (k) => k.creationDate],
          ]),
    );
  },
};

const keyCreate: Command = {
  words: ['kms', 'key-create'],
  usage: 'NAME --instance-id GUID [--standard] [--description TEXT] [--alias ALIAS]',
  summary: 'Create a root key (or a standard key with --standard)',
  options: { ...instanceOption, standard: { type: 'boolean' }, description: { type: 'string' }, alias: { type: 'string' } },
  positionals: [1, 1],
  async run(context) {
    const description = stringOption(context.values, 'description');
    const alias = stringOption(context.values, 'alias');
    const body = {
      metadata: { collectionType: KEY_TYPE, collectionTotal: 1 },
      resources: [
        {
          type: KEY_TYPE,
          name: context.positionals[0],
          extractable: context.values['standard'] === true,
          ...(description !== undefined ? { description } : {}),
          ...(alias !== undefined ? { aliases: [alias] } : {}),
        },
      ],
    };
    const answer = await context.gateway().request({ method: 'POST', path: '/kms/api/v2/keys', headers: instanceHeader(context), json: body, contentType: KEY_TYPE });
    const [created] = answerOf(KmsWire.KeyCollection, answer, 'POST /kms/api/v2/keys').resources;
    if (!created) throw usage('The gateway created no key');
    const key = withoutPayload(created);
    emit(context.io.stdout, context.format, key, () => `Key ${key.name} was created.\n\n${keyFields({ ...key })}`);
  },
};

function keyAction(word: string, action: 'disable' | 'enable' | 'rotate', summary: string, done: string): Command {
  return {
    words: ['kms', word],
    usage: 'ID --instance-id GUID',
    summary,
    options: instanceOption,
    positionals: [1, 1],
    async run(context) {
      const id = context.positionals[0] ?? '';
      const gateway = context.gateway();
      const headers = instanceHeader(context);
      await gateway.request({ method: 'POST', path: `/kms/api/v2/keys/${encodeURIComponent(id)}/actions/${action}`, headers, json: {}, contentType: `application/vnd.ibm.kms.key_action_${action}+json` });
      const answer = await gateway.request({ method: 'GET', path: `/kms/api/v2/keys/${encodeURIComponent(id)}/metadata`, headers });
      const [found] = answerOf(KmsWire.KeyCollection, answer, 'GET /kms/api/v2/keys/{id}/metadata').resources;
      const key = found ? withoutPayload(found) : undefined;
      emit(context.io.stdout, context.format, key ?? { id }, () => `Key ${id} ${done}${key ? `: ${keyState(key.state)}, version ${key.keyVersion.id}` : ''}.\n`);
    },
  };
}

export const kmsCommands: readonly Command[] = [
  keys,
  keyCreate,
  keyAction('key-disable', 'disable', 'Disable a key: wrap and unwrap fail until it is enabled', 'was disabled'),
  keyAction('key-enable', 'enable', 'Enable a disabled key', 'was enabled'),
  keyAction('key-rotate', 'rotate', 'Rotate a root key: new wraps use a new version', 'was rotated'),
];
