import { SecretsWire } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { hrefOf, parseRoute } from './router.js';
import { initialValues, jsonObjectOf, SECRET_TYPE_NAMES, SECRET_TYPES, visible } from './secret-types.js';
import { parseFrames } from './sse.js';

describe('console routes (URL fragment)', () => {
  it.each([
    ['', { page: 'instances' }],
    ['#/instances', { page: 'instances' }],
    ['#/instances/9f1c/secrets', { page: 'secrets', instance: '9f1c' }],
    ['#/instances/9f1c/secrets/abc', { page: 'secrets', instance: '9f1c', secret: 'abc' }],
    ['#/instances/9f1c/keys', { page: 'keys', instance: '9f1c' }],
    ['#/access', { page: 'access' }],
    ['#/events', { page: 'events' }],
    ['#/nowhere', { page: 'instances' }],
  ] as const)('%s is %o, and back', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    if (hash.startsWith('#/') && hash !== '#/nowhere') expect(hrefOf(route)).toBe(hash);
  });
});

describe('secret type forms', () => {
  it('has a form for every type the contracts declare', () => {
    expect([...SECRET_TYPE_NAMES].sort()).toEqual([...SecretsWire.SecretTypes].sort());
  });

  it('builds a user-credentials body with a generated password, or with the typed one', () => {
    const spec = SECRET_TYPES.username_password;
    const generated = { ...initialValues(spec.fields), username: 'app' };
    expect(spec.body(generated)).toEqual({ username: 'app', password_generation_policy: { length: 32, include_digits: true, include_uppercase: true, include_symbols: false } });
    expect(spec.fields.filter((field) => visible(field, generated)).map((field) => field.name)).not.toContain('password');
    const typed = { ...generated, generate: false, password: 'correct-horse-battery' };
    expect(spec.body(typed)).toEqual({ username: 'app', password: 'correct-horse-battery' });
    expect(spec.versionBody({ generate: true })).toEqual({});
  });

  it('refuses key-value data that is not a JSON object, naming the field', () => {
    expect(() => jsonObjectOf('[1, 2]', 'Data')).toThrow('Data: must be a JSON object');
    expect(() => jsonObjectOf('{nope', 'Data')).toThrow('Data: not valid JSON');
    expect(SECRET_TYPES.kv.body({ data: '{"a": 1}' })).toEqual({ data: { a: 1 } });
  });
});

describe('event stream frames', () => {
  it('splits complete frames, keeps the unfinished rest, and skips heartbeats', () => {
    const { frames, rest } = parseFrames('id: 1\ndata: {"a":1}\n\n: heartbeat\n\nid: 2\ndata: {"b"');
    expect(frames).toEqual([{ id: '1', data: '{"a":1}' }]);
    expect(rest).toBe('id: 2\ndata: {"b"');
    expect(parseFrames(`${rest}:2}\n\n`).frames).toEqual([{ id: '2', data: '{"b":2}' }]);
  });
});
