import { SealWire } from '@sealbox/contracts';
import { stringOption, type CommandSpec, type Context } from '../command.js';
import { readSession } from '../config.js';
import { usage } from '../errors.js';
import { send, type HttpRequest } from '../http.js';
import { emit, fields } from '../output.js';
import { answerOf } from '../resource-api.js';
import { endpointOf } from './login.js';

/**
 * `sealbox operator init | unseal | seal-status | seal | rekey | rotate`: the key store's seal
 * (`/v1/sys/*`, Vault's operator commands). init, unseal and seal-status need no login (a sealed
 * Sealbox has no IAM to log in to): they go to --endpoint, SEALBOX_ENDPOINT, the logged-in gateway
 * or http://127.0.0.1:8080. seal, rekey and rotate need a platform operator's session.
 */

const endpointOption = { flags: '--endpoint <url>', description: 'the gateway (default: SEALBOX_ENDPOINT, the logged-in one, or http://127.0.0.1:8080)' };

function publicEndpoint(context: Context): string {
  const given = stringOption(context.values, 'endpoint') ?? context.io.env['SEALBOX_ENDPOINT'];
  if (given) return endpointOf(given);
  try {
    const session = readSession(context.configDir);
    if (session) return session.endpoint;
  } catch {
    // no readable session: the default
  }
  return 'http://127.0.0.1:8080';
}

const publicRequest = (context: Context, request: HttpRequest) => send(context.io.fetch, publicEndpoint(context), request);

function statusText(status: SealWire.SealStatus): string {
  return fields([
    ['Initialized', status.initialized],
    ['Sealed', status.sealed],
    ['Seal type', status.type ?? '-'],
    ['Threshold', status.t],
    ['Shares', status.n],
    ['Unseal progress', `${status.progress}/${status.t}`],
    ...(status.auto_unseal_error ? ([['Auto-unseal error', `${status.auto_unseal_error.code}: ${status.auto_unseal_error.message}`]] as const) : []),
  ]);
}

/** A passphrase, `--shares N --threshold K` or `--pkcs11` as the body of init and rekey. */
function secretRequest(context: Context): SealWire.SealSecretRequest {
  const passphrase = stringOption(context.values, 'passphrase');
  const shares = stringOption(context.values, 'shares');
  const threshold = stringOption(context.values, 'threshold');
  if (context.values['pkcs11'] === true) {
    if (passphrase !== undefined || shares !== undefined || threshold !== undefined) throw usage('Give either --pkcs11, --passphrase or --shares and --threshold');
    return { type: 'pkcs11' };
  }
  if (passphrase !== undefined) {
    if (shares !== undefined || threshold !== undefined) throw usage('Give either --passphrase or --shares and --threshold, not both');
    return { type: 'passphrase', passphrase: passphrase.replace(/\r?\n$/, '') };
  }
  const count = (text: string | undefined, name: string, fallback: number): number => {
    if (text === undefined) return fallback;
    if (!/^[0-9]{1,2}$/.test(text)) throw usage(`--${name} must be a whole number`);
    return Number(text);
  };
  return { type: 'shamir', secret_shares: count(shares, 'shares', 5), secret_threshold: count(threshold, 'threshold', 3) };
}

const secretOptions = [
  { flags: '--passphrase <passphrase>', description: `an unseal passphrase (at least ${SealWire.MIN_PASSPHRASE_LENGTH} characters; @FILE or @- keeps it off the command line)` },
  { flags: '--shares <n>', description: 'Shamir: how many unseal key shares to make (default 5)' },
  { flags: '--threshold <k>', description: 'Shamir: how many shares unseal (default 3)' },
  { flags: '--pkcs11', description: "auto-unseal: the server's PKCS#11 token (SEALBOX_SEAL_PKCS11_*) keeps the unseal key; the store then unseals itself at start" },
];

function secretText(answer: SealWire.SealSecretResponse, what: string): string {
  if (answer.type === 'pkcs11') return `${what}: the unseal key is wrapped by the PKCS#11 token's key; the store unseals itself from the token at start (or with sealbox operator unseal, no key).\n`;
  if (answer.type !== 'shamir') return `${what}. Keep the passphrase safe: it is not stored anywhere and nothing opens without it.\n`;
  return `${what}.\n\n${answer.keys.map((key, index) => `Unseal key ${index + 1}: ${key}`).join('\n')}\n\nThese shares are shown ONCE and stored nowhere: give each to a different operator. Unsealing needs the threshold of them (sealbox operator unseal, one share per call).\n`;
}

const init: CommandSpec = {
  words: ['operator', 'init'],
  summary: 'Initialise an empty key store: n Shamir shares of which k unseal (shown once), or a passphrase',
  options: [...secretOptions, endpointOption],
  examples: ['sealbox operator init --shares 5 --threshold 3', 'sealbox operator init --passphrase @- < passphrase.txt', 'sealbox operator init --pkcs11'],
  async run(context) {
    const answer = await publicRequest(context, { method: 'POST', path: '/v1/sys/init', json: secretRequest(context) });
    const created = answerOf(SealWire.SealSecretResponse, answer, 'POST /v1/sys/init');
    const next = created.type === 'pkcs11' ? 'sealbox operator unseal --auto' : 'sealbox operator unseal';
    emit(context.io.stdout, context.format, created, () => `${secretText(created, 'Initialised')}It is still sealed: run ${next}.\n`);
  },
};

const unseal: CommandSpec = {
  words: ['operator', 'unseal'],
  summary: 'Give one unseal input: a share, the passphrase or the key (one per call; k calls for k of n shares)',
  arguments: ['[key]'],
  options: [
    { flags: '--key <key>', description: 'the share, passphrase or key (@FILE or @- keeps it off the command line and out of the shell history)' },
    { flags: '--reset', description: 'forget the inputs given so far' },
    { flags: '--auto', description: 'a store sealed by a PKCS#11 token (auto-unseal): ask the token again' },
    endpointOption,
  ],
  examples: ['sealbox operator unseal --key @-', 'sealbox operator unseal --reset', 'sealbox operator unseal --auto'],
  async run(context) {
    const key = stringOption(context.values, 'key') ?? context.positionals[0];
    const reset = context.values['reset'] === true;
    const auto = context.values['auto'] === true;
    if (!reset && !auto && !key) throw usage('Give the share, passphrase or key with --key (@FILE or @- to read it), --auto for a PKCS#11 auto-unseal store, or --reset');
    const json = reset ? { reset: true } : auto ? {} : { key: (key ?? '').replace(/\r?\n$/, '') };
    const answer = await publicRequest(context, { method: 'POST', path: '/v1/sys/unseal', json });
    const status = answerOf(SealWire.SealStatus, answer, 'POST /v1/sys/unseal');
    emit(context.io.stdout, context.format, status, () => statusText(status));
  },
};

const sealStatus: CommandSpec = {
  words: ['operator', 'seal-status'],
  summary: 'Whether the key store is initialised and sealed, and the unseal progress',
  options: [endpointOption],
  async run(context) {
    const answer = await publicRequest(context, { method: 'GET', path: '/v1/sys/seal-status' });
    const status = answerOf(SealWire.SealStatus, answer, 'GET /v1/sys/seal-status');
    emit(context.io.stdout, context.format, status, () => statusText(status));
  },
};

const seal: CommandSpec = {
  words: ['operator', 'seal'],
  summary: 'Seal now: every key leaves memory and only the seal endpoints answer until unsealed (platform operators)',
  async run(context) {
    await context.gateway().request({ method: 'POST', path: '/v1/sys/seal' });
    emit(context.io.stdout, context.format, { sealed: true }, () => 'Sealed. Unseal with sealbox operator unseal.\n');
  },
};

const rekey: CommandSpec = {
  words: ['operator', 'rekey'],
  summary: 'Change the unseal secret (new shares or a new passphrase) without re-encrypting data (platform operators)',
  options: secretOptions,
  examples: ['sealbox operator rekey --shares 5 --threshold 3', 'sealbox operator rekey --passphrase @new-passphrase.txt'],
  async run(context) {
    const answer = await context.gateway().request({ method: 'POST', path: '/v1/sys/rekey', json: secretRequest(context) });
    const created = answerOf(SealWire.SealSecretResponse, answer, 'POST /v1/sys/rekey');
    emit(context.io.stdout, context.format, created, () => secretText(created, 'Rekeyed: the old unseal secret no longer opens the store'));
  },
};

const rotate: CommandSpec = {
  words: ['operator', 'rotate'],
  summary: 'Rotate the soft HSM master key: every stored key re-wrapped under a new one (platform operators)',
  async run(context) {
    const answer = await context.gateway().request({ method: 'POST', path: '/v1/sys/rotate' });
    const rotated = answerOf(SealWire.RotateResponse, answer, 'POST /v1/sys/rotate');
    emit(context.io.stdout, context.format, rotated, () => `Master key rotated: ${rotated.rewrapped} keys re-wrapped.\n`);
  },
};

export const operatorCommands: readonly CommandSpec[] = [init, unseal, sealStatus, seal, rekey, rotate];
