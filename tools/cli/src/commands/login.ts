import { stringOption, type CommandSpec } from '../command.js';
import { readSession, readTarget, removeSession, writeSession, writeTarget, type StoredTarget } from '../config.js';
import { usage } from '../errors.js';
import { exchangeToken, sessionFromTokens } from '../http.js';
import { targetInstance } from '../instance.js';
import { emit, fields } from '../output.js';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

export function endpointOf(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usage(`--endpoint ${value} is not a URL (e.g. ${DEFAULT_ENDPOINT})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage('--endpoint must be an http or https URL');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

const login: CommandSpec = {
  words: ['login'],
  summary: 'Log in with an API key; stores the tokens, never the key',
  description: `Exchanges the API key (--apikey, or SEALBOX_APIKEY) for tokens at --endpoint (default ${DEFAULT_ENDPOINT}, or SEALBOX_ENDPOINT) and stores them for the other commands.`,
  options: [
    { flags: '--apikey <key>', description: 'the API key (@FILE or @- to keep it off the command line)' },
    { flags: '--endpoint <url>', description: `the gateway (default ${DEFAULT_ENDPOINT})` },
  ],
  examples: ['sealbox login --apikey @data/admin-apikey', 'sealbox login --apikey @- --endpoint https://sealbox.example < key.txt'],
  async run(context) {
    const { io, values } = context;
    const apikey = (stringOption(values, 'apikey') ?? io.env['SEALBOX_APIKEY'] ?? '').trim();
    if (!apikey) throw usage('--apikey KEY (or @FILE, @-, or SEALBOX_APIKEY) is required');
    const endpoint = endpointOf(stringOption(values, 'endpoint') ?? io.env['SEALBOX_ENDPOINT'] ?? DEFAULT_ENDPOINT);
    const session = sessionFromTokens(endpoint, await exchangeToken(io.fetch, endpoint, { apikey }));
    writeSession(context.configDir, session);
    const shown = { endpoint, iam_id: session.iam_id ?? null, account_id: session.account_id ?? null, expiration: new Date(session.expiration * 1000).toISOString() };
    emit(io.stdout, context.format, shown, () =>
      `Logged in.\n\n${fields([
        ['Endpoint', shown.endpoint],
        ['IAM ID', shown.iam_id],
        ['Account', shown.account_id],
        ['Token expires', shown.expiration],
      ])}`,
    );
  },
};

const logout: CommandSpec = {
  words: ['logout'],
  summary: 'Forget the stored session',
  async run(context) {
    const endpoint = (() => {
      try {
        return readSession(context.configDir)?.endpoint;
      } catch {
        return undefined;
      }
    })();
    const removed = removeSession(context.configDir);
    emit(context.io.stdout, context.format, { logged_out: removed, ...(endpoint ? { endpoint } : {}) }, () =>
      removed ? `Logged out from ${endpoint ?? 'the stored endpoint'}.\n` : 'Not logged in.\n',
    );
  },
};

const target: CommandSpec = {
  words: ['target'],
  summary: 'Show or set the default instances of the sm and kp commands',
  description:
    'With --instance, the instance (name, GUID or CRN) becomes the default of `sealbox sm` (a secrets-manager instance) or `sealbox kp` (a kms or hs-crypto instance), whichever it is. Without options, shows the session and the defaults.',
  options: [
    { flags: '-i, --instance <instance>', description: 'the instance to use by default (name, GUID or CRN)' },
    { flags: '--unset-instance', description: 'forget the default instances' },
  ],
  examples: ['sealbox target --instance my-sm', 'sealbox target'],
  async run(context) {
    const ref = stringOption(context.values, 'instance');
    let stored: StoredTarget = readTarget(context.configDir);
    if (context.values['unset-instance'] === true) {
      stored = {};
      writeTarget(context.configDir, stored);
    }
    if (ref !== undefined) {
      const { group, instance } = await targetInstance(context.gateway(), ref);
      stored = { ...stored, [group]: instance };
      writeTarget(context.configDir, stored);
    }
    const session = readSession(context.configDir);
    const shown = { endpoint: session?.endpoint ?? null, account_id: session?.account_id ?? null, sm: stored.sm ?? null, kp: stored.kp ?? null };
    const describe = (instance: StoredTarget['sm']) => (instance ? `${instance.name} (${instance.service}, ${instance.guid})` : '-');
    emit(context.io.stdout, context.format, shown, () =>
      fields([
        ['Endpoint', shown.endpoint ?? 'not logged in'],
        ['Account', shown.account_id],
        ['sm instance', describe(stored.sm)],
        ['kp instance', describe(stored.kp)],
      ]),
    );
  },
};

export const loginCommands: readonly CommandSpec[] = [login, logout, target];
