import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import { bodyOf, cli, GUID, h, instance, KMS_GUID, login, on, requestsTo, routes, useCliHarness } from '../testing/harness.js';

useCliHarness();
beforeEach(() => login({ account_id: 'acc-1' }));

const serviceId = {
  id: 'ServiceId-1234',
  iam_id: 'iam-ServiceId-1234',
  account_id: 'acc-1',
  name: 'my-app',
  description: '',
  crn: 'crn:v1:sealbox:public:iam-identity::a/acc-1::serviceid:ServiceId-1234',
  locked: false,
  created_at: '2027-01-15T08:00:00.000Z',
  modified_at: '2027-01-15T08:00:00.000Z',
  entity_tag: '1-a',
};
const apikey = (overrides: Record<string, unknown> = {}) => ({
  id: 'ApiKey-1',
  crn: 'crn:x',
  name: 'app-key',
  description: '',
  iam_id: serviceId.iam_id,
  account_id: 'acc-1',
  locked: false,
  disabled: false,
  created_at: '2027-01-15T08:00:00.000Z',
  created_by: 'IBMid-admin',
  modified_at: '2027-01-15T08:00:00.000Z',
  entity_tag: '1-a',
  ...overrides,
});
const policy = (body: Record<string, unknown>) => ({
  id: 'policy-1',
  href: '/v1/policies/policy-1',
  created_at: 'c',
  created_by_id: 'IBMid-admin',
  last_modified_at: 'c',
  last_modified_by_id: 'IBMid-admin',
  state: 'active',
  etag: '1-a',
  ...body,
});
const serviceIds = on('GET', '/v1/serviceids', () => ({ status: 200, body: { limit: 100, serviceids: [serviceId] } }));
const echoPolicy = on('POST', '/v1/policies', (request) => ({ status: 201, body: policy(JSON.parse(request.body) as Record<string, unknown>) }));

describe('iam', () => {
  it('service-id-create posts the account and name; service-ids follows pages', async () => {
    routes(
      on('POST', '/v1/serviceids', () => ({ status: 201, body: serviceId })),
      on('GET', '/v1/serviceids', (request) =>
        request.query['pagetoken'] ? { status: 200, body: { limit: 1, serviceids: [{ ...serviceId, id: 'ServiceId-2', name: 'second' }] } } : { status: 200, body: { limit: 1, next: '/v1/serviceids?account_id=acc-1&pagetoken=p2', serviceids: [serviceId] } },
      ),
    );
    const created = await cli(['iam', 'service-id-create', 'my-app', '-d', 'the app']);
    expect(created.code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.requests[0])).toEqual({ account_id: 'acc-1', name: 'my-app', description: 'the app' });
    const listed = await cli(['iam', 'service-ids']);
    expect(listed.stdout).toMatch(/ServiceId-1234\s+my-app/);
    expect(listed.stdout).toContain('second');
  });

  it('service-api-key-create finds the service ID by name or id and prints the key once', async () => {
    routes(serviceIds, on('GET', '/v1/serviceids/ServiceId-1234', () => ({ status: 200, body: serviceId })), on('POST', '/v1/apikeys', () => ({ status: 201, body: apikey({ apikey: 'the-new-key-value' }) })));
    const shown = await cli(['iam', 'service-api-key-create', 'app-key', 'my-app']);
    expect(shown.code).toBe(ExitCode.OK);
    expect(bodyOf(requestsTo('POST', '/v1/apikeys')[0])).toEqual({ name: 'app-key', iam_id: serviceId.iam_id, account_id: 'acc-1' });
    expect(shown.stdout).toMatch(/API key:\s+the-new-key-value/);
    expect(shown.stdout).toContain('cannot be shown again');
    expect((await cli(['iam', 'service-api-key-create', 'app-key', 'ServiceId-1234'])).code).toBe(ExitCode.OK);
    expect(requestsTo('GET', '/v1/serviceids/ServiceId-1234')).toHaveLength(1);
  });

  it('service-api-key-create --file keeps the value off the terminal', async () => {
    routes(serviceIds, on('POST', '/v1/apikeys', () => ({ status: 201, body: apikey({ apikey: 'the-new-key-value' }) })));
    const file = join(h.home, 'key.json');
    const saved = await cli(['iam', 'service-api-key-create', 'app-key', 'my-app', '--file', file]);
    expect(saved.code).toBe(ExitCode.OK);
    expect(saved.stdout).not.toContain('the-new-key-value');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ apikey: 'the-new-key-value', name: 'app-key' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('api-keys lists without values; api-key-delete cannot be undone and asks first (or -f)', async () => {
    routes(on('GET', '/v1/apikeys', () => ({ status: 200, body: { limit: 100, apikeys: [apikey()] } })), on('DELETE', '/v1/apikeys/ApiKey-1', () => ({ status: 204 })));
    expect((await cli(['iam', 'api-keys', '--iam-id', serviceId.iam_id])).stdout).toMatch(/ApiKey-1\s+app-key/);
    expect(requestsTo('GET', '/v1/apikeys')[0]?.query).toMatchObject({ account_id: 'acc-1', iam_id: serviceId.iam_id });
    expect((await cli(['iam', 'api-key-delete', 'ApiKey-1'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['iam', 'api-key-delete', 'ApiKey-1'], { confirm: async () => false })).code).toBe(ExitCode.OK);
    expect(requestsTo('DELETE', '/v1/apikeys/ApiKey-1')).toHaveLength(0);
    expect((await cli(['iam', 'api-key-delete', 'ApiKey-1', '-f'])).code).toBe(ExitCode.OK);
    expect(requestsTo('DELETE', '/v1/apikeys/ApiKey-1')).toHaveLength(1);
  });

  it('access-policy-create grants role CRNs to a service ID (by name) on an instance (by name)', async () => {
    routes(
      serviceIds,
      echoPolicy,
      on('GET', '/v2/resource_instances', () => ({ status: 200, body: { rows_count: 1, next_url: null, resources: [instance()] } })),
    );
    const result = await cli(['iam', 'access-policy-create', 'my-app', '--roles', 'secretsreader,Viewer', '--service-name', 'secrets-manager', '--service-instance', 'my-sm']);
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(bodyOf(requestsTo('POST', '/v1/policies')[0])).toEqual({
      type: 'access',
      subjects: [{ attributes: [{ name: 'iam_id', value: serviceId.iam_id }] }],
      roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:SecretsReader' }, { role_id: 'crn:v1:bluemix:public:iam::::role:Viewer' }],
      resources: [{ attributes: [{ name: 'accountId', value: 'acc-1' }, { name: 'serviceName', value: 'secrets-manager' }, { name: 'serviceInstance', value: GUID }] }],
    });
    expect(result.stdout).toContain('Policy policy-1 was created.');
    expect((await cli(['iam', 'access-policy-create', 'iam-x', '--roles', 'Boss'])).code).toBe(ExitCode.USAGE);
  });

  it('authorization-policy-create lets secrets-manager read the keys of a kms instance (GUID)', async () => {
    routes(echoPolicy);
    const result = await cli(['iam', 'authorization-policy-create', 'secrets-manager', 'kms', 'Reader', '--target-service-instance-id', KMS_GUID]);
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(bodyOf(h.server.single())).toEqual({
      type: 'authorization',
      subjects: [{ attributes: [{ name: 'accountId', value: 'acc-1' }, { name: 'serviceName', value: 'secrets-manager' }] }],
      roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Reader' }],
      resources: [{ attributes: [{ name: 'accountId', value: 'acc-1' }, { name: 'serviceName', value: 'kms' }, { name: 'serviceInstance', value: KMS_GUID }] }],
    });
    expect((await cli(['iam', 'authorization-policy-create', 'secrets-manager', 'kms', 'Reader'])).code).toBe(ExitCode.USAGE);
  });

  it('access-policies follows next.start and filters by type', async () => {
    routes(
      on('GET', '/v1/policies', (request) =>
        request.query['start']
          ? { status: 200, body: { limit: 1, first: { href: 'x' }, policies: [policy({ type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: 'b' }] }], roles: [{ role_id: 'crn:v1:bluemix:public:iam::::role:Viewer' }], resources: [{ attributes: [{ name: 'accountId', value: 'acc-1' }] }], id: 'p2' })] } }
          : { status: 200, body: { limit: 1, first: { href: 'x' }, next: { href: 'y', start: 's2' }, policies: [policy({ type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: 'a' }] }], roles: [{ role_id: 'crn:v1:bluemix:public:iam::::role:Viewer' }], resources: [{ attributes: [{ name: 'accountId', value: 'acc-1' }] }] })] } },
      ),
    );
    const result = await cli(['iam', 'access-policies', '--type', 'access']);
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(requestsTo('GET', '/v1/policies').map((request) => request.query['start'])).toEqual([undefined, 's2']);
    expect(result.stdout).toMatch(/policy-1\s+access\s+iam_id=a\s+Viewer/);
    expect(result.stdout).toContain('p2');
    expect((await cli(['iam', 'access-policies', '--type', 'deny'])).code).toBe(ExitCode.USAGE);
  });
});
