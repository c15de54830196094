import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KmsWire, LifecycleWire, SecretsWire } from '@sealbox/contracts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CaptureServer, type CannedReply, type CapturedRequest } from '../../../libs/sm-client/src/testing/capture-server.js';
import { run } from './cli.js';
import { subjectsOf } from './commands/events.js';
import { planIdOf } from './commands/resource.js';
import { writeSession, type StoredSession } from './config.js';
import { ExitCode } from './errors.js';
import type { EventSource, TailOptions } from './events/source.js';
import type { CliIo } from './io.js';
import { stepsOf } from './wait.js';

// ---------- fixtures ----------

const NOW_S = 1_800_000_000;
const GUID = '0b6f0c4e-6a51-4b5e-9d7e-6f1a2b3c4d5e';
const KMS_GUID = '7d1c9a40-2b7e-4c55-8f0a-1e2d3c4b5a69';
const RECLAMATION_ID = 'b2a4c6e8-1357-4abc-9def-0123456789ab';
const CRN = `crn:v1:sealbox:public:secrets-manager:us-south:a/acc-1:${GUID}::`;

/** A JWT-shaped token (the CLI only decodes its claims for display). */
function accessToken(tag: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256', kid: 'k1' })}.${part({ iam_id: 'IBMid-admin', account: { bss: 'acc-1' }, tag })}.sig-${tag}`;
}
const TOKEN_1 = accessToken('one');
const TOKEN_2 = accessToken('two');
const REFRESH_1 = 'refresh-token-one-never-printed';
const REFRESH_2 = 'refresh-token-two-never-printed';
const APIKEY = 'apikey-value-never-printed';
/** No command may ever write one of these. */
const NEVER_PRINTED = [TOKEN_1, TOKEN_2, REFRESH_1, REFRESH_2, APIKEY];

const tokens = (access: string, refresh: string, expiration = NOW_S + 3600) => ({
  access_token: access,
  refresh_token: refresh,
  token_type: 'Bearer',
  expires_in: 3600,
  expiration,
  scope: 'ibm openid',
});

function instance(overrides: Partial<LifecycleWire.ResourceInstance> = {}): LifecycleWire.ResourceInstance {
  return {
    id: CRN,
    guid: GUID,
    crn: CRN,
    url: `/v2/resource_instances/${GUID}`,
    name: 'my-sm',
    region_id: 'us-south',
    account_id: 'acc-1',
    resource_plan_id: 'secrets-manager-standard',
    resource_group_id: 'default',
    resource_id: 'secrets-manager',
    type: 'service_instance',
    state: 'active',
    locked: false,
    allow_cleanup: false,
    created_at: '2027-01-15T08:00:00.000Z',
    created_by: 'IBMid-admin',
    updated_at: '2027-01-15T08:00:00.000Z',
    plan_history: [{ resource_plan_id: 'secrets-manager-standard', start_date: '2027-01-15T08:00:00.000Z' }],
    ...overrides,
  };
}

function reclamation(overrides: Partial<LifecycleWire.Reclamation> = {}): LifecycleWire.Reclamation {
  return {
    id: RECLAMATION_ID,
    entity_id: GUID,
    entity_type_id: 'service_instance',
    entity_crn: CRN,
    resource_instance_id: GUID,
    resource_group_id: 'default',
    account_id: 'acc-1',
    policy_id: 'secrets-manager-standard',
    state: 'SCHEDULED',
    target_time: '2027-01-22T08:00:00.000Z',
    created_at: '2027-01-15T08:00:00.000Z',
    created_by: 'IBMid-admin',
    updated_at: '2027-01-15T08:00:00.000Z',
    updated_by: 'IBMid-admin',
    ...overrides,
  };
}

function key(overrides: Partial<KmsWire.Key> = {}): KmsWire.Key {
  return {
    type: 'application/vnd.ibm.kms.key+json',
    id: 'a1b2c3d4-0000-4000-8000-000000000001',
    name: 'root-1',
    aliases: [],
    state: 1,
    crn: `crn:v1:sealbox:public:kms:us-south:a/acc-1:${KMS_GUID}:key:a1b2c3d4-0000-4000-8000-000000000001`,
    extractable: false,
    imported: false,
    algorithmType: 'AES',
    keyRingID: 'default',
    creationDate: '2027-01-15T08:00:00.000Z',
    createdBy: 'IBMid-admin',
    lastUpdateDate: '2027-01-15T08:00:00.000Z',
    keyVersion: { id: 'v1', creationDate: '2027-01-15T08:00:00.000Z' },
    dualAuthDelete: { enabled: false },
    deleted: false,
    ...overrides,
  };
}

const keyCollection = (...keys: KmsWire.Key[]) => ({ metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: keys.length }, resources: keys });

function secret(): SecretsWire.Secret {
  return {
    secret_type: 'arbitrary',
    id: '5e0c7a1b-9d3f-4e2a-8b6c-1f0e9d8c7b6a',
    crn: `crn:v1:sealbox:public:secrets-manager:us-south:a/acc-1:${GUID}:secret:5e0c7a1b-9d3f-4e2a-8b6c-1f0e9d8c7b6a`,
    name: 'db-password',
    secret_group_id: 'default',
    labels: ['prod'],
    state: 1,
    state_description: 'active',
    created_at: '2027-01-15T08:00:00.000Z',
    created_by: 'IBMid-admin',
    updated_at: '2027-01-15T08:00:00.000Z',
    versions_total: 1,
    locks_total: 0,
    downloaded: true,
    payload: 'the-secret-payload',
  };
}

const ibmError = (status: number, code: string, message: string): CannedReply => ({
  status,
  body: { errors: [{ code, message }], status_code: status, trace: '4bf92f3577b34da6a3ce929d0e0e4736' },
});

// ---------- harness ----------

type Route = (request: CapturedRequest) => CannedReply | undefined;

let server: CaptureServer;
let home: string;
let configHome: string;
let clockMs: number;

beforeAll(async () => {
  server = await CaptureServer.start();
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  home = mkdtempSync(join(tmpdir(), 'sealbox-cli-'));
  configHome = join(home, 'config');
  clockMs = NOW_S * 1000;
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** Answers with the first route that answers; anything else is a 404 the test will notice. */
function routes(...handlers: Route[]): void {
  server.respond((request) => handlers.reduce<CannedReply | undefined>((found, handler) => found ?? handler(request), undefined) ?? ibmError(404, 'NOT_FOUND', `no fake route for ${request.method} ${request.rawPath}`));
}
const on =
  (method: string, path: string | RegExp, reply: (request: CapturedRequest) => CannedReply): Route =>
  (request) =>
    request.method === method && (typeof path === 'string' ? request.rawPath === path : path.test(request.rawPath)) ? reply(request) : undefined;
/** Answers a sequence: each request gets the next reply, the last one repeats. */
const sequence = (...replies: CannedReply[]) => {
  let index = 0;
  return () => replies[Math.min(index++, replies.length - 1)] as CannedReply;
};

class FakeEvents implements EventSource {
  options: TailOptions | undefined;
  constructor(private readonly texts: readonly string[]) {}
  async *tail(options: TailOptions) {
    this.options = options;
    options.onReady();
    for (const text of this.texts) yield { subject: 'events.x', text };
  }
}

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(argv: readonly string[], extra: Partial<CliIo> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { XDG_CONFIG_HOME: configHome },
    homedir: home,
    fetch: globalThis.fetch,
    nowMs: () => clockMs,
    sleep: async (ms) => {
      clockMs += ms;
    },
    pollIntervalMs: 1_000,
    events: new FakeEvents([]),
    ...extra,
  };
  const code = await run(argv, io);
  for (const secretValue of NEVER_PRINTED) {
    expect(stdout, 'stdout').not.toContain(secretValue);
    expect(stderr, 'stderr').not.toContain(secretValue);
  }
  return { code, stdout, stderr };
}

const sessionFile = () => join(configHome, 'sealbox', 'config.json');

function login(overrides: Partial<StoredSession> = {}): void {
  const dir = join(configHome, 'sealbox');
  writeSession(dir, { endpoint: server.url, access_token: TOKEN_1, refresh_token: REFRESH_1, expiration: NOW_S + 3600, ...overrides });
}

const bodyOf = (request: CapturedRequest | undefined): unknown => JSON.parse(request?.body ?? 'null');
const requestsTo = (method: string, path: string) => server.requests.filter((request) => request.method === method && request.rawPath === path);

// ---------- tests ----------

describe('login and the stored session', () => {
  it('exchanges the API key (form-encoded IAM grant) and stores the tokens in a 0600 file in a 0700 folder, printing no token', async () => {
    routes(on('POST', '/identity/token', () => ({ status: 200, body: tokens(TOKEN_1, REFRESH_1) })));
    const result = await cli(['login', '--apikey', APIKEY, '--endpoint', `${server.url}/`]);

    expect(result.code).toBe(ExitCode.OK);
    const exchange = server.single();
    expect(exchange.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(exchange.body))).toEqual({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: APIKEY });
    expect(statSync(sessionFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(configHome, 'sealbox')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(sessionFile(), 'utf8')) as StoredSession;
    expect(stored).toMatchObject({ endpoint: server.url, access_token: TOKEN_1, refresh_token: REFRESH_1, expiration: NOW_S + 3600, iam_id: 'IBMid-admin', account_id: 'acc-1' });
    expect(JSON.stringify(stored)).not.toContain(APIKEY);
    expect(result.stdout).toContain('IBMid-admin');
  });

  it('falls back to ~/.config/sealbox without XDG_CONFIG_HOME, reads the key from @FILE, and prints JSON without tokens', async () => {
    routes(on('POST', '/identity/token', () => ({ status: 200, body: tokens(TOKEN_1, REFRESH_1) })));
    const keyFile = join(home, 'apikey');
    writeFileSync(keyFile, `${APIKEY}\n`, { mode: 0o600 });
    const result = await cli(['login', '--apikey', `@${keyFile}`, '--endpoint', server.url, '--output', 'json'], { env: {} });

    expect(result.code).toBe(ExitCode.OK);
    expect(new URLSearchParams(server.single().body).get('apikey')).toBe(APIKEY);
    expect(statSync(join(home, '.config', 'sealbox', 'config.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(result.stdout)).toEqual({ endpoint: server.url, iam_id: 'IBMid-admin', account_id: 'acc-1', expiration: new Date((NOW_S + 3600) * 1000).toISOString() });
  });

  it('a refused API key exits 1 with the IBM error code and message, and stores nothing', async () => {
    routes(on('POST', '/identity/token', () => ibmError(400, 'BXNIM0415E', 'Provided API key could not be found')));
    const result = await cli(['login', '--apikey', APIKEY, '--endpoint', server.url]);

    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('BXNIM0415E: Provided API key could not be found (HTTP 400)');
    expect(() => statSync(sessionFile())).toThrow();
  });

  it('login without a key, or with an endpoint that is not a URL, is a usage error (2) and sends nothing', async () => {
    expect((await cli(['login'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['login', '--apikey', APIKEY, '--endpoint', 'not a url'])).code).toBe(ExitCode.USAGE);
    expect(server.requests).toHaveLength(0);
  });

  it('a command without a session exits 3 and says to log in; logout forgets the session', async () => {
    const missing = await cli(['resource', 'service-instances']);
    expect(missing.code).toBe(ExitCode.NOT_LOGGED_IN);
    expect(missing.stderr).toContain('sealbox login');

    login();
    const out = await cli(['logout']);
    expect(out.code).toBe(ExitCode.OK);
    expect(() => statSync(sessionFile())).toThrow();
    expect((await cli(['resource', 'service-instances'])).code).toBe(ExitCode.NOT_LOGGED_IN);
  });

  it('refreshes an expired access token with the refresh token, uses the new one and stores it (still 0600)', async () => {
    login({ expiration: NOW_S - 10 });
    routes(
      on('POST', '/identity/token', () => ({ status: 200, body: tokens(TOKEN_2, REFRESH_2) })),
      on('GET', '/v2/resource_instances', () => ({ status: 200, body: { rows_count: 0, next_url: null, resources: [] } })),
    );
    const result = await cli(['resource', 'service-instances']);

    expect(result.code).toBe(ExitCode.OK);
    const [refresh, list] = server.requests;
    expect(Object.fromEntries(new URLSearchParams(refresh?.body))).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH_1 });
    expect(list?.headers.authorization).toBe(`Bearer ${TOKEN_2}`);
    expect(JSON.parse(readFileSync(sessionFile(), 'utf8'))).toMatchObject({ access_token: TOKEN_2, refresh_token: REFRESH_2 });
    expect(statSync(sessionFile()).mode & 0o777).toBe(0o600);
  });

  it('an expired session whose refresh is refused exits 3', async () => {
    login({ expiration: NOW_S - 10 });
    routes(on('POST', '/identity/token', () => ibmError(400, 'BXNIM0407E', 'Refresh token expired')));
    const result = await cli(['resource', 'service-instances']);

    expect(result.code).toBe(ExitCode.NOT_LOGGED_IN);
    expect(result.stderr).toContain('BXNIM0407E');
    expect(result.stderr).toContain('sealbox login');
  });

  it('a gateway that does not answer exits 5', async () => {
    const closed = await CaptureServer.start();
    const url = closed.url;
    await closed.close();
    login({ endpoint: url });
    const result = await cli(['resource', 'service-instances']);
    expect(result.code).toBe(ExitCode.UNREACHABLE);
    expect(result.stderr).toContain(`Cannot reach ${url}`);
    const secrets = await cli(['secrets', 'list', '--instance-id', GUID]);
    expect(secrets.code).toBe(ExitCode.UNREACHABLE);
    expect(secrets.stderr).toContain(`Cannot reach ${url}/secrets-manager/${GUID}/api/v2`);
  });
});

describe('usage', () => {
  it('unknown commands, unknown options, missing arguments and a bad --output exit 2 without a request', async () => {
    login();
    for (const argv of [
      ['frobnicate'],
      ['resource', 'nope'],
      ['resource', 'service-instances', '--bogus'],
      ['resource', 'service-instance-create', 'only-a-name'],
      ['resource', 'service-instance', 'a', 'b'],
      ['resource', 'service-instances', '--output', 'yaml'],
      ['resource', 'reclamations', '--resource-instance-id', 'not-a-guid'],
      ['kms', 'keys'],
      ['secrets', 'get', '', '--instance-id', GUID],
      ['secrets', 'create', '--instance-id', GUID, '--type', 'private_cert', '--name', 'x'],
      ['resource', 'service-instance-create', 'n', 'secrets-manager', 'standard', 'us-south', '-p', '{not json'],
    ]) {
      expect((await cli(argv)).code, argv.join(' ')).toBe(ExitCode.USAGE);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('with --output json a failure is a JSON object on stderr with the exit code', async () => {
    const result = await cli(['resource', 'service-instance', '--output', 'json']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { exit_code: 2 } });
    expect(result.stdout).toBe('');
  });

  it('help lists every command and the exit codes; no arguments prints it to stderr with exit 2', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(ExitCode.OK);
    for (const command of ['service-instance-create', 'reclamation-restore', 'reclamation-delete', 'key-rotate', 'secrets get', 'events tail']) expect(help.stdout).toContain(command);
    expect(help.stdout).toContain('3 not logged in');
    const none = await cli([]);
    expect(none.code).toBe(ExitCode.USAGE);
    expect(none.stderr).toContain('Usage: sealbox');
  });

  it('plan names map to plan ids as in ibmcloud (standard → secrets-manager-standard; an id stays)', () => {
    expect(planIdOf('secrets-manager', 'standard')).toBe('secrets-manager-standard');
    expect(planIdOf('kms', 'kms-standard')).toBe('kms-standard');
  });

  it('reads saga progress out of a last_operation description', () => {
    expect(stepsOf('deleting the bucket (step 2 of 4)')).toEqual({ done: 2, total: 4 });
    expect(stepsOf('3/3 done')).toEqual({ done: 3, total: 3 });
    expect(stepsOf('working')).toBeUndefined();
  });
});

describe('resource service instances', () => {
  beforeEach(() => login());

  it('service-instance-create posts the Resource Controller body and follows provisioning to active', async () => {
    const polls = sequence(
      { status: 200, body: instance({ state: 'provisioning', last_operation: { type: 'create', state: 'in progress', async: true, description: 'creating the bucket (step 1 of 3)', cancelable: false, poll: true } }) },
      { status: 200, body: instance({ state: 'active', last_operation: { type: 'create', state: 'succeeded', async: true, description: 'done', cancelable: false, poll: false } }) },
    );
    routes(
      on('POST', '/v2/resource_instances', () => ({ status: 201, body: instance({ state: 'provisioning', last_operation: { type: 'create', state: 'in progress', async: true, cancelable: false, poll: true } }) })),
      on('GET', `/v2/resource_instances/${GUID}`, polls),
    );
    const result = await cli(['resource', 'service-instance-create', 'my-sm', 'secrets-manager', 'standard', 'us-south', '-p', '{"kms_key":"crn:v1:x"}', '-g', 'rg-1', '--output', 'json']);

    expect(result.code).toBe(ExitCode.OK);
    const [create] = requestsTo('POST', '/v2/resource_instances');
    expect(create?.headers.authorization).toBe(`Bearer ${TOKEN_1}`);
    expect(bodyOf(create)).toEqual({ name: 'my-sm', target: 'us-south', resource_group: 'rg-1', resource_plan_id: 'secrets-manager-standard', parameters: { kms_key: 'crn:v1:x' } });
    expect(requestsTo('GET', `/v2/resource_instances/${GUID}`)).toHaveLength(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ guid: GUID, state: 'active' });
  });

  it('shows provisioning progress on stderr (one line per change when stderr is not a terminal), the instance on stdout', async () => {
    routes(
      on('POST', '/v2/resource_instances', () => ({ status: 201, body: instance({ state: 'provisioning' }) })),
      on('GET', `/v2/resource_instances/${GUID}`, sequence({ status: 200, body: instance({ state: 'provisioning', last_operation: { type: 'create', state: 'in progress', async: true, description: 'step 2 of 3', cancelable: false, poll: true } }) }, { status: 200, body: instance() })),
    );
    const result = await cli(['resource', 'service-instance-create', 'my-sm', 'secrets-manager', 'secrets-manager-standard', 'us-south']);

    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toContain('Provisioning: provisioning: step 2 of 3');
    expect(result.stderr).toContain('Provisioning: active');
    expect(result.stdout).toContain('Service instance my-sm was created.');
    expect(result.stdout).toMatch(/GUID:\s+0b6f0c4e/);
  });

  it('a provisioning saga that fails exits 1 with its last operation', async () => {
    routes(
      on('POST', '/v2/resource_instances', () => ({ status: 201, body: instance({ state: 'provisioning' }) })),
      on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance({ state: 'failed', last_operation: { type: 'create', state: 'failed', async: true, description: 'the key registration was refused', cancelable: false, poll: false } }) })),
    );
    const result = await cli(['resource', 'service-instance-create', 'my-sm', 'secrets-manager', 'standard', 'us-south']);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('the key registration was refused');
  });

  it('a provisioning saga that does not finish within --timeout exits 4', async () => {
    routes(
      on('POST', '/v2/resource_instances', () => ({ status: 201, body: instance({ state: 'provisioning' }) })),
      on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance({ state: 'provisioning' }) })),
    );
    const result = await cli(['resource', 'service-instance-create', 'my-sm', 'secrets-manager', 'standard', 'us-south', '--timeout', '5']);
    expect(result.code).toBe(ExitCode.TIMEOUT);
    expect(result.stderr).toContain('did not finish within 5s');
    expect(requestsTo('GET', `/v2/resource_instances/${GUID}`).length).toBeGreaterThanOrEqual(5);
  });

  it('a refused create (unknown plan) exits 1 with the IBM error code and message', async () => {
    routes(on('POST', '/v2/resource_instances', () => ibmError(400, 'VALIDATION_FAILED', 'Unknown plan secrets-manager-gold')));
    const result = await cli(['resource', 'service-instance-create', 'my-sm', 'secrets-manager', 'gold', 'us-south']);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('VALIDATION_FAILED: Unknown plan secrets-manager-gold (HTTP 400)');
  });

  it('service-instances follows next_url to the last page and prints a table, or JSON', async () => {
    const second = instance({ guid: '11111111-2222-4333-8444-555555555555', name: 'other', resource_id: 'kms', resource_plan_id: 'kms-standard' });
    routes(
      on('GET', '/v2/resource_instances', (request) =>
        request.query['start'] === 'p2'
          ? { status: 200, body: { rows_count: 1, next_url: null, resources: [second] } }
          : { status: 200, body: { rows_count: 1, next_url: '/v2/resource_instances?start=p2&limit=100', resources: [instance()] } },
      ),
    );
    const human = await cli(['resource', 'service-instances']);
    expect(human.code).toBe(ExitCode.OK);
    expect(human.stdout.split('\n')[0]).toMatch(/^Name\s+Location\s+State\s+Service\s+Plan\s+GUID$/);
    expect(human.stdout).toContain('my-sm');
    expect(human.stdout).toContain('kms-standard');
    expect(server.requests.map((request) => request.query['start'] ?? null)).toEqual([null, 'p2']);

    server.reset();
    const json = await cli(['resource', 'service-instances', '--service-name', 'secrets-manager', '--output', 'json']);
    expect(server.requests[0]?.query).toMatchObject({ resource_id: 'secrets-manager', limit: '100' });
    expect((JSON.parse(json.stdout) as { guid: string }[]).map((i) => i.guid)).toEqual([GUID, second.guid]);
  });

  it('service-instance takes a GUID, a CRN (percent-encoded in the path) or a name', async () => {
    routes(
      on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance() })),
      on('GET', `/v2/resource_instances/${encodeURIComponent(CRN)}`, () => ({ status: 200, body: instance() })),
      on('GET', '/v2/resource_instances', () => ({ status: 200, body: { rows_count: 1, next_url: null, resources: [instance()] } })),
    );
    for (const ref of [GUID, CRN, 'my-sm']) {
      const result = await cli(['resource', 'service-instance', ref, '--output', 'json']);
      expect(result.code, ref).toBe(ExitCode.OK);
      expect(JSON.parse(result.stdout)).toMatchObject({ guid: GUID, name: 'my-sm' });
    }
    expect(server.requests.map((request) => request.rawPath)).toEqual([`/v2/resource_instances/${GUID}`, `/v2/resource_instances/${encodeURIComponent(CRN)}`, '/v2/resource_instances']);
    expect(server.requests[2]?.query['name']).toBe('my-sm');
  });

  it('an unknown name exits 1; a name two instances share exits 2 naming their GUIDs', async () => {
    routes(on('GET', '/v2/resource_instances', () => ({ status: 200, body: { rows_count: 0, next_url: null, resources: [] } })));
    const unknown = await cli(['resource', 'service-instance', 'nope']);
    expect(unknown.code).toBe(ExitCode.SERVER);
    expect(unknown.stderr).toContain('NOT_FOUND');

    const twin = instance({ guid: '11111111-2222-4333-8444-555555555555' });
    routes(on('GET', '/v2/resource_instances', () => ({ status: 200, body: { rows_count: 2, next_url: null, resources: [instance(), twin] } })));
    const ambiguous = await cli(['resource', 'service-instance', 'my-sm']);
    expect(ambiguous.code).toBe(ExitCode.USAGE);
    expect(ambiguous.stderr).toContain(twin.guid);
  });

  it('service-instance-delete without -f and without a terminal refuses (2) and deletes nothing', async () => {
    routes(on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance() })));
    const result = await cli(['resource', 'service-instance-delete', GUID]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('-f');
    expect(requestsTo('DELETE', `/v2/resource_instances/${GUID}`)).toHaveLength(0);
  });

  it('service-instance-delete asks on a terminal and does nothing on "no"', async () => {
    routes(on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance() })));
    const questions: string[] = [];
    const result = await cli(['resource', 'service-instance-delete', GUID], { confirm: async (question) => (questions.push(question), false) });
    expect(result.code).toBe(ExitCode.OK);
    expect(questions[0]).toContain(GUID);
    expect(requestsTo('DELETE', `/v2/resource_instances/${GUID}`)).toHaveLength(0);
  });

  it('service-instance-delete -f by name deletes by GUID and names the scheduled reclamation', async () => {
    routes(
      on('GET', '/v2/resource_instances', () => ({ status: 200, body: { rows_count: 1, next_url: null, resources: [instance()] } })),
      on('DELETE', `/v2/resource_instances/${GUID}`, () => ({ status: 204 })),
      on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance({ state: 'pending_reclamation' }) })),
      on('GET', '/v1/reclamations', () => ({ status: 200, body: { resources: [reclamation()] } })),
    );
    const human = await cli(['resource', 'service-instance-delete', 'my-sm', '-f']);
    expect(human.code).toBe(ExitCode.OK);
    expect(requestsTo('DELETE', `/v2/resource_instances/${GUID}`)).toHaveLength(1);
    expect(requestsTo('GET', '/v1/reclamations')[0]?.query).toEqual({ resource_instance_id: GUID });
    expect(human.stdout).toContain(`Reclamation ${RECLAMATION_ID} is SCHEDULED until 2027-01-22T08:00:00.000Z`);
    expect(human.stdout).toContain(`sealbox resource reclamation-restore ${RECLAMATION_ID}`);

    const json = await cli(['resource', 'service-instance-delete', GUID, '-f', '--output', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ instance: { guid: GUID, state: 'pending_reclamation' }, reclamation: { id: RECLAMATION_ID, state: 'SCHEDULED' } });
  });

  it('deleting a removed instance exits 1 with the 410 error', async () => {
    routes(
      on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance({ state: 'removed' }) })),
      on('DELETE', `/v2/resource_instances/${GUID}`, () => ibmError(410, 'GONE', 'The instance was removed')),
    );
    const result = await cli(['resource', 'service-instance-delete', GUID, '-f']);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('GONE: The instance was removed (HTTP 410)');
  });
});

describe('resource reclamations', () => {
  beforeEach(() => login());

  it('reclamations lists with --resource-instance-id as a table and as JSON', async () => {
    routes(on('GET', '/v1/reclamations', () => ({ status: 200, body: { resources: [reclamation()] } })));
    const human = await cli(['resource', 'reclamations', '--resource-instance-id', GUID]);
    expect(human.code).toBe(ExitCode.OK);
    expect(server.single().query).toEqual({ resource_instance_id: GUID });
    expect(human.stdout).toMatch(/^ID\s+Resource Instance ID\s+State\s+Target Time/);
    expect(human.stdout).toContain(`${RECLAMATION_ID}   ${GUID}   SCHEDULED`);
    const json = await cli(['resource', 'reclamations', '--output', 'json']);
    expect(JSON.parse(json.stdout)).toEqual([reclamation()]);
  });

  it('reclamation-restore posts the restore action and waits until the instance is active', async () => {
    routes(
      on('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/restore`, () => ({ status: 200, body: reclamation({ state: 'RESTORING' }) })),
      on('GET', `/v2/resource_instances/${GUID}`, sequence({ status: 200, body: instance({ state: 'pending_reclamation' }) }, { status: 200, body: instance({ state: 'active' }) })),
    );
    const result = await cli(['resource', 'reclamation-restore', RECLAMATION_ID, '--output', 'json']);
    expect(result.code).toBe(ExitCode.OK);
    expect(bodyOf(requestsTo('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/restore`)[0])).toEqual({});
    expect(JSON.parse(result.stdout)).toMatchObject({ reclamation: { state: 'RESTORING' }, instance: { state: 'active' } });
    expect(result.stderr).toBe('');
  });

  it('reclamation-delete posts reclaim (with a comment) and waits until the instance is removed', async () => {
    routes(
      on('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/reclaim`, () => ({ status: 200, body: reclamation({ state: 'RECLAIMING' }) })),
      on('GET', `/v2/resource_instances/${GUID}`, sequence(
        { status: 200, body: instance({ state: 'pending_reclamation', last_operation: { type: 'reclamation', sub_type: 'delete', state: 'in progress', async: true, description: 'bucket (step 2 of 4)', cancelable: false, poll: true } }) },
        { status: 200, body: instance({ state: 'removed' }) },
      )),
    );
    const result = await cli(['resource', 'reclamation-delete', RECLAMATION_ID, '--comment', 'done with it']);
    expect(result.code).toBe(ExitCode.OK);
    expect(bodyOf(requestsTo('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/reclaim`)[0])).toEqual({ comment: 'done with it' });
    expect(result.stderr).toContain('Reclaiming: pending_reclamation: bucket (step 2 of 4)');
    expect(result.stdout).toContain('reclaimed: the instance is removed');
  });

  it('--no-wait returns after the action', async () => {
    routes(on('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/reclaim`, () => ({ status: 200, body: reclamation({ state: 'RECLAIMING' }) })));
    const result = await cli(['resource', 'reclamation-delete', RECLAMATION_ID, '--no-wait']);
    expect(result.code).toBe(ExitCode.OK);
    expect(server.requests).toHaveLength(1);
    expect(result.stdout).toContain('RECLAIMING');
  });

  it('restoring a reclamation that is not SCHEDULED exits 1 with the 409 code (JSON on stderr with --output json)', async () => {
    routes(on('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/restore`, () => ibmError(409, 'RECLAMATION_NOT_SCHEDULED', 'The reclamation is RECLAIMED')));
    const result = await cli(['resource', 'reclamation-restore', RECLAMATION_ID, '--output', 'json']);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(JSON.parse(result.stderr)).toEqual({
      error: { exit_code: 1, message: 'RECLAMATION_NOT_SCHEDULED: The reclamation is RECLAIMED (HTTP 409).', code: 'RECLAMATION_NOT_SCHEDULED', status: 409, trace: '4bf92f3577b34da6a3ce929d0e0e4736' },
    });
    expect(result.stdout).toBe('');
  });

  it('a reclaim saga still running at the timeout exits 4 naming its step', async () => {
    routes(
      on('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/reclaim`, () => ({ status: 200, body: reclamation({ state: 'RECLAIMING' }) })),
      on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance({ state: 'pending_reclamation', last_operation: { type: 'reclamation', state: 'in progress', async: true, description: 'blocked: no authorization to the key', cancelable: false, poll: true } }) })),
    );
    const result = await cli(['resource', 'reclamation-delete', RECLAMATION_ID, '--timeout', '3']);
    expect(result.code).toBe(ExitCode.TIMEOUT);
    expect(result.stderr).toContain('blocked: no authorization to the key');
  });

  it('an answer that is not the documented shape exits 1 naming the field', async () => {
    routes(on('GET', '/v1/reclamations', () => ({ status: 200, body: { resources: [{ id: 'x' }] } })));
    const result = await cli(['resource', 'reclamations']);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('not the documented shape (resources.0.');
  });
});

describe('kms', () => {
  beforeEach(() => login());

  it('keys sends Bluemix-Instance and prints the keys', async () => {
    routes(on('GET', '/kms/api/v2/keys', () => ({ status: 200, body: keyCollection(key(), key({ id: 'k2', name: 'std', extractable: true, state: 2 })) })));
    const result = await cli(['kms', 'keys', '--instance-id', KMS_GUID]);
    expect(result.code).toBe(ExitCode.OK);
    expect(server.single().headers['bluemix-instance']).toBe(KMS_GUID);
    expect(result.stdout).toMatch(/root-1\s+root\s+Active/);
    expect(result.stdout).toMatch(/std\s+standard\s+Suspended/);
  });

  it('key-create posts a Key Protect key collection and never prints key material', async () => {
    routes(on('POST', '/kms/api/v2/keys', () => ({ status: 201, body: keyCollection(key({ name: 'std', extractable: true, payload: 'c2VjcmV0LWtleS1tYXRlcmlhbA==' })) })));
    const result = await cli(['kms', 'key-create', 'std', '--instance-id', KMS_GUID, '--standard', '--output', 'json']);
    expect(result.code).toBe(ExitCode.OK);
    const request = server.single();
    expect(request.headers['content-type']).toBe('application/vnd.ibm.kms.key+json');
    expect(request.headers['bluemix-instance']).toBe(KMS_GUID);
    expect(bodyOf(request)).toEqual({
      metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
      resources: [{ type: 'application/vnd.ibm.kms.key+json', name: 'std', extractable: true }],
    });
    expect(result.stdout).not.toContain('c2VjcmV0LWtleS1tYXRlcmlhbA==');
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'std', extractable: true });
  });

  it.each([
    ['key-disable', 'disable', 2, 'was disabled: Suspended'],
    ['key-enable', 'enable', 1, 'was enabled: Active'],
    ['key-rotate', 'rotate', 1, 'was rotated: Active, version v2'],
  ] as const)('%s posts the %s action and shows the key after it', async (word, action, state, shown) => {
    const id = 'a1b2c3d4-0000-4000-8000-000000000001';
    routes(
      on('POST', `/kms/api/v2/keys/${id}/actions/${action}`, () => ({ status: 204 })),
      on('GET', `/kms/api/v2/keys/${id}/metadata`, () => ({ status: 200, body: keyCollection(key({ state, keyVersion: { id: action === 'rotate' ? 'v2' : 'v1', creationDate: '2027-01-15T08:00:00.000Z' } })) })),
    );
    const result = await cli(['kms', word, id, '--instance-id', KMS_GUID]);
    expect(result.code).toBe(ExitCode.OK);
    expect(requestsTo('POST', `/kms/api/v2/keys/${id}/actions/${action}`)[0]?.headers['bluemix-instance']).toBe(KMS_GUID);
    expect(result.stdout).toContain(shown);
  });

  it('an instance the caller cannot see exits 1 with the 403', async () => {
    routes(on('GET', '/kms/api/v2/keys', () => ibmError(403, 'FORBIDDEN', 'You are not authorized to perform kms.key.list')));
    const result = await cli(['kms', 'keys', '--instance-id', KMS_GUID]);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('FORBIDDEN: You are not authorized');
  });
});

describe('secrets', () => {
  beforeEach(() => login());
  const base = `/secrets-manager/${GUID}/api/v2`;

  it('create sends an arbitrary prototype through the SM v2 path and does not echo the payload', async () => {
    routes(on('POST', `${base}/secrets`, () => ({ status: 201, body: secret() })));
    const result = await cli(['secrets', 'create', '--instance-id', GUID, '--type', 'arbitrary', '--name', 'db-password', '--payload', 'the-secret-payload', '--labels', 'prod, eu']);
    expect(result.code).toBe(ExitCode.OK);
    const request = server.single();
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN_1}`);
    expect(bodyOf(request)).toEqual({ secret_type: 'arbitrary', name: 'db-password', payload: 'the-secret-payload', labels: ['prod', 'eu'] });
    expect(result.stdout).toContain('Secret db-password was created.');
    expect(result.stdout).not.toContain('the-secret-payload');
  });

  it('create takes the payload from @FILE and other types by --prototype', async () => {
    routes(on('POST', `${base}/secrets`, () => ({ status: 201, body: secret() })));
    const file = join(home, 'payload');
    writeFileSync(file, 'from-a-file\n');
    expect((await cli(['secrets', 'create', '--instance-id', GUID, '--name', 'a', '--payload', `@${file}`])).code).toBe(ExitCode.OK);
    expect(bodyOf(server.requests[0])).toMatchObject({ payload: 'from-a-file' });
    const prototype = { secret_type: 'kv', name: 'cfg', data: { a: 1 } };
    expect((await cli(['secrets', 'create', '--instance-id', GUID, '--prototype', JSON.stringify(prototype)])).code).toBe(ExitCode.OK);
    expect(bodyOf(server.requests[1])).toEqual(prototype);
  });

  it('get prints the metadata and the payload; list prints a table', async () => {
    const value = secret();
    routes(
      on('GET', `${base}/secrets/${value.id}`, () => ({ status: 200, body: value })),
      on('GET', `${base}/secrets`, () => ({ status: 200, body: { total_count: 1, limit: 200, offset: 0, first: { href: 'x' }, last: { href: 'x' }, secrets: [{ ...value, payload: undefined }] } })),
    );
    const got = await cli(['secrets', 'get', value.id, '--instance-id', GUID]);
    expect(got.code).toBe(ExitCode.OK);
    expect(got.stdout).toMatch(/Payload:\s+the-secret-payload/);
    const listed = await cli(['secrets', 'list', '--instance-id', GUID]);
    expect(listed.code).toBe(ExitCode.OK);
    expect(listed.stdout).toMatch(/db-password\s+arbitrary\s+active/);
    expect(listed.stdout).not.toContain('the-secret-payload');
  });

  it('a disabled instance exits 1 with INSTANCE_NOT_ACTIVE', async () => {
    routes(on('GET', `${base}/secrets`, () => ibmError(409, 'INSTANCE_NOT_ACTIVE', 'The instance is pending reclamation')));
    const result = await cli(['secrets', 'list', '--instance-id', GUID]);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('INSTANCE_NOT_ACTIVE: The instance is pending reclamation');
  });
});

describe('events tail', () => {
  const event = (name: string, data: unknown) =>
    JSON.stringify({ specversion: '1.0', id: 'e1', source: 'sealbox/lifecycle', type: `com.sealbox.${name}`, time: '2027-01-15T08:00:00.000Z', datacontenttype: 'application/json', data });

  it('maps --type to stream subjects: names, the CloudEvents form, wildcards, several', () => {
    expect(subjectsOf(undefined)).toEqual(['events.>']);
    expect(subjectsOf('lifecycle.instance.deleted')).toEqual(['events.lifecycle.instance.deleted']);
    expect(subjectsOf('com.sealbox.kms.key.rotated,lifecycle.>')).toEqual(['events.kms.key.rotated', 'events.lifecycle.>']);
    expect(() => subjectsOf('lifecycle.instance.exploded')).toThrow(/not an event type/);
  });

  it('prints one line per event, stops after --count, and passes the NATS settings (password from the environment)', async () => {
    const source = new FakeEvents([event('lifecycle.instance.deleted', { instanceId: GUID }), event('lifecycle.instance.restored', {}), event('x', {})]);
    const result = await cli(['events', 'tail', '--type', 'lifecycle.>', '--nats', 'nats://10.0.0.1:4222', '--nats-user', 'ops', '--count', '2'], {
      events: source,
      env: { XDG_CONFIG_HOME: configHome, SEALBOX_NATS_PASSWORD: 'nats-pass' },
    });
    expect(result.code).toBe(ExitCode.OK);
    expect(source.options).toMatchObject({ servers: 'nats://10.0.0.1:4222', user: 'ops', pass: 'nats-pass', subjects: ['events.lifecycle.>'], fromStart: false });
    expect(result.stdout.trim().split('\n')).toEqual([
      `2027-01-15T08:00:00.000Z  lifecycle.instance.deleted  {"instanceId":"${GUID}"}`,
      '2027-01-15T08:00:00.000Z  lifecycle.instance.restored  {}',
    ]);
    expect(result.stderr).toContain('Following events.lifecycle.> on nats://10.0.0.1:4222');
    expect(result.stderr).not.toContain('nats-pass');
  });

  it('--output json prints each CloudEvent as one JSON line; a bad --type or --count exits 2', async () => {
    const text = event('kms.key.rotated', { keyId: 'k' });
    const result = await cli(['events', 'tail', '--output', 'json', '--from-start', '--count', '1'], { events: new FakeEvents([text]) });
    expect(result.code).toBe(ExitCode.OK);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(text));
    expect((await cli(['events', 'tail', '--type', 'no.such.event'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['events', 'tail', '--count', '0'])).code).toBe(ExitCode.USAGE);
  });
});
