import { stringOption, valueOrFile, type Command } from '../command.js';
import { readSession, removeSession, writeSession } from '../config.js';
import { usage } from '../errors.js';
import { exchangeToken, sessionFromTokens } from '../http.js';
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

const login: Command = {
  words: ['login'],
  usage: '--apikey KEY|@FILE [--endpoint URL]',
  summary: `Log in with an API key (or SEALBOX_APIKEY) at --endpoint (default ${DEFAULT_ENDPOINT}); stores tokens, never the key`,
  options: { apikey: { type: 'string' }, endpoint: { type: 'string' } },
  async run(context) {
    const { io, values } = context;
    const given = stringOption(values, 'apikey') ?? io.env['SEALBOX_APIKEY'];
    if (!given) throw usage('--apikey KEY (or @FILE, or SEALBOX_APIKEY) is required');
    const apikey = valueOrFile(given, '--apikey').trim();
    if (!apikey) throw usage('--apikey is empty');
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

const logout: Command = {
  words: ['logout'],
  usage: '',
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

export const loginCommands: readonly Command[] = [login, logout];
