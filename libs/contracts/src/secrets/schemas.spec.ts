import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as W from './schemas.js';

/** The fields a failed parse names (a key a strict schema refuses is named by its own path). */
function failingFields(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input).slice(0, 200)} to be rejected`);
  return result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => [...issue.path, key].map(String).join('.'))
      : [issue.path.map(String).join('.') || '(root)'],
  );
}

const GROUP_ID = 'd898bb90-82f6-4d61-b5cc-b079b66cfa76';
const SECRET_ID = '0b5571f7-21e6-42b7-91c5-3f5ac9793a46';
const VERSION_ID = 'eb4cf24d-9cae-424b-945e-159788a5f535';
const NOW = '2024-05-01T10:00:00Z';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

const prototypes: Record<W.SecretType, Record<string, unknown>> = {
  arbitrary: {
    secret_type: 'arbitrary',
    name: 'example-arbitrary-secret',
    description: 'Extended description for this secret.',
    labels: ['dev', 'us-south'],
    custom_metadata: { anyKey: 'anyValue' },
    version_custom_metadata: { build: 42 },
    expiration_date: '2030-10-05T11:49:42Z',
    payload: 'secret-data',
  },
  username_password: {
    secret_type: 'username_password',
    name: 'db.credentials_01',
    secret_group_id: GROUP_ID,
    username: 'admin',
    password_generation_policy: { length: 40, include_symbols: false },
    rotation: { auto_rotate: true, interval: 30, unit: 'day' },
  },
  kv: { secret_type: 'kv', name: 'kv-1', data: { host: 'db', port: 5432, nested: { tls: true } } },
  imported_cert: { secret_type: 'imported_cert', name: 'tls-cert', certificate: CERT, intermediate: CERT, private_key: KEY },
  iam_credentials: {
    secret_type: 'iam_credentials',
    name: 'ci-apikey',
    service_id: 'ServiceId-1e3b4c5d',
    ttl: '1d',
    reuse_api_key: true,
  },
  private_cert: {
    secret_type: 'private_cert',
    name: 'api-tls',
    certificate_template: 'web-servers',
    common_name: 'api.example.com',
    alt_names: ['www.example.com'],
    ip_sans: '10.0.0.1',
    ttl: '720h',
    rotation: { auto_rotate: true, interval: 20, unit: 'day' },
  },
};

describe('limits', () => {
  it('are the documented ones (IBM, except the arbitrary payload: 512 KiB instead of 1 MB)', () => {
    expect({
      name: [W.SECRET_NAME_MIN_LENGTH, W.SECRET_NAME_MAX_LENGTH],
      groupName: [W.SECRET_GROUP_NAME_MIN_LENGTH, W.SECRET_GROUP_NAME_MAX_LENGTH],
      description: W.DESCRIPTION_MAX_LENGTH,
      labels: [W.MAX_LABELS, W.LABEL_MIN_LENGTH, W.LABEL_MAX_LENGTH],
      customMetadata: W.CUSTOM_METADATA_MAX_BYTES,
      arbitrary: W.ARBITRARY_PAYLOAD_MAX_BYTES,
      kv: W.KV_DATA_MAX_BYTES,
      pem: W.CERTIFICATE_PEM_MAX_BYTES,
      username: [W.USERNAME_MIN_LENGTH, W.USERNAME_MAX_LENGTH],
      password: [W.PASSWORD_MIN_LENGTH, W.PASSWORD_MAX_LENGTH],
      generated: [W.GENERATED_PASSWORD_MIN_LENGTH, W.GENERATED_PASSWORD_MAX_LENGTH, W.DEFAULT_PASSWORD_GENERATION_POLICY.length],
      ttl: [W.IAM_CREDENTIALS_TTL_MIN_SECONDS, W.IAM_CREDENTIALS_TTL_MAX_SECONDS],
      locks: W.MAX_LOCKS_PER_VERSION,
      listSecrets: [W.LIST_SECRETS_DEFAULT_LIMIT, W.LIST_SECRETS_MAX_LIMIT],
      listLocks: [W.LIST_LOCKS_DEFAULT_LIMIT, W.LIST_LOCKS_MAX_LIMIT],
    }).toEqual({
      name: [2, 256],
      groupName: [2, 64],
      description: 1024,
      labels: [30, 2, 64],
      customMetadata: 10_240,
      arbitrary: 524_288,
      kv: 524_288,
      pem: 102_400,
      username: [2, 64],
      password: [6, 256],
      generated: [12, 256, 32],
      ttl: [60, 7_776_000],
      locks: 1000,
      listSecrets: [200, 1000],
      listLocks: [25, 100],
    });
  });
});

describe('secret prototypes', () => {
  it.each(W.SecretTypes)('a valid %s prototype parses', (type) => {
    const parsed = W.SecretPrototype.parse(prototypes[type]);
    expect(parsed.secret_type).toBe(type);
  });

  it('defaults the group to "default" and the labels to none', () => {
    const parsed = W.SecretPrototype.parse({ secret_type: 'kv', name: 'kv-1', data: {} });
    expect(parsed).toMatchObject({ secret_group_id: 'default', labels: [] });
  });

  it.each([
    ['arbitrary', 'payload'],
    ['username_password', 'username'],
    ['kv', 'data'],
    ['imported_cert', 'certificate'],
    ['iam_credentials', 'ttl'],
    ['iam_credentials', 'reuse_api_key'],
    ['iam_credentials', 'service_id'],
    ['arbitrary', 'name'],
  ] as const)('a %s prototype without %s names it', (type, field) => {
    const { [field]: _omitted, ...rest } = prototypes[type];
    expect(failingFields(W.SecretPrototype, rest)).toContain(field);
  });

  it.each(['public_cert', 'password', '', 42])('secret_type %j is refused by name', (secretType) => {
    expect(failingFields(W.SecretPrototype, { ...prototypes.arbitrary, secret_type: secretType })).toEqual(['secret_type']);
  });

  it('refuses fields the type does not take, by name', () => {
    expect(failingFields(W.SecretPrototype, { ...prototypes.arbitrary, rotation: { auto_rotate: false } })).toEqual(['rotation']);
    expect(failingFields(W.SecretPrototype, { ...prototypes.kv, expiration_date: NOW })).toEqual(['expiration_date']);
    expect(failingFields(W.SecretPrototype, { ...prototypes.imported_cert, managed_csr: {} })).toEqual(['managed_csr']);
  });

  it.each([
    ['-leading-dash', 'name'],
    ['trailing.', 'name'],
    ['with space', 'name'],
    ['a', 'name'],
    ['x'.repeat(257), 'name'],
  ])('refuses the name %j', (name, field) => {
    expect(failingFields(W.SecretPrototype, { ...prototypes.arbitrary, name })).toEqual([field]);
  });

  it('accepts IBM names: letters and digits joined by _, - and .', () => {
    for (const name of ['ab', 'my_secret-1.v2', 'a__--..b', 'A1', 'x'.repeat(256)]) {
      expect(W.SecretName.safeParse(name).success, name).toBe(true);
    }
  });

  it('checks a long near-miss name in linear time', () => {
    const started = performance.now();
    expect(W.NAME_PATTERN.test(`${'a-'.repeat(2000)}!`)).toBe(false);
    expect(W.NAME_PATTERN.test(`${'a'.repeat(5000)}_`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('refuses a group that is neither a UUID nor "default"', () => {
    expect(failingFields(W.SecretPrototype, { ...prototypes.kv, secret_group_id: 'my-group' })).toEqual(['secret_group_id']);
  });

  describe('labels', () => {
    it('takes up to 30 labels of 2 to 64 characters', () => {
      const labels = Array.from({ length: W.MAX_LABELS }, (_, index) => `label ${index}`.padEnd(W.LABEL_MAX_LENGTH, 'x'));
      expect(W.SecretPrototype.safeParse({ ...prototypes.kv, labels }).success).toBe(true);
    });

    it('refuses a 31st label', () => {
      const labels = Array.from({ length: W.MAX_LABELS + 1 }, (_, index) => `label-${index}`);
      expect(failingFields(W.SecretPrototype, { ...prototypes.kv, labels })).toEqual(['labels']);
    });

    it.each([
      ['x', 'too short'],
      ['x'.repeat(W.LABEL_MAX_LENGTH + 1), 'too long'],
      ['a,b', 'comma'],
      ['a:b', 'colon'],
      ['<b>', 'angle brackets'],
      ['a|b', 'pipe'],
      ['a&b', 'ampersand'],
      ['a\nb', 'control character'],
    ])('refuses the label %j (%s), naming its index', (label) => {
      expect(failingFields(W.SecretPrototype, { ...prototypes.kv, labels: ['ok', label] })).toEqual(['labels.1']);
    });

    it('refuses a duplicate label', () => {
      expect(failingFields(W.SecretPrototype, { ...prototypes.kv, labels: ['dev', 'prod', 'dev'] })).toEqual(['labels.2']);
    });
  });

  describe('payload limits', () => {
    it(`takes an arbitrary payload of exactly ${W.ARBITRARY_PAYLOAD_MAX_BYTES} bytes and refuses one byte more`, () => {
      const payload = 'p'.repeat(W.ARBITRARY_PAYLOAD_MAX_BYTES);
      expect(W.SecretPrototype.safeParse({ ...prototypes.arbitrary, payload }).success).toBe(true);
      expect(failingFields(W.SecretPrototype, { ...prototypes.arbitrary, payload: `${payload}p` })).toEqual(['payload']);
    });

    it('counts UTF-8 bytes, not characters', () => {
      const payload = 'é'.repeat(W.ARBITRARY_PAYLOAD_MAX_BYTES / 2 + 1);
      expect(payload.length).toBeLessThan(W.ARBITRARY_PAYLOAD_MAX_BYTES);
      expect(failingFields(W.SecretPrototype, { ...prototypes.arbitrary, payload })).toEqual(['payload']);
    });

    it('refuses an empty arbitrary payload', () => {
      expect(failingFields(W.SecretPrototype, { ...prototypes.arbitrary, payload: '' })).toEqual(['payload']);
    });

    it('refuses kv data over the limit', () => {
      const data = { blob: 'd'.repeat(W.KV_DATA_MAX_BYTES) };
      expect(failingFields(W.SecretPrototype, { ...prototypes.kv, data })).toEqual(['data']);
    });

    it.each([[['a', 'b']], ['text'], [null], [7]])('refuses kv data %j that is not an object', (data) => {
      expect(failingFields(W.SecretPrototype, { ...prototypes.kv, data })).toEqual(['data']);
    });

    it('refuses a certificate over 100 KiB, or text that is not PEM', () => {
      const big = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(W.CERTIFICATE_PEM_MAX_BYTES)}\n-----END CERTIFICATE-----`;
      expect(failingFields(W.SecretPrototype, { ...prototypes.imported_cert, certificate: big })).toEqual(['certificate']);
      expect(failingFields(W.SecretPrototype, { ...prototypes.imported_cert, certificate: 'not a cert' })).toEqual(['certificate']);
    });

    it('refuses an encrypted private key', () => {
      const encrypted = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----';
      expect(failingFields(W.SecretPrototype, { ...prototypes.imported_cert, private_key: encrypted })).toEqual(['private_key']);
    });

    it('refuses custom metadata over 10 KiB', () => {
      const custom_metadata = { big: 'm'.repeat(W.CUSTOM_METADATA_MAX_BYTES) };
      expect(failingFields(W.SecretPrototype, { ...prototypes.arbitrary, custom_metadata })).toEqual(['custom_metadata']);
    });

    it.each([
      ['username', 'u'],
      ['username', 'u'.repeat(65)],
      ['password', 'short'],
      ['password', 'p'.repeat(257)],
    ])('refuses a username_password %s of %j', (field, value) => {
      expect(failingFields(W.SecretPrototype, { ...prototypes.username_password, [field]: value })).toEqual([field]);
    });

    it('refuses a generated password length under 12', () => {
      const policy = { length: 11 };
      expect(failingFields(W.SecretPrototype, { ...prototypes.username_password, password_generation_policy: policy })).toEqual([
        'password_generation_policy.length',
      ]);
    });
  });

  describe('iam_credentials ttl', () => {
    it.each([
      ['60', 60],
      ['90s', 90],
      ['120m', 7200],
      ['24h', 86400],
      ['1d', 86400],
      ['90d', 90 * 86400],
    ])('reads %j as %i seconds', (ttl, seconds) => {
      expect(W.ttlSeconds(ttl)).toBe(seconds);
      expect(W.Ttl.safeParse(ttl).success).toBe(true);
    });

    it.each(['30s', '59', '91d', '1w', 'abc', '', '-5m', '1.5h'])('refuses %j', (ttl) => {
      expect(failingFields(W.SecretPrototype, { ...prototypes.iam_credentials, ttl })).toEqual(['ttl']);
    });
  });

  describe('rotation', () => {
    it('takes {auto_rotate: false} alone', () => {
      expect(W.RotationPolicy.safeParse({ auto_rotate: false }).success).toBe(true);
    });

    it('needs interval and unit when auto_rotate is true', () => {
      expect(failingFields(W.RotationPolicy, { auto_rotate: true })).toEqual(['interval', 'unit']);
    });

    it.each([
      [{ auto_rotate: true, interval: 1, unit: 'hour' }, 'unit'],
      [{ auto_rotate: true, interval: 0, unit: 'day' }, 'interval'],
      [{ auto_rotate: true, interval: 1.5, unit: 'day' }, 'interval'],
      [{ auto_rotate: true, interval: W.ROTATION_MAX_MONTHS + 1, unit: 'month' }, 'interval'],
      [{ auto_rotate: true, interval: W.ROTATION_MAX_DAYS + 1, unit: 'day' }, 'interval'],
      [{ auto_rotate: 'yes', interval: 1, unit: 'day' }, 'auto_rotate'],
    ])('refuses %j, naming %s', (rotation, field) => {
      expect(failingFields(W.SecretPrototype, { ...prototypes.username_password, rotation })).toEqual([`rotation.${field}`]);
    });
  });
});

describe('version prototypes', () => {
  const valid: Record<W.SecretType, Record<string, unknown>> = {
    arbitrary: { payload: 'v2', version_custom_metadata: { n: 2 } },
    username_password: {},
    kv: { data: { k: 'v' } },
    imported_cert: { certificate: CERT, private_key: KEY },
    iam_credentials: { custom_metadata: { rotated: true } },
    private_cert: { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----' },
  };

  it.each(W.SecretTypes)('a valid %s version prototype parses', (type) => {
    expect(W.SecretVersionPrototypes[type].safeParse(valid[type]).success).toBe(true);
  });

  it.each([
    ['arbitrary', {}, 'payload'],
    ['kv', { data: [] }, 'data'],
    ['imported_cert', { private_key: KEY }, 'certificate'],
    ['username_password', { password: '123' }, 'password'],
    ['iam_credentials', { payload: 'x' }, 'payload'],
    ['kv', { data: {}, secret_type: 'kv' }, 'secret_type'],
  ] as const)('a %s version prototype %j fails on %s', (type, body, field) => {
    expect(failingFields(W.SecretVersionPrototypes[type], body)).toEqual([field]);
  });
});

describe('merge patches', () => {
  it('take the fields of the type, with null to remove', () => {
    expect(
      W.SecretMetadataPatches.arbitrary.safeParse({ description: null, labels: ['x1'], custom_metadata: { old: null }, expiration_date: null })
        .success,
    ).toBe(true);
    expect(W.SecretMetadataPatches.username_password.safeParse({ rotation: { interval: 2, unit: 'month' } }).success).toBe(true);
    expect(W.SecretMetadataPatches.iam_credentials.safeParse({ ttl: '2h' }).success).toBe(true);
    expect(W.SecretMetadataPatches.kv.safeParse({}).success).toBe(true);
  });

  it.each([
    ['arbitrary', { payload: 'new' }, 'payload'],
    ['kv', { data: {} }, 'data'],
    ['kv', { secret_type: 'arbitrary' }, 'secret_type'],
    ['imported_cert', { expiration_date: NOW }, 'expiration_date'],
    ['arbitrary', { name: null }, 'name'],
    ['username_password', { rotation: { unit: 'week' } }, 'rotation.unit'],
    ['iam_credentials', { ttl: '100d' }, 'ttl'],
  ] as const)('%s refuses %j naming %s', (type, patch, field) => {
    expect(failingFields(W.SecretMetadataPatches[type], patch)).toEqual([field]);
  });

  it('a malformed patch (not an object) fails at the root', () => {
    expect(failingFields(W.SecretMetadataPatches.arbitrary, [{ op: 'replace' }])).toEqual(['(root)']);
    expect(failingFields(W.SecretGroupPatch, 'name=x')).toEqual(['(root)']);
  });

  it('group and version patches', () => {
    expect(W.SecretGroupPatch.safeParse({ name: 'renamed', description: null }).success).toBe(true);
    expect(failingFields(W.SecretGroupPatch, { id: 'x' })).toEqual(['id']);
    expect(W.SecretVersionMetadataPatch.safeParse({ version_custom_metadata: { a: null } }).success).toBe(true);
    expect(failingFields(W.SecretVersionMetadataPatch, { alias: 'current' })).toEqual(['alias']);
  });
});

describe('secret groups', () => {
  it('a prototype needs a 2-64 character name', () => {
    expect(W.SecretGroupPrototype.safeParse({ name: 'my-secret-group', description: 'd' }).success).toBe(true);
    expect(failingFields(W.SecretGroupPrototype, {})).toEqual(['name']);
    expect(failingFields(W.SecretGroupPrototype, { name: 'g'.repeat(65) })).toEqual(['name']);
  });

  it('a collection parses', () => {
    const group = { id: GROUP_ID, name: 'g1', description: 'x', created_at: NOW, created_by: 'iam-user', updated_at: NOW };
    expect(W.SecretGroupCollection.parse({ secret_groups: [group], total_count: 1 }).secret_groups[0]).toEqual(group);
  });
});

describe('list queries', () => {
  it('default offset 0 and limit 200', () => {
    expect(W.ListSecretsQuery.parse({})).toEqual({ offset: 0, limit: 200 });
  });

  it('read numbers and comma-joined lists from query text', () => {
    expect(
      W.ListSecretsQuery.parse({
        offset: '400',
        limit: '1000',
        sort: '-expiration_date',
        search: 'db',
        groups: `default,${GROUP_ID}`,
        secret_types: 'kv,arbitrary',
        match_all_labels: 'dev,us-south',
      }),
    ).toEqual({
      offset: 400,
      limit: 1000,
      sort: '-expiration_date',
      search: 'db',
      groups: ['default', GROUP_ID],
      secret_types: ['kv', 'arbitrary'],
      match_all_labels: ['dev', 'us-south'],
    });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: 'abc' }, 'limit'],
    [{ limit: '1.5' }, 'limit'],
    [{ limit: '' }, 'limit'],
    [{ offset: '-1' }, 'offset'],
    [{ sort: 'colour' }, 'sort'],
    [{ sort: '--name' }, 'sort'],
    [{ sort: 'Name' }, 'sort'],
    [{ search: 's'.repeat(129) }, 'search'],
    [{ groups: 'default,my-group' }, 'groups.1'],
    [{ groups: '' }, 'groups.0'],
    [{ secret_types: 'kv,secret' }, 'secret_types.1'],
    [{ match_all_labels: 'a,dev' }, 'match_all_labels.0'],
  ])('refuses %j naming %s', (query, field) => {
    expect(failingFields(W.ListSecretsQuery, query)).toEqual([field]);
  });

  it.each(W.SecretSortFields)('sorts by %s either way', (field) => {
    expect(W.ListSecretsQuery.parse({ sort: field }).sort).toBe(field);
    expect(W.ListSecretsQuery.parse({ sort: `-${field}` }).sort).toBe(`-${field}`);
  });

  it('lock lists take limit 1-100 (default 25) and sort by name or dates', () => {
    expect(W.ListLocksQuery.parse({ sort: '-created_at' })).toEqual({ offset: 0, limit: 25, sort: '-created_at' });
    expect(failingFields(W.ListLocksQuery, { limit: '101' })).toEqual(['limit']);
    expect(failingFields(W.ListLocksQuery, { sort: 'secret_type' })).toEqual(['sort']);
    expect(W.ListSecretsLocksQuery.parse({ groups: 'default' })).toEqual({ offset: 0, limit: 200, groups: ['default'] });
  });
});

describe('locks', () => {
  it('a bulk body parses', () => {
    const body = { locks: [{ name: 'lock-example-1', description: 'consumer 1', attributes: { anyKey: 'anyValue' } }, { name: 'L2' }] };
    expect(W.SecretLocksPrototype.parse(body)).toEqual(body);
  });

  it.each([
    [{ locks: [] }, 'locks'],
    [{}, 'locks'],
    [{ locks: [{ name: '1lock' }] }, 'locks.0.name'],
    [{ locks: [{ name: 'l' }] }, 'locks.0.name'],
    [{ locks: [{ name: 'ok-lock', colour: 'red' }] }, 'locks.0.colour'],
    [{ locks: [{ name: 'dup' }, { name: 'dup' }] }, 'locks.1.name'],
  ])('refuses %j naming %s', (body, field) => {
    expect(failingFields(W.SecretLocksPrototype, body)).toEqual([field]);
  });

  it('modes and names to delete', () => {
    expect(W.CreateLocksQuery.parse({ mode: 'remove_previous_and_delete' }).mode).toBe('remove_previous_and_delete');
    expect(failingFields(W.CreateLocksQuery, { mode: 'remove_all' })).toEqual(['mode']);
    expect(W.DeleteLocksQuery.parse({ name: 'lock-1,lock-2' }).name).toEqual(['lock-1', 'lock-2']);
    expect(W.DeleteLocksQuery.parse({}).name).toBeUndefined();
    expect(failingFields(W.DeleteLocksQuery, { name: 'lock-1,-x' })).toEqual(['name.1']);
  });
});

describe('path parameters', () => {
  it('ids', () => {
    expect(W.SecretId.safeParse(SECRET_ID).success).toBe(true);
    expect(W.SecretId.safeParse(SECRET_ID.toUpperCase()).success).toBe(false);
    expect(W.SecretGroupId.safeParse('default').success).toBe(true);
    expect(W.SecretVersionId.safeParse('current').success).toBe(true);
    expect(W.SecretVersionId.safeParse('previous').success).toBe(true);
    expect(W.SecretVersionId.safeParse('latest').success).toBe(false);
    expect(W.IbmSecretType.safeParse('public_cert').success).toBe(true);
    expect(W.isSecretType('public_cert')).toBe(false);
    expect(W.isSecretType('kv')).toBe(true);
  });
});

describe('responses', () => {
  const common = {
    id: SECRET_ID,
    crn: `crn:v1:bluemix:public:secrets-manager:us-south:a/acct:inst:secret:${SECRET_ID}`,
    name: 'example',
    secret_group_id: 'default',
    labels: ['dev'],
    state: 1,
    state_description: 'active',
    created_at: NOW,
    created_by: 'iam-ServiceId-1',
    updated_at: NOW,
    versions_total: 2,
    locks_total: 1,
    downloaded: true,
    retrieved_at: NOW,
  };
  const validity = { not_before: NOW, not_after: '2030-01-01T00:00:00Z' };
  const secrets: Record<W.SecretType, Record<string, unknown>> = {
    arbitrary: { ...common, secret_type: 'arbitrary', payload: 'secret-data', expiration_date: '2030-01-01T00:00:00+02:00' },
    username_password: {
      ...common,
      secret_type: 'username_password',
      username: 'admin',
      password: 'pw-123456',
      rotation: { auto_rotate: true, interval: 1, unit: 'month' },
      password_generation_policy: { length: 32, include_digits: true, include_symbols: true, include_uppercase: true },
      next_rotation_date: NOW,
    },
    kv: { ...common, secret_type: 'kv', data: { a: 1 } },
    imported_cert: {
      ...common,
      secret_type: 'imported_cert',
      certificate: CERT,
      private_key: KEY,
      common_name: 'example.com',
      issuer: 'CN=example CA',
      serial_number: '03:e2:c6',
      validity,
      expiration_date: validity.not_after,
      intermediate_included: false,
      private_key_included: true,
    },
    iam_credentials: {
      ...common,
      secret_type: 'iam_credentials',
      ttl: '1d',
      reuse_api_key: true,
      service_id: 'ServiceId-1',
      api_key: 'key-value',
      api_key_id: 'ApiKey-1',
    },
    private_cert: {
      ...common,
      secret_type: 'private_cert',
      certificate: CERT,
      private_key: KEY,
      issuing_ca: CERT,
      ca_chain: [CERT],
      certificate_template: 'web-servers',
      certificate_authority: 'issuing-ca',
      common_name: 'api.example.com',
      alt_names: ['www.example.com'],
      issuer: 'Example Issuing CA',
      serial_number: '03:e2:c6',
      key_algorithm: 'RSA2048',
      signing_algorithm: 'SHA256-RSA',
      validity,
      expiration_date: validity.not_after,
      rotation: { auto_rotate: false },
    },
  };

  it.each(W.SecretTypes)('a %s secret parses, and its metadata without the payload', (type) => {
    expect(W.Secret.parse(secrets[type])).toEqual(secrets[type]);
    const metadata = W.SecretMetadata.parse(secrets[type]);
    expect(metadata).not.toHaveProperty('payload');
    expect(metadata).not.toHaveProperty('password');
    expect(metadata).not.toHaveProperty('data');
    expect(metadata).not.toHaveProperty('certificate');
    expect(metadata).not.toHaveProperty('api_key');
  });

  it('a secret without its payload or counters is not a secret', () => {
    const { payload: _payload, ...metadata } = secrets.arbitrary;
    expect(failingFields(W.Secret, metadata)).toEqual(['payload']);
    const { versions_total: _total, ...noCount } = metadata;
    expect(failingFields(W.SecretMetadata, noCount)).toEqual(['versions_total']);
    expect(failingFields(W.SecretMetadata, { ...metadata, state: 4 })).toEqual(['state']);
  });

  it('a paginated list has next only before the last page', () => {
    const { payload: _payload, ...metadata } = secrets.arbitrary;
    const page = {
      total_count: 3,
      limit: 2,
      offset: 2,
      first: { href: 'http://gw/secrets-manager/i/api/v2/secrets?limit=2' },
      last: { href: 'http://gw/secrets-manager/i/api/v2/secrets?offset=2&limit=2' },
      previous: { href: 'http://gw/secrets-manager/i/api/v2/secrets?offset=0&limit=2' },
      secrets: [metadata],
    };
    const parsed = W.SecretMetadataPaginatedCollection.parse(page);
    expect(parsed.next).toBeUndefined();
    expect(failingFields(W.SecretMetadataPaginatedCollection, { ...page, first: undefined })).toEqual(['first']);
  });

  it('a version whose data was deleted has no payload', () => {
    const version = {
      id: VERSION_ID,
      secret_id: SECRET_ID,
      secret_type: 'arbitrary',
      secret_group_id: 'default',
      secret_name: 'example',
      created_at: NOW,
      created_by: 'iam-ServiceId-1',
      payload_available: false,
      alias: 'previous',
      downloaded: false,
      auto_rotated: false,
    };
    expect(W.SecretVersion.parse(version)).toEqual(version);
    expect(W.SecretVersionMetadataCollection.parse({ versions: [version], total_count: 1 }).versions).toHaveLength(1);
    expect(failingFields(W.SecretVersion, { ...version, alias: 'older' })).toEqual(['alias']);
  });

  it('locks', () => {
    const lock = {
      name: 'lock-example-1',
      created_at: NOW,
      updated_at: NOW,
      created_by: 'iam-ServiceId-1',
      secret_group_id: 'default',
      secret_id: SECRET_ID,
      secret_version_id: VERSION_ID,
      secret_version_alias: 'current',
    };
    const locks = {
      secret_id: SECRET_ID,
      secret_group_id: 'default',
      secret_type: 'kv',
      secret_name: 'kv-1',
      versions: [{ version_id: VERSION_ID, version_alias: 'current', locks: ['lock-example-1'], payload_available: true }],
    };
    expect(W.SecretLock.parse(lock)).toEqual(lock);
    expect(W.SecretLocks.parse(locks)).toEqual(locks);
  });

  it('the IBM error body', () => {
    const body = {
      errors: [{ code: 'VALIDATION_FAILED', message: 'payload: Too big', target: { type: 'field', name: 'payload' } }],
      status_code: 400,
      trace: 'a'.repeat(32),
    };
    expect(W.ErrorBody.parse(body)).toEqual(body);
    expect(failingFields(W.ErrorBody, { ...body, errors: [] })).toEqual(['errors']);
  });
});

describe('private_cert configurations', () => {
  const root = { config_type: 'private_cert_configuration_root_ca', name: 'root-ca', common_name: 'Example Root', max_ttl: '87600h' };

  it('takes a root CA, an intermediate and a template, discriminated by config_type', () => {
    expect(W.ConfigurationPrototype.parse({ ...root, key_type: 'ec', key_bits: 384 }).config_type).toBe('private_cert_configuration_root_ca');
    const intermediate = { config_type: 'private_cert_configuration_intermediate_ca', name: 'issuing', common_name: 'Issuing', max_ttl: '8760h', signing_method: 'internal', issuer: 'root-ca' };
    expect(W.ConfigurationPrototype.safeParse(intermediate).success).toBe(true);
    const template = { config_type: 'private_cert_configuration_template', name: 'web', certificate_authority: 'issuing', allowed_domains: ['example.com'], allow_subdomains: true, max_ttl: '720h' };
    expect(W.ConfigurationPrototype.safeParse(template).success).toBe(true);
  });

  it('names the field that is wrong', () => {
    expect(failingFields(W.ConfigurationPrototype, { ...root, key_type: 'rsa', key_bits: 384 })).toEqual(['key_bits']);
    expect(failingFields(W.ConfigurationPrototype, { ...root, max_ttl: '101y' })).toEqual(['max_ttl']);
    expect(failingFields(W.ConfigurationPrototype, { ...root, name: '-bad' })).toEqual(['name']);
    expect(failingFields(W.ConfigurationPrototype, { ...root, other_sans: ['x'] })).toEqual(['other_sans']);
    const internal = { config_type: 'private_cert_configuration_intermediate_ca', name: 'issuing', common_name: 'Issuing', max_ttl: '8760h', signing_method: 'internal' };
    expect(failingFields(W.ConfigurationPrototype, internal)).toEqual(['issuer']);
    expect(failingFields(W.ConfigurationPrototype, { config_type: 'iam_credentials_configuration', name: 'x' })).toEqual(['config_type']);
  });

  it('takes the five CA actions and the revoke action of a secret', () => {
    for (const action_type of ['rotate_crl', 'revoke_ca_certificate']) {
      expect(W.ConfigurationActionPrototype.safeParse({ action_type: `private_cert_configuration_action_${action_type}` }).success).toBe(true);
    }
    expect(failingFields(W.ConfigurationActionPrototype, { action_type: 'private_cert_configuration_action_sign_intermediate' })).toEqual(['intermediate_certificate_authority']);
    expect(failingFields(W.ConfigurationActionPrototype, { action_type: 'private_cert_configuration_action_sign_csr', csr: 'nope' })).toEqual(['csr']);
    expect(W.SecretActionPrototype.safeParse({ action_type: 'private_cert_action_revoke_certificate' }).success).toBe(true);
    expect(failingFields(W.SecretActionPrototype, { action_type: 'public_cert_action_validate_dns_challenge' })).toEqual(['action_type']);
  });
});
