import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretsWire } from '@sealbox/contracts';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import { bodyOf, cli, CRN, GUID, h, ibmError, instance, login, on, requestsTo, routes, secret, TOKEN_1, useCliHarness } from '../testing/harness.js';

useCliHarness();
beforeEach(() => login());

const base = `/secrets-manager/${GUID}/api/v2`;
const SECRET_ID = secret().id;
const VERSION_ID = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const page = (secrets: readonly unknown[], next?: string) => ({
  total_count: secrets.length,
  limit: 200,
  offset: 0,
  first: { href: 'x' },
  last: { href: 'x' },
  ...(next ? { next: { href: next } } : {}),
  secrets,
});
const metadataOf = ({ payload: _payload, ...metadata }: SecretsWire.Secret & { payload?: unknown }) => metadata;
const version = (overrides: Record<string, unknown> = {}) => ({
  id: VERSION_ID,
  secret_id: SECRET_ID,
  secret_type: 'arbitrary',
  secret_group_id: 'default',
  secret_name: 'db-password',
  created_at: '2027-01-15T08:00:00.000Z',
  created_by: 'IBMid-admin',
  payload_available: true,
  alias: 'current',
  downloaded: true,
  auto_rotated: false,
  ...overrides,
});

describe('sm secrets', () => {
  it('secret-create sends an arbitrary prototype through the SM v2 path and does not echo the value', async () => {
    routes(on('POST', `${base}/secrets`, () => ({ status: 201, body: secret() })));
    const result = await cli(['sm', 'secret-create', '-i', GUID, '--name', 'db-password', '--payload', 'the-secret-payload', '--labels', 'prod, eu']);
    expect(result.code).toBe(ExitCode.OK);
    const request = h.server.single();
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN_1}`);
    expect(bodyOf(request)).toEqual({ secret_type: 'arbitrary', name: 'db-password', payload: 'the-secret-payload', labels: ['prod', 'eu'] });
    expect(result.stdout).toContain('Secret db-password was created.');
    expect(result.stdout).not.toContain('the-secret-payload');
  });

  it('secret-create takes any value from @FILE or @- (stdin), and other types by --secret-prototype', async () => {
    routes(on('POST', `${base}/secrets`, () => ({ status: 201, body: secret() })));
    const file = join(h.home, 'payload');
    writeFileSync(file, 'from-a-file\n');
    expect((await cli(['sm', 'secret-create', '-i', GUID, '--name', 'a', '--payload', `@${file}`])).code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.requests[0])).toMatchObject({ payload: 'from-a-file' });
    expect((await cli(['sm', 'secret-create', '-i', GUID, '--name', 'b', '--payload', '@-'], { readStdin: async () => 'from-stdin\n' })).code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.requests[1])).toMatchObject({ name: 'b', payload: 'from-stdin' });
    const prototype = { secret_type: 'kv', name: 'cfg', data: { a: 1 } };
    writeFileSync(join(h.home, 'proto.json'), JSON.stringify(prototype));
    expect((await cli(['sm', 'secret-create', '-i', GUID, '--secret-prototype', `@${join(h.home, 'proto.json')}`])).code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.requests[2])).toEqual(prototype);
  });

  it('secret-create of username_password and kv from options; a missing field is a usage error (2) without a request', async () => {
    routes(on('POST', `${base}/secrets`, () => ({ status: 201, body: secret() })));
    expect((await cli(['sm', 'secret-create', '-i', GUID, '--name', 'db', '--type', 'username_password', '--username', 'app'])).code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.requests[0])).toEqual({ secret_type: 'username_password', name: 'db', username: 'app' });
    expect((await cli(['sm', 'secret-create', '-i', GUID, '--name', 'cfg', '--type', 'kv', '--data', '{"url":"u"}', '--group', 'default'])).code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.requests[1])).toEqual({ secret_type: 'kv', name: 'cfg', data: { url: 'u' }, secret_group_id: 'default' });
    for (const argv of [
      ['--name', 'x'],
      ['--name', 'x', '--type', 'kv'],
      ['--name', 'x', '--type', 'kv', '--data', '[1]'],
      ['--payload', 'p'],
    ]) {
      expect((await cli(['sm', 'secret-create', '-i', GUID, ...argv])).code, argv.join(' ')).toBe(ExitCode.USAGE);
    }
    expect(h.server.requests).toHaveLength(2);
  });

  it('secret prints the metadata and the value; --field payload prints the raw value only (a newline only on a terminal)', async () => {
    const value = secret();
    routes(on('GET', `${base}/secrets/${value.id}`, () => ({ status: 200, body: value })));
    const human = await cli(['sm', 'secret', value.id, '-i', GUID]);
    expect(human.code).toBe(ExitCode.OK);
    expect(human.stdout).toMatch(/Name:\s+db-password/);
    expect(human.stdout).toMatch(/Payload:\s+the-secret-payload/);
    const raw = await cli(['sm', 'secret', value.id, '-i', GUID, '--field', 'payload']);
    expect(raw.stdout).toBe('the-secret-payload');
    let written = '';
    const terminal = await cli(['sm', 'secret', value.id, '-i', GUID, '--field', 'payload'], {
      stdout: Object.assign({ write: (text: string) => void (written += text) }, { isTTY: true }),
    });
    expect(terminal.code).toBe(ExitCode.OK);
    expect(written).toBe('the-secret-payload\n');
    const json = await cli(['sm', 'secret', value.id, '-i', GUID, '--output', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(value);
    const missing = await cli(['sm', 'secret', value.id, '-i', GUID, '--field', 'password']);
    expect(missing.code).toBe(ExitCode.USAGE);
    expect(missing.stderr).toContain('fields: ');
  });

  it('secret-by-name sends the group name, type and name; --field reads nested values (data.key)', async () => {
    const kv = { ...metadataOf(secret()), secret_type: 'kv', data: { user: 'u1', pass: 'p1' } };
    routes(on('GET', `${base}/secret_groups/default/secret_types/kv/secrets/cfg`, () => ({ status: 200, body: kv })));
    const result = await cli(['sm', 'secret-by-name', 'cfg', '--type', 'kv', '-i', GUID, '--field', 'data.pass']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe('p1');
    const whole = await cli(['sm', 'secret-by-name', 'cfg', '--type', 'kv', '-i', GUID, '--field', 'data']);
    expect(JSON.parse(whole.stdout)).toEqual({ user: 'u1', pass: 'p1' });
    expect((await cli(['sm', 'secret-by-name', 'cfg', '--type', 'nope', '-i', GUID])).code).toBe(ExitCode.USAGE);
  });

  it('secrets follows every page with the filters and prints a table (never a value)', async () => {
    const value = secret();
    routes(
      on('GET', `${base}/secrets`, (request) =>
        request.query['offset'] === '1'
          ? { status: 200, body: page([{ ...metadataOf(value), id: 'second', name: 'other' }]) }
          : { status: 200, body: page([metadataOf(value)], `${base}/secrets?offset=1&limit=200`) },
      ),
    );
    const listed = await cli(['sm', 'secrets', '-i', GUID, '--type', 'arbitrary,kv', '--labels', 'prod', '--search', 'db', '--group', 'default', '--sort', '-name']);
    expect(listed.code).toBe(ExitCode.OK);
    expect(h.server.requests[0]?.query).toMatchObject({ secret_types: 'arbitrary,kv', match_all_labels: 'prod', search: 'db', groups: 'default', sort: '-name' });
    expect(h.server.requests).toHaveLength(2);
    expect(listed.stdout).toMatch(/db-password\s+arbitrary\s+active/);
    expect(listed.stdout).toContain('other');
    expect(listed.stdout).not.toContain('the-secret-payload');
    expect((await cli(['sm', 'secrets', '-i', GUID, '--sort', 'size'])).code).toBe(ExitCode.USAGE);
  });

  it('secret-metadata and secret-metadata-update (a merge patch from options or --patch)', async () => {
    const metadata = metadataOf(secret());
    routes(on('GET', `${base}/secrets/${SECRET_ID}/metadata`, () => ({ status: 200, body: metadata })), on('PATCH', `${base}/secrets/${SECRET_ID}/metadata`, () => ({ status: 200, body: metadata })));
    const shown = await cli(['sm', 'secret-metadata', SECRET_ID, '-i', GUID, '--field', 'versions_total']);
    expect(shown.stdout).toBe('1');
    const updated = await cli(['sm', 'secret-metadata-update', SECRET_ID, '-i', GUID, '--labels', 'a,b', '--description', 'd', '--custom-metadata', '{"team":"x"}']);
    expect(updated.code).toBe(ExitCode.OK);
    const patch = requestsTo('PATCH', `${base}/secrets/${SECRET_ID}/metadata`)[0];
    expect(patch?.headers['content-type']).toBe('application/merge-patch+json');
    expect(bodyOf(patch)).toEqual({ labels: ['a', 'b'], description: 'd', custom_metadata: { team: 'x' } });
    expect((await cli(['sm', 'secret-metadata-update', SECRET_ID, '-i', GUID, '--patch', '{"expiration_date":null}'])).code).toBe(ExitCode.OK);
    expect(bodyOf(requestsTo('PATCH', `${base}/secrets/${SECRET_ID}/metadata`)[1])).toEqual({ expiration_date: null });
    expect((await cli(['sm', 'secret-metadata-update', SECRET_ID, '-i', GUID])).code).toBe(ExitCode.USAGE);
  });

  it('secret-delete cannot be undone: it refuses without -f and without a terminal, asks on one, deletes with -f', async () => {
    routes(on('DELETE', `${base}/secrets/${SECRET_ID}`, () => ({ status: 204 })));
    const refused = await cli(['sm', 'secret-delete', SECRET_ID, '-i', GUID]);
    expect(refused.code).toBe(ExitCode.USAGE);
    expect(refused.stderr).toContain('-f');
    const declined = await cli(['sm', 'secret-delete', SECRET_ID, '-i', GUID], { confirm: async () => false });
    expect(declined.code).toBe(ExitCode.OK);
    expect(h.server.requests).toHaveLength(0);
    const confirmed = await cli(['sm', 'secret-delete', SECRET_ID, '-i', GUID], { confirm: async () => true });
    expect(confirmed.code).toBe(ExitCode.OK);
    expect((await cli(['sm', 'secret-delete', SECRET_ID, '-i', GUID, '-f'])).code).toBe(ExitCode.OK);
    expect(requestsTo('DELETE', `${base}/secrets/${SECRET_ID}`)).toHaveLength(2);
  });

  it('a disabled instance exits 1 with INSTANCE_NOT_ACTIVE', async () => {
    routes(on('GET', `${base}/secrets`, () => ibmError(409, 'INSTANCE_NOT_ACTIVE', 'The instance is pending reclamation')));
    const result = await cli(['sm', 'secrets', '-i', GUID]);
    expect(result.code).toBe(ExitCode.SERVER);
    expect(result.stderr).toContain('INSTANCE_NOT_ACTIVE: The instance is pending reclamation');
  });
});

describe('sm instance: by GUID, CRN or name, or the target', () => {
  const list = on('GET', '/v2/resource_instances', () => ({
    status: 200,
    body: { rows_count: 2, next_url: null, resources: [instance(), instance({ guid: 'f0f0f0f0-0000-4000-8000-000000000000', resource_id: 'kms', name: 'my-sm' })] },
  }));
  const groupsRoute = on('GET', `${base}/secret_groups`, () => ({ status: 200, body: { secret_groups: [], total_count: 0 } }));

  it('takes a name (looked up among secrets-manager instances), a CRN (its GUID), or the older --instance-id', async () => {
    routes(list, groupsRoute);
    expect((await cli(['sm', 'secret-groups', '-i', 'my-sm'])).code).toBe(ExitCode.OK);
    expect((await cli(['sm', 'secret-groups', '--instance', CRN])).code).toBe(ExitCode.OK);
    expect((await cli(['sm', 'secret-groups', '--instance-id', GUID])).code).toBe(ExitCode.OK);
    expect(requestsTo('GET', `${base}/secret_groups`)).toHaveLength(3);
    expect(requestsTo('GET', '/v2/resource_instances')).toHaveLength(1);
  });

  it('a CRN of another service is a usage error; without -i and without a target, it says how to set one', async () => {
    const kmsCrn = `crn:v1:sealbox:public:kms:us-south:a/acc-1:${GUID}::`;
    expect((await cli(['sm', 'secret-groups', '-i', kmsCrn])).code).toBe(ExitCode.USAGE);
    const none = await cli(['sm', 'secret-groups']);
    expect(none.code).toBe(ExitCode.USAGE);
    expect(none.stderr).toContain('sealbox target --instance');
    expect(h.server.requests).toHaveLength(0);
  });

  it('target --instance CRN stores the default instance of its group; sm commands use it', async () => {
    routes(on('GET', `/v2/resource_instances/${encodeURIComponent(CRN)}`, () => ({ status: 200, body: instance() })), groupsRoute);
    const set = await cli(['target', '--instance', CRN]);
    expect(set.code, set.stderr).toBe(ExitCode.OK);
    expect(set.stdout).toMatch(/sm instance:\s+my-sm \(secrets-manager/);
    routes(groupsRoute);
    h.server.reset();
    expect((await cli(['sm', 'secret-groups'])).code).toBe(ExitCode.OK);
    expect(h.server.single().rawPath).toBe(`${base}/secret_groups`);
    const shown = await cli(['target', '--output', 'json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ sm: { guid: GUID, name: 'my-sm', service: 'secrets-manager' }, kp: null });
    expect((await cli(['target', '--unset-instance'])).code).toBe(ExitCode.OK);
    expect((await cli(['sm', 'secret-groups'])).code).toBe(ExitCode.USAGE);
  });
});

describe('sm versions, groups and locks', () => {
  it('secret-version-create sends the new value (never echoed) and shows the version', async () => {
    routes(on('POST', `${base}/secrets/${SECRET_ID}/versions`, () => ({ status: 201, body: version({ payload: 'new-value' }) })));
    const result = await cli(['sm', 'secret-version-create', SECRET_ID, '-i', GUID, '--payload', 'new-value']);
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(bodyOf(h.server.single())).toEqual({ payload: 'new-value' });
    expect(result.stdout).toContain(`Version ${VERSION_ID}`);
    expect(result.stdout).not.toContain('new-value');
  });

  it('secret-versions lists; secret-version (current by default, or previous) with --field payload; secret-version-metadata', async () => {
    routes(
      on('GET', `${base}/secrets/${SECRET_ID}/versions`, () => ({ status: 200, body: { versions: [version()], total_count: 1 } })),
      on('GET', `${base}/secrets/${SECRET_ID}/versions/current`, () => ({ status: 200, body: version({ payload: 'v-current' }) })),
      on('GET', `${base}/secrets/${SECRET_ID}/versions/previous`, () => ({ status: 200, body: version({ payload: 'v-previous', alias: 'previous' }) })),
      on('GET', `${base}/secrets/${SECRET_ID}/versions/previous/metadata`, () => ({ status: 200, body: version({ alias: 'previous' }) })),
    );
    expect((await cli(['sm', 'secret-versions', SECRET_ID, '-i', GUID])).stdout).toMatch(new RegExp(`${VERSION_ID}\\s+current`));
    expect((await cli(['sm', 'secret-version', SECRET_ID, '-i', GUID, '--field', 'payload'])).stdout).toBe('v-current');
    expect((await cli(['sm', 'secret-version', SECRET_ID, 'previous', '-i', GUID, '--field', 'payload'])).stdout).toBe('v-previous');
    expect((await cli(['sm', 'secret-version-metadata', SECRET_ID, 'previous', '-i', GUID])).stdout).toMatch(/Alias:\s+previous/);
  });

  it('secret-group-create, secret-groups, and secret-group-delete (asks first, or -f)', async () => {
    const group = { id: '11111111-2222-4333-8444-555555555555', name: 'team-a', description: 'd', created_at: '2027-01-15T08:00:00.000Z', updated_at: '2027-01-15T08:00:00.000Z', created_by: 'IBMid-admin' };
    routes(
      on('POST', `${base}/secret_groups`, () => ({ status: 201, body: group })),
      on('GET', `${base}/secret_groups`, () => ({ status: 200, body: { secret_groups: [group], total_count: 1 } })),
      on('DELETE', `${base}/secret_groups/${group.id}`, () => ({ status: 204 })),
    );
    expect((await cli(['sm', 'secret-group-create', 'team-a', '--description', 'd', '-i', GUID])).stdout).toContain(group.id);
    expect(bodyOf(h.server.requests[0])).toEqual({ name: 'team-a', description: 'd' });
    expect((await cli(['sm', 'secret-groups', '-i', GUID])).stdout).toMatch(/team-a/);
    expect((await cli(['sm', 'secret-group-delete', group.id, '-i', GUID])).code).toBe(ExitCode.USAGE);
    expect((await cli(['sm', 'secret-group-delete', group.id, '-i', GUID, '-f'])).code).toBe(ExitCode.OK);
    expect(requestsTo('DELETE', `${base}/secret_groups/${group.id}`)).toHaveLength(1);
  });

  it('secret-locks-create locks (no question, unless remove_previous_and_delete deletes data); secret-locks-delete asks nothing; secret-locks lists', async () => {
    const locks = { secret_id: SECRET_ID, secret_group_id: 'default', secret_type: 'arbitrary', secret_name: 'db-password', versions: [{ version_id: VERSION_ID, version_alias: 'current', locks: ['app-1'], payload_available: true }] };
    const lock = { name: 'app-1', created_at: '2027-01-15T08:00:00.000Z', updated_at: '2027-01-15T08:00:00.000Z', created_by: 'IBMid-admin', secret_group_id: 'default', secret_id: SECRET_ID, secret_version_id: VERSION_ID, secret_version_alias: 'current' };
    routes(
      on('POST', `${base}/secrets/${SECRET_ID}/locks_bulk`, () => ({ status: 201, body: locks })),
      on('DELETE', `${base}/secrets/${SECRET_ID}/locks_bulk`, () => ({ status: 200, body: { ...locks, versions: [] } })),
      on('GET', `${base}/secrets/${SECRET_ID}/locks`, () => ({ status: 200, body: { total_count: 1, limit: 200, offset: 0, first: { href: 'x' }, last: { href: 'x' }, locks: [lock] } })),
    );
    const created = await cli(['sm', 'secret-locks-create', SECRET_ID, '-i', GUID, '--lock', 'app-1', '--description', 'used by app'], { confirm: async () => expect.fail('asked') });
    expect(created.code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.requests[0])).toEqual({ locks: [{ name: 'app-1', description: 'used by app' }] });
    expect((await cli(['sm', 'secret-locks-create', SECRET_ID, '-i', GUID, '--lock', 'app-2', '--mode', 'remove_previous_and_delete'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['sm', 'secret-locks-create', SECRET_ID, '-i', GUID, '--lock', 'app-2', '--mode', 'remove_previous_and_delete', '-f'])).code).toBe(ExitCode.OK);
    expect(h.server.requests[1]?.query).toEqual({ mode: 'remove_previous_and_delete' });
    expect((await cli(['sm', 'secret-locks-delete', SECRET_ID, '-i', GUID, '--lock', 'app-1,app-2'])).code).toBe(ExitCode.OK);
    expect(requestsTo('DELETE', `${base}/secrets/${SECRET_ID}/locks_bulk`)[0]?.query).toEqual({ name: 'app-1,app-2' });
    expect((await cli(['sm', 'secret-locks', SECRET_ID, '-i', GUID])).stdout).toMatch(/app-1\s+current/);
  });
});

describe('sm configurations (private_cert)', () => {
  const root = {
    config_type: 'private_cert_configuration_root_ca',
    name: 'root',
    secret_type: 'private_cert',
    common_name: 'Example Root',
    status: 'configured',
    expiration_date: '2036-01-15T08:00:00.000Z',
    created_at: '2027-01-15T08:00:00.000Z',
    created_by: 'IBMid-admin',
    updated_at: '2027-01-15T08:00:00.000Z',
    data: { certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' },
  };

  it('configuration-create sends the JSON prototype; a bad one is a usage error (2) without a request', async () => {
    routes(on('POST', `${base}/configurations`, () => ({ status: 201, body: root })));
    const prototype = { config_type: 'private_cert_configuration_root_ca', name: 'root', common_name: 'Example Root', max_ttl: '87600h' };
    const result = await cli(['sm', 'configuration-create', JSON.stringify(prototype), '-i', GUID]);
    expect(result.code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.single())).toEqual(prototype);
    expect(result.stdout).toContain('Configuration root was created.');
    const bad = await cli(['sm', 'configuration-create', JSON.stringify({ ...prototype, key_type: 'rsa', key_bits: 384 }), '-i', GUID]);
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr).toContain('key_bits');
    expect(h.server.requests).toHaveLength(1);
  });

  it('configurations lists every page; configuration sends X-Sm-Accept-Configuration-Type from --type', async () => {
    routes(
      on('GET', `${base}/configurations`, () => ({ status: 200, body: { total_count: 1, limit: 200, offset: 0, first: { href: 'x' }, last: { href: 'x' }, configurations: [root] } })),
      on('GET', `${base}/configurations/root`, () => ({ status: 200, body: root })),
    );
    const listed = await cli(['sm', 'configurations', '-i', GUID]);
    expect(listed.code).toBe(ExitCode.OK);
    expect(listed.stdout).toContain('private_cert_configuration_root_ca');
    const shown = await cli(['sm', 'configuration', 'root', '--type', 'root_ca', '-i', GUID]);
    expect(shown.code).toBe(ExitCode.OK);
    expect(requestsTo('GET', `${base}/configurations/root`)[0]?.headers['x-sm-accept-configuration-type']).toBe('private_cert_configuration_root_ca');
    expect((await cli(['sm', 'configuration', 'root', '--type', 'nope', '-i', GUID])).code).toBe(ExitCode.USAGE);
  });

  it('configuration-action-create builds the action from its short name and options', async () => {
    routes(on('POST', `${base}/configurations/root/actions`, () => ({ status: 201, body: { action_type: 'private_cert_configuration_action_sign_intermediate' } })));
    const result = await cli(['sm', 'configuration-action-create', 'root', 'sign_intermediate', '--intermediate', 'issuing', '-i', GUID]);
    expect(result.code).toBe(ExitCode.OK);
    expect(bodyOf(h.server.single())).toEqual({ action_type: 'private_cert_configuration_action_sign_intermediate', intermediate_certificate_authority: 'issuing' });
    expect((await cli(['sm', 'configuration-action-create', 'root', 'sign_intermediate', '-i', GUID])).code).toBe(ExitCode.USAGE);
  });
});
