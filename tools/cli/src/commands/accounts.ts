import { IamWire } from '@sealbox/contracts';
import { writeFileSync } from 'node:fs';
import { stringOption, type CommandSpec, type Context } from '../command.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { emit, fields, table } from '../output.js';
import { answerOf } from '../resource-api.js';

/**
 * `sealbox iam account-create` and `sealbox iam accounts`: tenants of a platform, for platform
 * operators (an Administrator of the account created on first start). Self-contained: a list of
 * commands the CLI registers as they are (`accountCommands`), each a thin call to `/v1/accounts`.
 */

const accountCreate: CommandSpec = {
  words: ['iam', 'account-create'],
  summary: "Create an account with its first administrator (platform operators); the administrator's API key is shown once, or written to --apikey-file (0600)",
  arguments: ['<name>'],
  options: [{ flags: '--apikey-file <file>', description: "Write the administrator's API key to this new file (0600) instead of showing it" }],
  examples: ['sealbox iam account-create team-a --apikey-file team-a.key'],
  async run(context) {
    const [name = ''] = context.positionals;
    const keyFile = stringOption(context.values, 'apikey-file');
    if (keyFile === '') throw usage('--apikey-file needs a file name');
    const answer = await context.gateway().request({ method: 'POST', path: '/v1/accounts', json: { name } });
    const created = answerOf(IamWire.CreateAccountResponse, answer, 'POST /v1/accounts');
    if (keyFile !== undefined) writeFileSync(keyFile, `${created.apikey}\n`, { mode: 0o600, flag: 'wx' });
    const shown = keyFile !== undefined ? { ...created, apikey: undefined, apikey_file: keyFile } : created;
    emit(context.io.stdout, context.format, shown, () =>
      `Account created.\n\n${fields([
        ['Account ID', created.account_id],
        ['Name', created.name ?? name],
        ['Administrator', created.admin_iam_id],
        ['API key ID', created.apikey_id],
        keyFile !== undefined ? ['API key file', keyFile] : ['API key', created.apikey],
      ])}${keyFile !== undefined ? '' : '\nThis API key is shown once. Hand it to the administrator of the account.\n'}`,
    );
  },
};

const accounts: CommandSpec = {
  words: ['iam', 'accounts'],
  summary: 'List the accounts of the platform (platform operators)',
  async run(context) {
    const found = await listAccounts(context);
    emit(context.io.stdout, context.format, found, () =>
      table(found, [
        ['ID', (account) => account.account_id],
        ['Name', (account) => account.name],
        ['Created', (account) => account.created_at],
      ]),
    );
  },
};

/** Every page of `GET /v1/accounts`, following `next` until it is absent. */
async function listAccounts(context: Context): Promise<IamWire.Account[]> {
  const found: IamWire.Account[] = [];
  let query: Record<string, string | number> = { pagesize: 100 };
  for (let page = 0; page < 1_000; page += 1) {
    const answer = await context.gateway().request({ method: 'GET', path: '/v1/accounts', query });
    const list = answerOf(IamWire.AccountList, answer, 'GET /v1/accounts');
    found.push(...list.accounts);
    const pagetoken = list.next ? new URL(list.next, 'http://next.invalid').searchParams.get('pagetoken') : null;
    if (!pagetoken) return found;
    query = { pagesize: 100, pagetoken };
  }
  throw new CliError(ExitCode.SERVER, 'GET /v1/accounts kept answering a next page (1,000 pages)');
}

export const accountCommands: readonly CommandSpec[] = [accountCreate, accounts];
