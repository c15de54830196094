import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerClient, SecretsManagerError, SecretsManagerResponseError, type SmResponse } from './index.js';
import { CaptureServer, type CannedReply, type CapturedRequest } from './testing/capture-server.js';

const INSTANCE = '4c1f2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const PREFIX = `/secrets-manager/${INSTANCE}/api/v2`;
const TOKEN = 'token-1';
const GROUP_ID = 'd898bb90-82f6-4d61-b5cc-b079b66cfa76';
const SECRET_ID = '0b5571f7-21e6-42b7-91c5-3f5ac9793a46';
const VERSION_ID = 'eb4cf24d-9cae-424b-945e-159788a5f535';
const NOW = '2024-05-01T10:00:00Z';
const TRACE = '0123456789abcdef0123456789abcdef';

// ---------- answers the server gives ----------

const group = { id: GROUP_ID, name: 'g1', description: 'first group', created_at: NOW, created_by: 'iam-user', updated_at: NOW };
const metadata = {
  id: SECRET_ID,
  crn: `crn:v1:bluemix:public:secrets-manager:us-south:a/acct:${INSTANCE}:secret:${SECRET_ID}`,
  name: 'example',
  secret_type: 'arbitrary',
  secret_group_id: 'default',
  labels: ['dev'],
  state: 1,
  state_description: 'active',
  created_at: NOW,
  created_by: 'iam-user',
  updated_at: NOW,
  versions_total: 1,
  locks_total: 0,
  downloaded: false,
};
const secret = { ...metadata, payload: 's3cr3t', downloaded: true, retrieved_at: NOW };
const versionMetadata = {
  id: VERSION_ID,
  secret_id: SECRET_ID,
  secret_type: 'arbitrary',
  secret_group_id: 'default',
  secret_name: 'example',
  created_at: NOW,
  created_by: 'iam-user',
  payload_available: true,
  alias: 'current',
  downloaded: false,
  auto_rotated: false,
  version_custom_metadata: { build: 7 },
};
const version = { ...versionMetadata, payload: 's3cr3t' };
const lock = {
  name: 'lock-1',
  description: 'consumer 1',
  created_at: NOW,
  updated_at: NOW,
  created_by: 'iam-user',
  secret_group_id: 'default',
  secret_id: SECRET_ID,
  secret_version_id: VERSION_ID,
  secret_version_alias: 'current',
};
const secretLocks = {
  secret_id: SECRET_ID,
  secret_group_id: 'default',
  secret_type: 'arbitrary',
  secret_name: 'example',
  versions: [{ version_id: VERSION_ID, version_alias: 'current', locks: ['lock-1'], payload_available: true }],
};
const configuration = { config_type: 'iam_credentials_configuration', name: 'iam-config', api_key: 'hidden' };
const registration = { event_notifications_instance_crn: 'crn:v1:bluemix:public:event-notifications:us-south:a/acct:en::' };

/** A page of a paginated list, with `next` only when more items follow. */
function page(path: string, key: string, items: readonly unknown[], offset: number, limit: number, total: number): Record<string, unknown> {
  const href = (at: number) => `http://gateway.example${PREFIX}${path}?offset=${at}&limit=${limit}`;
  const lastOffset = Math.max(0, Math.floor((total - 1) / limit) * limit);
  return {
    total_count: total,
    limit,
    offset,
    first: { href: `http://gateway.example${PREFIX}${path}?limit=${limit}` },
    last: { href: href(lastOffset) },
    ...(offset + limit < total ? { next: { href: href(offset + limit) } } : {}),
    ...(offset > 0 ? { previous: { href: href(Math.max(0, offset - limit)) } } : {}),
    [key]: items,
  };
}

// ---------- the operations ----------

interface OperationCase {
  readonly name: string;
  readonly invoke: (client: SecretsManagerClient) => Promise<SmResponse<unknown>>;
  readonly method: string;
  /** Path under /api/v2 as it must arrive (percent-encoding kept). */
  readonly path: string;
  readonly query?: Record<string, string>;
  /** Expected JSON body; absent = no body. */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
  readonly reply: CannedReply;
  /** Expected result; the reply body when absent. */
  readonly result?: unknown;
}

const JSON_TYPE = 'application/json';
const MERGE_PATCH = 'application/merge-patch+json';
const locksPage = page(`/secrets/${SECRET_ID}/locks`, 'locks', [lock], 0, 25, 1);

const operations: OperationCase[] = [
  // secret groups
  {
    name: 'createSecretGroup',
    invoke: (c) => c.createSecretGroup({ name: 'g1', description: 'first group' }),
    method: 'POST',
    path: '/secret_groups',
    body: { name: 'g1', description: 'first group' },
    contentType: JSON_TYPE,
    reply: { status: 201, body: group },
  },
  {
    name: 'listSecretGroups',
    invoke: (c) => c.listSecretGroups(),
    method: 'GET',
    path: '/secret_groups',
    reply: { status: 200, body: { secret_groups: [group], total_count: 1 } },
  },
  { name: 'getSecretGroup', invoke: (c) => c.getSecretGroup(GROUP_ID), method: 'GET', path: `/secret_groups/${GROUP_ID}`, reply: { status: 200, body: group } },
  {
    name: 'updateSecretGroup',
    invoke: (c) => c.updateSecretGroup(GROUP_ID, { description: null }),
    method: 'PATCH',
    path: `/secret_groups/${GROUP_ID}`,
    body: { description: null },
    contentType: MERGE_PATCH,
    reply: { status: 200, body: group },
  },
  {
    name: 'deleteSecretGroup',
    invoke: (c) => c.deleteSecretGroup(GROUP_ID),
    method: 'DELETE',
    path: `/secret_groups/${GROUP_ID}`,
    reply: { status: 204 },
    result: undefined,
  },
  // secrets
  {
    name: 'createSecret',
    invoke: (c) => c.createSecret({ secret_type: 'arbitrary', name: 'example', labels: ['dev'], payload: 's3cr3t' }),
    method: 'POST',
    path: '/secrets',
    body: { secret_type: 'arbitrary', name: 'example', labels: ['dev'], payload: 's3cr3t' },
    contentType: JSON_TYPE,
    reply: { status: 201, body: secret },
  },
  {
    name: 'listSecrets',
    invoke: (c) =>
      c.listSecrets({
        offset: 0,
        limit: 50,
        sort: '-created_at',
        search: 'db & cache',
        groups: ['default', GROUP_ID],
        secretTypes: ['kv', 'arbitrary'],
        matchAllLabels: ['dev', 'us south'],
      }),
    method: 'GET',
    path: '/secrets',
    query: {
      offset: '0',
      limit: '50',
      sort: '-created_at',
      search: 'db & cache',
      groups: `default,${GROUP_ID}`,
      secret_types: 'kv,arbitrary',
      match_all_labels: 'dev,us south',
    },
    reply: { status: 200, body: page('/secrets', 'secrets', [metadata], 0, 50, 1) },
  },
  { name: 'getSecret', invoke: (c) => c.getSecret(SECRET_ID), method: 'GET', path: `/secrets/${SECRET_ID}`, reply: { status: 200, body: secret } },
  {
    name: 'getSecretMetadata',
    invoke: (c) => c.getSecretMetadata(SECRET_ID),
    method: 'GET',
    path: `/secrets/${SECRET_ID}/metadata`,
    reply: { status: 200, body: metadata },
  },
  {
    name: 'updateSecretMetadata',
    invoke: (c) => c.updateSecretMetadata(SECRET_ID, { name: 'renamed', labels: null, custom_metadata: { owner: 'team-a', old: null } }),
    method: 'PATCH',
    path: `/secrets/${SECRET_ID}/metadata`,
    body: { name: 'renamed', labels: null, custom_metadata: { owner: 'team-a', old: null } },
    contentType: MERGE_PATCH,
    reply: { status: 200, body: metadata },
  },
  {
    name: 'deleteSecret',
    invoke: (c) => c.deleteSecret(SECRET_ID),
    method: 'DELETE',
    path: `/secrets/${SECRET_ID}`,
    reply: { status: 204 },
    result: undefined,
  },
  {
    name: 'deleteSecret with forceDelete',
    invoke: (c) => c.deleteSecret(SECRET_ID, { forceDelete: true }),
    method: 'DELETE',
    path: `/secrets/${SECRET_ID}`,
    query: { force_delete: 'true' },
    reply: { status: 204 },
    result: undefined,
  },
  {
    name: 'getSecretByNameType',
    invoke: (c) => c.getSecretByNameType('my group', 'arbitrary', 'team/app'),
    method: 'GET',
    path: '/secret_groups/my%20group/secret_types/arbitrary/secrets/team%2Fapp',
    reply: { status: 200, body: secret },
  },
  {
    name: 'createSecretAction',
    invoke: (c) => c.createSecretAction(SECRET_ID, { action_type: 'public_cert_action_validate_dns_challenge' }),
    method: 'POST',
    path: `/secrets/${SECRET_ID}/actions`,
    body: { action_type: 'public_cert_action_validate_dns_challenge' },
    contentType: JSON_TYPE,
    reply: { status: 201, body: { action_type: 'public_cert_action_validate_dns_challenge' } },
  },
  // versions
  {
    name: 'createSecretVersion',
    invoke: (c) => c.createSecretVersion(SECRET_ID, { payload: 'v2', version_custom_metadata: { build: 7 } }),
    method: 'POST',
    path: `/secrets/${SECRET_ID}/versions`,
    body: { payload: 'v2', version_custom_metadata: { build: 7 } },
    contentType: JSON_TYPE,
    reply: { status: 201, body: version },
  },
  {
    name: 'listSecretVersions',
    invoke: (c) => c.listSecretVersions(SECRET_ID),
    method: 'GET',
    path: `/secrets/${SECRET_ID}/versions`,
    reply: { status: 200, body: { versions: [versionMetadata], total_count: 1 } },
  },
  {
    name: 'getSecretVersion',
    invoke: (c) => c.getSecretVersion(SECRET_ID, 'current'),
    method: 'GET',
    path: `/secrets/${SECRET_ID}/versions/current`,
    reply: { status: 200, body: version },
  },
  {
    name: 'getSecretVersionMetadata',
    invoke: (c) => c.getSecretVersionMetadata(SECRET_ID, 'previous'),
    method: 'GET',
    path: `/secrets/${SECRET_ID}/versions/previous/metadata`,
    reply: { status: 200, body: { ...versionMetadata, alias: 'previous' } },
  },
  {
    name: 'updateSecretVersionMetadata',
    invoke: (c) => c.updateSecretVersionMetadata(SECRET_ID, VERSION_ID, { version_custom_metadata: { build: 8 } }),
    method: 'PATCH',
    path: `/secrets/${SECRET_ID}/versions/${VERSION_ID}/metadata`,
    body: { version_custom_metadata: { build: 8 } },
    contentType: MERGE_PATCH,
    reply: { status: 200, body: versionMetadata },
  },
  {
    name: 'deleteSecretVersionData',
    invoke: (c) => c.deleteSecretVersionData(SECRET_ID, VERSION_ID),
    method: 'DELETE',
    path: `/secrets/${SECRET_ID}/versions/${VERSION_ID}/secret_data`,
    reply: { status: 204 },
    result: undefined,
  },
  {
    name: 'createSecretVersionAction',
    invoke: (c) => c.createSecretVersionAction(SECRET_ID, VERSION_ID, { action_type: 'private_cert_action_revoke_certificate' }),
    method: 'POST',
    path: `/secrets/${SECRET_ID}/versions/${VERSION_ID}/actions`,
    body: { action_type: 'private_cert_action_revoke_certificate' },
    contentType: JSON_TYPE,
    reply: { status: 201, body: { action_type: 'private_cert_action_revoke_certificate', revocation_time_seconds: 1667982994 } },
  },
  // tasks
  {
    name: 'listSecretTasks',
    invoke: (c) => c.listSecretTasks(SECRET_ID),
    method: 'GET',
    path: `/secrets/${SECRET_ID}/tasks`,
    reply: { status: 200, body: { tasks: [{ id: 'task-1', status: 'queued' }] } },
  },
  {
    name: 'getSecretTask',
    invoke: (c) => c.getSecretTask(SECRET_ID, 'task-1'),
    method: 'GET',
    path: `/secrets/${SECRET_ID}/tasks/task-1`,
    reply: { status: 200, body: { id: 'task-1', status: 'queued' } },
  },
  {
    name: 'replaceSecretTask',
    invoke: (c) => c.replaceSecretTask(SECRET_ID, 'task-1', { status: 'credentials_created', credentials: { id: 'c1' } }),
    method: 'PUT',
    path: `/secrets/${SECRET_ID}/tasks/task-1`,
    body: { status: 'credentials_created', credentials: { id: 'c1' } },
    contentType: JSON_TYPE,
    reply: { status: 200, body: { id: 'task-1', status: 'credentials_created' } },
  },
  {
    name: 'deleteSecretTask',
    invoke: (c) => c.deleteSecretTask(SECRET_ID, 'task-1'),
    method: 'DELETE',
    path: `/secrets/${SECRET_ID}/tasks/task-1`,
    reply: { status: 204 },
    result: undefined,
  },
  // locks
  {
    name: 'listSecretsLocks',
    invoke: (c) => c.listSecretsLocks({ offset: 10, limit: 5, search: 'lock', groups: ['default'] }),
    method: 'GET',
    path: '/secrets_locks',
    query: { offset: '10', limit: '5', search: 'lock', groups: 'default' },
    reply: { status: 200, body: page('/secrets_locks', 'secrets_locks', [secretLocks], 10, 5, 11) },
  },
  {
    name: 'listSecretLocks',
    invoke: (c) => c.listSecretLocks(SECRET_ID, { limit: 25, sort: 'name', search: 'lock' }),
    method: 'GET',
    path: `/secrets/${SECRET_ID}/locks`,
    query: { limit: '25', sort: 'name', search: 'lock' },
    reply: { status: 200, body: locksPage },
  },
  {
    name: 'createSecretLocksBulk',
    invoke: (c) => c.createSecretLocksBulk(SECRET_ID, [{ name: 'lock-1', description: 'consumer 1', attributes: { app: 'a' } }], { mode: 'remove_previous' }),
    method: 'POST',
    path: `/secrets/${SECRET_ID}/locks_bulk`,
    query: { mode: 'remove_previous' },
    body: { locks: [{ name: 'lock-1', description: 'consumer 1', attributes: { app: 'a' } }] },
    contentType: JSON_TYPE,
    reply: { status: 201, body: secretLocks },
  },
  {
    name: 'deleteSecretLocksBulk',
    invoke: (c) => c.deleteSecretLocksBulk(SECRET_ID, { name: ['lock-1', 'lock-2'] }),
    method: 'DELETE',
    path: `/secrets/${SECRET_ID}/locks_bulk`,
    query: { name: 'lock-1,lock-2' },
    reply: { status: 200, body: { ...secretLocks, versions: [] } },
  },
  {
    name: 'listSecretVersionLocks',
    invoke: (c) => c.listSecretVersionLocks(SECRET_ID, VERSION_ID, { offset: 0, sort: '-updated_at' }),
    method: 'GET',
    path: `/secrets/${SECRET_ID}/versions/${VERSION_ID}/locks`,
    query: { offset: '0', sort: '-updated_at' },
    reply: { status: 200, body: locksPage },
  },
  {
    name: 'createSecretVersionLocksBulk',
    invoke: (c) => c.createSecretVersionLocksBulk(SECRET_ID, 'previous', [{ name: 'lock-2' }], { mode: 'remove_previous_and_delete' }),
    method: 'POST',
    path: `/secrets/${SECRET_ID}/versions/previous/locks_bulk`,
    query: { mode: 'remove_previous_and_delete' },
    body: { locks: [{ name: 'lock-2' }] },
    contentType: JSON_TYPE,
    reply: { status: 201, body: secretLocks },
  },
  {
    name: 'deleteSecretVersionLocksBulk (all)',
    invoke: (c) => c.deleteSecretVersionLocksBulk(SECRET_ID, VERSION_ID),
    method: 'DELETE',
    path: `/secrets/${SECRET_ID}/versions/${VERSION_ID}/locks_bulk`,
    reply: { status: 200, body: secretLocks },
  },
  // configurations
  {
    name: 'createConfiguration',
    invoke: (c) => c.createConfiguration({ config_type: 'iam_credentials_configuration', name: 'iam-config', api_key: 'k' }),
    method: 'POST',
    path: '/configurations',
    body: { config_type: 'iam_credentials_configuration', name: 'iam-config', api_key: 'k' },
    contentType: JSON_TYPE,
    reply: { status: 201, body: configuration },
  },
  {
    name: 'listConfigurations',
    invoke: (c) => c.listConfigurations({ limit: 10, sort: 'config_type', search: 'iam', secretTypes: ['iam_credentials', 'public_cert'] }),
    method: 'GET',
    path: '/configurations',
    query: { limit: '10', sort: 'config_type', search: 'iam', secret_types: 'iam_credentials,public_cert' },
    reply: { status: 200, body: page('/configurations', 'configurations', [configuration], 0, 10, 1) },
  },
  {
    name: 'getConfiguration',
    invoke: (c) => c.getConfiguration('iam-config', 'iam_credentials_configuration'),
    method: 'GET',
    path: '/configurations/iam-config',
    headers: { 'x-sm-accept-configuration-type': 'iam_credentials_configuration' },
    reply: { status: 200, body: configuration },
  },
  {
    name: 'updateConfiguration',
    invoke: (c) => c.updateConfiguration('iam-config', { api_key: 'k2' }, 'iam_credentials_configuration'),
    method: 'PATCH',
    path: '/configurations/iam-config',
    body: { api_key: 'k2' },
    contentType: MERGE_PATCH,
    headers: { 'x-sm-accept-configuration-type': 'iam_credentials_configuration' },
    reply: { status: 200, body: configuration },
  },
  {
    name: 'deleteConfiguration',
    invoke: (c) => c.deleteConfiguration('iam-config', 'iam_credentials_configuration'),
    method: 'DELETE',
    path: '/configurations/iam-config',
    headers: { 'x-sm-accept-configuration-type': 'iam_credentials_configuration' },
    reply: { status: 204 },
    result: undefined,
  },
  {
    name: 'createConfigurationAction',
    invoke: (c) => c.createConfigurationAction('root-ca', { action_type: 'private_cert_configuration_action_rotate_crl' }),
    method: 'POST',
    path: '/configurations/root-ca/actions',
    body: { action_type: 'private_cert_configuration_action_rotate_crl' },
    contentType: JSON_TYPE,
    reply: { status: 201, body: { action_type: 'private_cert_configuration_action_rotate_crl' } },
  },
  // Event Notifications
  {
    name: 'createNotificationsRegistration',
    invoke: (c) =>
      c.createNotificationsRegistration({
        event_notifications_instance_crn: registration.event_notifications_instance_crn,
        event_notifications_source_name: 'My Secrets Manager',
      }),
    method: 'POST',
    path: '/notifications/registration',
    body: { event_notifications_instance_crn: registration.event_notifications_instance_crn, event_notifications_source_name: 'My Secrets Manager' },
    contentType: JSON_TYPE,
    reply: { status: 201, body: registration },
  },
  {
    name: 'getNotificationsRegistration',
    invoke: (c) => c.getNotificationsRegistration(),
    method: 'GET',
    path: '/notifications/registration',
    reply: { status: 200, body: registration },
  },
  {
    name: 'deleteNotificationsRegistration',
    invoke: (c) => c.deleteNotificationsRegistration(),
    method: 'DELETE',
    path: '/notifications/registration',
    reply: { status: 204 },
    result: undefined,
  },
  {
    name: 'getNotificationsRegistrationTest',
    invoke: (c) => c.getNotificationsRegistrationTest(),
    method: 'GET',
    path: '/notifications/registration/test',
    reply: { status: 204 },
    result: undefined,
  },
];

// ---------- tests ----------

let server: CaptureServer;
let client: SecretsManagerClient;

beforeAll(async () => {
  server = await CaptureServer.start();
  client = new SecretsManagerClient({ serviceUrl: server.url, instanceId: INSTANCE, bearerToken: TOKEN });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

function expectStandardHeaders(request: CapturedRequest): void {
  expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(request.headers.accept).toBe('application/json');
  expect(request.headers['user-agent']).toMatch(/^sealbox-sm-client\/0\.1\.0 \(lang=node\.js; node\.js=v\d+/);
}

describe('every operation', () => {
  it.each(operations)('$name', async (operation) => {
    server.respond(() => operation.reply);

    const response = await operation.invoke(client);

    const request = server.single();
    expect(request.method).toBe(operation.method);
    expect(request.rawPath).toBe(`${PREFIX}${operation.path}`);
    expect(request.query).toEqual(operation.query ?? {});
    expectStandardHeaders(request);
    if (operation.body === undefined) {
      expect(request.body).toBe('');
      expect(request.headers['content-type']).toBeUndefined();
    } else {
      expect(JSON.parse(request.body)).toEqual(operation.body);
      expect(request.headers['content-type']).toBe(operation.contentType);
    }
    for (const [name, value] of Object.entries(operation.headers ?? {})) expect(request.headers[name]).toBe(value);
    expect(response.status).toBe(operation.reply.status);
    expect(response.result).toEqual('result' in operation ? operation.result : operation.reply.body);
  });

  it('covers every public method of the client', () => {
    const methods = Object.getOwnPropertyNames(SecretsManagerClient.prototype).filter(
      (name) => name !== 'constructor' && !name.endsWith('All') && name !== 'send' && !['exchange', 'call', 'callVoid', 'pages'].includes(name),
    );
    const covered = new Set(operations.map((operation) => operation.name.split(' ')[0]));
    expect(methods.filter((name) => !covered.has(name))).toEqual([]);
    expect(methods.length).toBe(41);
  });
});

describe('encoding', () => {
  it('comma-joins arrays and percent-encodes them like the IBM SDK', async () => {
    server.respond(() => ({ status: 200, body: page('/secrets', 'secrets', [], 0, 200, 0) }));
    await client.listSecrets({ groups: ['default', GROUP_ID], secretTypes: ['kv', 'arbitrary'] });
    expect(server.single().rawQuery).toBe(`groups=default%2C${GROUP_ID}&secret_types=kv%2Carbitrary`);
  });

  it('omits unset query options', async () => {
    server.respond(() => ({ status: 200, body: page('/secrets', 'secrets', [], 0, 200, 0) }));
    await client.listSecrets({ limit: undefined, sort: undefined });
    expect(server.single().rawQuery).toBe('');
  });

  it('percent-encodes every path parameter', async () => {
    server.respond(() => ({ status: 200, body: version }));
    await client.getSecretVersion('a/b?c#d', 'x y');
    expect(server.single().rawPath).toBe(`${PREFIX}/secrets/a%2Fb%3Fc%23d/versions/x%20y`);
  });

  it('refuses an empty path parameter before sending anything', async () => {
    await expect(client.getSecret('')).rejects.toThrow(TypeError);
    await expect(client.getSecretVersion(SECRET_ID, '')).rejects.toThrow('Path parameter 2 of /secrets/{}/versions/{} must be a non-empty string');
    expect(server.requests).toHaveLength(0);
  });

  it('keeps a path prefix of the service URL and drops one trailing slash', async () => {
    const prefixed = new SecretsManagerClient({ serviceUrl: `${server.url}/edge/`, instanceId: 'inst 1', bearerToken: TOKEN });
    server.respond(() => ({ status: 200, body: { secret_groups: [], total_count: 0 } }));
    await prefixed.listSecretGroups();
    expect(server.single().rawPath).toBe('/edge/secrets-manager/inst%201/api/v2/secret_groups');
    expect(prefixed.baseUrl).toBe(`${server.url}/edge/secrets-manager/inst%201/api/v2`);
  });

  it('refuses a bad configuration', () => {
    expect(() => new SecretsManagerClient({ serviceUrl: 'not a url', instanceId: INSTANCE, bearerToken: TOKEN })).toThrow(TypeError);
    expect(() => new SecretsManagerClient({ serviceUrl: 'ftp://host', instanceId: INSTANCE, bearerToken: TOKEN })).toThrow('http or https');
    expect(() => new SecretsManagerClient({ serviceUrl: server.url, instanceId: '', bearerToken: TOKEN })).toThrow('instanceId');
    expect(() => new SecretsManagerClient({ serviceUrl: server.url, instanceId: INSTANCE, bearerToken: '' })).toThrow('bearerToken');
  });

  it('asks the authenticator for a token before every request', async () => {
    let issued = 0;
    const authenticated = new SecretsManagerClient({
      serviceUrl: server.url,
      instanceId: INSTANCE,
      authenticator: { getToken: () => Promise.resolve(`jwt-${++issued}`) },
      headers: { 'X-Correlation-Id': 'corr-1' },
    });
    server.respond(() => ({ status: 200, body: group }));
    await authenticated.getSecretGroup('default');
    await authenticated.getSecretGroup('default');
    expect(server.requests.map((request) => request.headers.authorization)).toEqual(['Bearer jwt-1', 'Bearer jwt-2']);
    expect(server.requests[1]?.headers['x-correlation-id']).toBe('corr-1');
  });
});

describe('errors', () => {
  it('throws SecretsManagerError from the IBM error body', async () => {
    const body = {
      errors: [
        { code: 'VALIDATION_FAILED', message: 'payload: Too big', target: { type: 'field', name: 'payload' } },
        { code: 'VALIDATION_FAILED', message: 'labels.0: Too small', target: { type: 'field', name: 'labels.0' } },
      ],
      status_code: 400,
      trace: TRACE,
    };
    server.respond(() => ({ status: 400, body }));
    const error = await client.createSecret({ secret_type: 'arbitrary', name: 'x1', payload: 'p' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretsManagerError);
    expect(error).toMatchObject({
      name: 'SecretsManagerError',
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'payload: Too big',
      body,
      trace: TRACE,
      fields: ['payload', 'labels.0'],
    });
  });

  it.each([
    [404, { error: 'no such thing', code: 'NOPE' }, 'NOPE', 'no such thing'],
    [409, { message: 'in use' }, 'HTTP_409', 'in use'],
    [401, { errorMessage: 'who are you' }, 'HTTP_401', 'who are you'],
    [502, 'Bad Gateway', 'HTTP_502', 'HTTP 502'],
  ])('falls back for a %i answer that is not an IBM body', async (status, body, code, message) => {
    server.respond(() => (typeof body === 'string' ? { status, raw: body, contentType: 'text/plain' } : { status, body }));
    const error = await client.deleteSecret(SECRET_ID).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretsManagerError);
    expect(error).toMatchObject({ status, code, message, body });
  });

  it('throws SecretsManagerResponseError for a 2xx answer of the wrong shape, naming the fields', async () => {
    server.respond(() => ({ status: 200, body: { ...secret, payload: undefined, versions_total: 'one' } }));
    const error = await client.getSecret(SECRET_ID).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretsManagerResponseError);
    expect(error).toMatchObject({ status: 200, message: expect.stringContaining('versions_total, payload') });
  });

  it('throws SecretsManagerResponseError for a 2xx answer that is not JSON', async () => {
    server.respond(() => ({ status: 200, raw: '<html>', contentType: 'text/html' }));
    await expect(client.getSecretGroup(GROUP_ID)).rejects.toThrow(SecretsManagerResponseError);
  });
});

describe('pagers', () => {
  const many = Array.from({ length: 5 }, (_, index) => ({ ...metadata, id: `0b5571f7-21e6-42b7-91c5-3f5ac979300${index}`, name: `s-${index}` }));

  it('listSecretsAll follows next.href over 3 pages and stops when next is absent', async () => {
    server.respond((request) => {
      const offset = Number(request.query.offset ?? '0');
      const limit = Number(request.query.limit);
      return { status: 200, body: page('/secrets', 'secrets', many.slice(offset, offset + limit), offset, limit, many.length) };
    });

    const names: string[] = [];
    for await (const item of client.listSecretsAll({ limit: 2, sort: 'name', groups: ['default'] })) names.push(item.name);

    expect(names).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4']);
    expect(server.requests.map((request) => request.query)).toEqual([
      { limit: '2', sort: 'name', groups: 'default' },
      { offset: '2', limit: '2', sort: 'name', groups: 'default' },
      { offset: '4', limit: '2', sort: 'name', groups: 'default' },
    ]);
  });

  it('starts at the given offset', async () => {
    server.respond((request) => {
      const offset = Number(request.query.offset);
      return { status: 200, body: page('/secrets', 'secrets', many.slice(offset, offset + 2), offset, 2, many.length) };
    });
    const names: string[] = [];
    for await (const item of client.listSecretsAll({ offset: 3, limit: 2 })) names.push(item.name);
    expect(names).toEqual(['s-3', 's-4']);
    expect(server.requests).toHaveLength(1);
  });

  it('throws instead of looping when next.href does not move forward', async () => {
    server.respond(() => ({ status: 200, body: { ...page('/secrets', 'secrets', many.slice(0, 2), 0, 2, 5), next: { href: '/secrets?offset=0&limit=2' } } }));
    const names: string[] = [];
    const consume = async () => {
      for await (const item of client.listSecretsAll({ limit: 2 })) names.push(item.name);
    };
    await expect(consume()).rejects.toThrow(SecretsManagerResponseError);
    expect(names).toEqual(['s-0', 's-1']);
    expect(server.requests).toHaveLength(1);
  });

  const locks = Array.from({ length: 3 }, (_, index) => ({ ...lock, name: `lock-${index}` }));
  const lockSets = Array.from({ length: 3 }, (_, index) => ({ ...secretLocks, secret_name: `s-${index}` }));
  const configurations = Array.from({ length: 3 }, (_, index) => ({ ...configuration, name: `config-${index}` }));
  it.each([
    ['listSecretLocksAll', `/secrets/${SECRET_ID}/locks`, 'locks', locks, (c: SecretsManagerClient) => c.listSecretLocksAll(SECRET_ID, { limit: 2 })],
    [
      'listSecretVersionLocksAll',
      `/secrets/${SECRET_ID}/versions/current/locks`,
      'locks',
      locks,
      (c: SecretsManagerClient) => c.listSecretVersionLocksAll(SECRET_ID, 'current', { limit: 2 }),
    ],
    ['listSecretsLocksAll', '/secrets_locks', 'secrets_locks', lockSets, (c: SecretsManagerClient) => c.listSecretsLocksAll({ limit: 2 })],
    ['listConfigurationsAll', '/configurations', 'configurations', configurations, (c: SecretsManagerClient) => c.listConfigurationsAll({ limit: 2 })],
  ] as const)('%s reads every page of %s', async (_name, listPath, key, items, iterate) => {
    server.respond((request) => {
      const offset = Number(request.query.offset ?? '0');
      return { status: 200, body: page(listPath, key, items.slice(offset, offset + 2), offset, 2, items.length) };
    });
    const seen: unknown[] = [];
    for await (const item of iterate(client)) seen.push(item);
    expect(seen).toEqual(items);
    expect(server.requests.map((request) => [request.rawPath, request.rawQuery])).toEqual([
      [`${PREFIX}${listPath}`, 'limit=2'],
      [`${PREFIX}${listPath}`, 'offset=2&limit=2'],
    ]);
  });
});

describe('send (raw requests for bad-input tests)', () => {
  it('sends a body verbatim and returns an error answer without throwing', async () => {
    server.respond(() => ({ status: 400, body: { errors: [{ code: 'INVALID_BODY', message: 'bad json' }], status_code: 400, trace: TRACE } }));
    const response = await client.send({ method: 'PATCH', path: `/secrets/${SECRET_ID}/metadata`, rawBody: '{"name":' });
    const request = server.single();
    expect(request.body).toBe('{"name":');
    expect(request.headers['content-type']).toBe(MERGE_PATCH);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'INVALID_BODY' }] });
  });

  it('sends JSON with a chosen content type, query and headers', async () => {
    server.respond(() => ({ status: 415, raw: '' }));
    const response = await client.send({
      method: 'POST',
      path: '/secrets',
      query: { limit: 5, flag: true, list: ['a', 'b'], unset: undefined },
      body: { secret_type: 'nope' },
      contentType: 'text/plain',
      headers: { Authorization: 'Bearer other' },
    });
    const request = server.single();
    expect(request.rawQuery).toBe('limit=5&flag=true&list=a%2Cb');
    expect(request.headers['content-type']).toBe('text/plain');
    expect(request.headers.authorization).toBe('Bearer other');
    expect(JSON.parse(request.body)).toEqual({ secret_type: 'nope' });
    expect(response.status).toBe(415);
    expect(response.text).toBe('');
  });
});
