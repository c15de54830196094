import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CaptureServer } from '../../../libs/sm-client/src/testing/capture-server.js';
import { planIdOf } from './commands/resource.js';
import type { StoredSession } from './config.js';
import { ExitCode } from './errors.js';
import {
  APIKEY,
  bodyOf,
  cli,
  GUID,
  h,
  ibmError,
  instance,
  login,
  NOW_S,
  on,
  reclamation,
  RECLAMATION_ID,
  REFRESH_1,
  REFRESH_2,
  requestsTo,
  routes,
  sequence,
  sessionFile,
  TOKEN_1,
  TOKEN_2,
  tokens,
  useCliHarness,
  CRN,
} from './testing/harness.js';
import { stepsOf } from './wait.js';

useCliHarness();

// ---------- tests ----------

describe('login and the stored session', () => {
  it('exchanges the API key (form-encoded IAM grant) and stores the tokens in a 0600 file in a 0700 folder, printing no token', async () => {
    routes(on('POST', '/identity/token', () => ({ status: 200, body: tokens(TOKEN_1, REFRESH_1) })));
    const result = await cli(['login', '--apikey', APIKEY, '--endpoint', `${h.server.url}/`]);

    expect(result.code).toBe(ExitCode.OK);
    const exchange = h.server.single();
    expect(exchange.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(exchange.body))).toEqual({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: APIKEY });
    expect(statSync(sessionFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(h.configHome, 'sealbox')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(sessionFile(), 'utf8')) as StoredSession;
    expect(stored).toMatchObject({ endpoint: h.server.url, access_token: TOKEN_1, refresh_token: REFRESH_1, expiration: NOW_S + 3600, iam_id: 'IBMid-admin', account_id: 'acc-1' });
    expect(JSON.stringify(stored)).not.toContain(APIKEY);
    expect(result.stdout).toContain('IBMid-admin');
  });

  it('falls back to ~/.config/sealbox without XDG_CONFIG_HOME, reads the key from @FILE, and prints JSON without tokens', async () => {
    routes(on('POST', '/identity/token', () => ({ status: 200, body: tokens(TOKEN_1, REFRESH_1) })));
    const keyFile = join(h.home, 'apikey');
    writeFileSync(keyFile, `${APIKEY}\n`, { mode: 0o600 });
    const result = await cli(['login', '--apikey', `@${keyFile}`, '--endpoint', h.server.url, '--output', 'json'], { env: {} });

    expect(result.code).toBe(ExitCode.OK);
    expect(new URLSearchParams(h.server.single().body).get('apikey')).toBe(APIKEY);
    expect(statSync(join(h.home, '.config', 'sealbox', 'config.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(result.stdout)).toEqual({ endpoint: h.server.url, iam_id: 'IBMid-admin', account_id: 'acc-1', expiration: new Date((NOW_S + 3600) * 1000).toISOString() });
  });

  it('a refused API key exits 1 with the IBM error code and message, and stores nothing', async () => {
    routes(on('POST', '/identity/token', () => ibmError(400, 'BXNIM0415E', 'Provided API key could not be found')));
    const result = await cli(['login', '--apikey', APIKEY, '--endpoint', h.server.url]);

    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('BXNIM0415E: Provided API key could not be found (HTTP 400)');
    expect(() => statSync(sessionFile())).toThrow();
  });

  it('login without a key, or with an endpoint that is not a URL, is a usage error (2) and sends nothing', async () => {
    expect((await cli(['login'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['login', '--apikey', APIKEY, '--endpoint', 'not a url'])).code).toBe(ExitCode.USAGE);
    expect(h.server.requests).toHaveLength(0);
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
    const [refresh, list] = h.server.requests;
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
    const secrets = await cli(['sm', 'secrets', '-i', GUID]);
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
      ['kp', 'keys'],
      ['sm', 'secret', '', '-i', GUID],
      ['sm', 'secret-create', '-i', GUID, '--type', 'private_cert', '--name', 'x'],
      ['sm', 'secrt', GUID],
      ['sm', 'secret', GUID, '-i', GUID, '--feild', 'payload'],
      ['kp'],
      ['resource', 'service-instance-create', 'n', 'secrets-manager', 'standard', 'us-south', '-p', '{not json'],
    ]) {
      expect((await cli(argv)).code, argv.join(' ')).toBe(ExitCode.USAGE);
    }
    expect(h.server.requests).toHaveLength(0);
  });

  it('with --output json a failure is a JSON object on stderr with the exit code', async () => {
    const result = await cli(['resource', 'service-instance', '--output', 'json']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { exit_code: 2 } });
    expect(result.stdout).toBe('');
  });

  it('help lists the groups and the exit codes; no arguments prints it to stderr with exit 2', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(ExitCode.OK);
    for (const group of ['resource', 'sm', 'kp', 'iam', 'events', 'login', 'target']) expect(help.stdout).toMatch(new RegExp(`^  ${group}\\b`, 'm'));
    expect(help.stdout).toContain('3 not logged in');
    expect(help.stdout).toContain('@FILE');
    expect((await cli(['--help'])).stdout).toBe(help.stdout);
    const none = await cli([]);
    expect(none.code).toBe(ExitCode.USAGE);
    expect(none.stderr).toContain('Usage: sealbox');
  });

  it('help per group lists its commands; help per command shows its arguments, options and examples', async () => {
    const group = await cli(['sm', '--help']);
    expect(group.code).toBe(ExitCode.OK);
    for (const verb of ['secret-create', 'secret-by-name', 'secret-version-create', 'secret-locks-delete']) expect(group.stdout).toContain(verb);
    expect((await cli(['help', 'kp'])).stdout).toContain('key-restore');
    const command = await cli(['sm', 'secret', '--help']);
    expect(command.code).toBe(ExitCode.OK);
    expect(command.stdout).toContain('Usage: sealbox sm secret [options] <id>');
    expect(command.stdout).toContain('--field <name>');
    expect(command.stdout).toContain('-i, --instance <instance>');
    expect(command.stdout).toContain('Examples:');
    expect(command.stdout).not.toContain('--instance-id');
    // ibmcloud's long group names work too.
    expect((await cli(['secrets-manager', '--help'])).stdout).toContain('secret-create');
  });

  it('a typo gets a "did you mean", and a pointer to the help (exit 2)', async () => {
    const group = await cli(['rsource', 'service-instances']);
    expect(group.code).toBe(ExitCode.USAGE);
    expect(group.stderr).toContain('(Did you mean resource?)');
    expect(group.stderr).toContain('Run: sealbox --help');
    const verb = await cli(['sm', 'secret-craete']);
    expect(verb.stderr).toContain('(Did you mean secret-create?)');
    expect(verb.stderr).toContain('Run: sealbox sm --help');
    const option = await cli(['resource', 'service-instances', '--service-nmae', 'kms']);
    expect(option.stderr).toContain('(Did you mean --service-name?)');
    expect(option.stderr).toContain('Run: sealbox resource service-instances --help');
    expect(h.server.requests).toHaveLength(0);
  });

  it('--version prints the version', async () => {
    const version = await cli(['--version']);
    expect(version.code).toBe(ExitCode.OK);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
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
    expect(h.server.requests.map((request) => request.query['start'] ?? null)).toEqual([null, 'p2']);

    h.server.reset();
    const json = await cli(['resource', 'service-instances', '--service-name', 'secrets-manager', '--output', 'json']);
    expect(h.server.requests[0]?.query).toMatchObject({ resource_id: 'secrets-manager', limit: '100' });
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
    expect(h.server.requests.map((request) => request.rawPath)).toEqual([`/v2/resource_instances/${GUID}`, `/v2/resource_instances/${encodeURIComponent(CRN)}`, '/v2/resource_instances']);
    expect(h.server.requests[2]?.query['name']).toBe('my-sm');
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

  /** The plan catalog: secrets-manager-standard with reclamation, kms-lite without. */
  const plans = on('GET', '/v1/plans', () => ({
    status: 200,
    body: {
      plans: [
        { id: 'secrets-manager-standard', name: 'standard', service: 'secrets-manager', reclamation: true, retentionSeconds: 604800, retired: false },
        { id: 'kms-lite', name: 'lite', service: 'kms', reclamation: false, retentionSeconds: 0, retired: false },
      ],
    },
  }));
  const lite = instance({ resource_plan_id: 'kms-lite', resource_id: 'kms' });

  it('service-instance-delete on a plan without reclamation (for good): without -f and without a terminal refuses (2) and deletes nothing', async () => {
    routes(plans, on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: lite })));
    const result = await cli(['resource', 'service-instance-delete', GUID]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('-f');
    expect(result.stderr).toContain('cannot be undone');
    expect(requestsTo('DELETE', `/v2/resource_instances/${GUID}`)).toHaveLength(0);
  });

  it('service-instance-delete on a plan without reclamation asks on a terminal and does nothing on "no"', async () => {
    routes(plans, on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: lite })));
    const questions: string[] = [];
    const result = await cli(['resource', 'service-instance-delete', GUID], { confirm: async (question) => (questions.push(question), false) });
    expect(result.code).toBe(ExitCode.OK);
    expect(questions[0]).toContain(GUID);
    expect(requestsTo('DELETE', `/v2/resource_instances/${GUID}`)).toHaveLength(0);
  });

  it('service-instance-delete on a plan with reclamation (restorable) asks nothing: by name, it deletes by GUID and names the scheduled reclamation', async () => {
    routes(
      plans,
      on('GET', '/v2/resource_instances', () => ({ status: 200, body: { rows_count: 1, next_url: null, resources: [instance()] } })),
      on('DELETE', `/v2/resource_instances/${GUID}`, () => ({ status: 204 })),
      on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance({ state: 'pending_reclamation' }) })),
      on('GET', '/v1/reclamations', () => ({ status: 200, body: { resources: [reclamation()] } })),
    );
    const questions: string[] = [];
    const human = await cli(['resource', 'service-instance-delete', 'my-sm'], { confirm: async (question) => (questions.push(question), false) });
    expect(human.code).toBe(ExitCode.OK);
    expect(questions).toEqual([]);
    expect(requestsTo('DELETE', `/v2/resource_instances/${GUID}`)).toHaveLength(1);
    expect(requestsTo('GET', '/v1/reclamations')[0]?.query).toEqual({ resource_instance_id: GUID });
    expect(human.stdout).toContain(`Reclamation ${RECLAMATION_ID} is SCHEDULED until 2027-01-22T08:00:00.000Z`);
    expect(human.stdout).toContain(`sealbox resource reclamation-restore ${RECLAMATION_ID}`);

    const json = await cli(['resource', 'service-instance-delete', GUID, '--output', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ instance: { guid: GUID, state: 'pending_reclamation' }, reclamation: { id: RECLAMATION_ID, state: 'SCHEDULED' } });
  });

  it('deleting a removed instance exits 1 with the 410 error', async () => {
    routes(
      plans,
      on('GET', `/v2/resource_instances/${GUID}`, () => ({ status: 200, body: instance({ state: 'removed' }) })),
      on('DELETE', `/v2/resource_instances/${GUID}`, () => ibmError(410, 'GONE', 'The instance was removed')),
    );
    const result = await cli(['resource', 'service-instance-delete', GUID]);
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
    expect(h.server.single().query).toEqual({ resource_instance_id: GUID });
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
    const result = await cli(['resource', 'reclamation-delete', RECLAMATION_ID, '--comment', 'done with it', '-f']);
    expect(result.code).toBe(ExitCode.OK);
    expect(bodyOf(requestsTo('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/reclaim`)[0])).toEqual({ comment: 'done with it' });
    expect(result.stderr).toContain('Reclaiming: pending_reclamation: bucket (step 2 of 4)');
    expect(result.stdout).toContain('reclaimed: the instance is removed');
  });

  it('reclamation-delete (for good) refuses without -f and without a terminal (2), asks on one, and sends nothing on "no"', async () => {
    routes(on('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/reclaim`, () => ({ status: 200, body: reclamation({ state: 'RECLAIMING' }) })));
    const refused = await cli(['resource', 'reclamation-delete', RECLAMATION_ID]);
    expect(refused.code).toBe(ExitCode.USAGE);
    expect(refused.stderr).toContain('Add -f');
    const questions: string[] = [];
    const declined = await cli(['resource', 'reclamation-delete', RECLAMATION_ID], { confirm: async (question) => (questions.push(question), false) });
    expect(declined.code).toBe(ExitCode.OK);
    expect(questions[0]).toContain(RECLAMATION_ID);
    expect(h.server.requests).toHaveLength(0);
  });

  it('reclamation-restore (reversible) asks nothing', async () => {
    routes(on('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/restore`, () => ({ status: 200, body: reclamation({ state: 'RESTORING' }) })));
    const result = await cli(['resource', 'reclamation-restore', RECLAMATION_ID, '--no-wait'], { confirm: async () => expect.fail('asked') });
    expect(result.code).toBe(ExitCode.OK);
  });

  it('--no-wait returns after the action', async () => {
    routes(on('POST', `/v1/reclamations/${RECLAMATION_ID}/actions/reclaim`, () => ({ status: 200, body: reclamation({ state: 'RECLAIMING' }) })));
    const result = await cli(['resource', 'reclamation-delete', RECLAMATION_ID, '--no-wait', '-f']);
    expect(result.code).toBe(ExitCode.OK);
    expect(h.server.requests).toHaveLength(1);
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
    const result = await cli(['resource', 'reclamation-delete', RECLAMATION_ID, '--timeout', '3', '-f']);
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
