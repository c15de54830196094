import { rmSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import { cli, FakeEvents, GUID, h, ibmError, login, on, routes, useCliHarness } from '../testing/harness.js';
import { eventLine, subjectsOf, typePrefixesOf } from './events.js';

useCliHarness();

const event = (name: string, data: unknown, id = 'e1') =>
  JSON.stringify({ specversion: '1.0', id, source: '/sealbox/lifecycle', type: `com.sealbox.${name}`, time: '2027-01-15T08:00:00.000Z', datacontenttype: 'application/json', data });
const sse = (...frames: readonly (readonly [id: string, data: string])[]) => ({
  status: 200,
  contentType: 'text/event-stream',
  raw: `retry: 2000\n: following\n\n${frames.map(([id, data]) => `id: ${id}\ndata: ${data}\n\n`).join('')}`,
});

describe('events tail over HTTP (GET /v1/events, the default)', () => {
  beforeEach(() => login());

  it('follows the gateway stream with type prefixes (a final .> is a prefix), one line per event, stopping after --count', async () => {
    routes(on('GET', '/v1/events', () => sse(['1', event('lifecycle.instance.deleted', { instanceId: GUID })], ['2', event('lifecycle.instance.restored', {})])));
    const result = await cli(['events', 'tail', '--type', 'lifecycle.>,com.sealbox.secrets.secret.created', '--count', '2']);
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    const request = h.server.single();
    expect(request.query).toEqual({ type: 'lifecycle.,secrets.secret.created' });
    expect(request.headers['accept']).toBe('text/event-stream');
    expect(request.headers['last-event-id']).toBeUndefined();
    expect(result.stdout.trim().split('\n')).toEqual([
      `2027-01-15T08:00:00.000Z  lifecycle.instance.deleted  {"instanceId":"${GUID}"}`,
      '2027-01-15T08:00:00.000Z  lifecycle.instance.restored  {}',
    ]);
    expect(result.stderr).toContain(`Following lifecycle.,secrets.secret.created at ${h.server.url}`);
  });

  it('reconnects when the stream ends, resuming after the last id (Last-Event-ID); --from-start asks from the oldest', async () => {
    let calls = 0;
    routes(on('GET', '/v1/events', () => (++calls === 1 ? sse(['41', event('kms.key.rotated', {}, 'a')]) : sse(['42', event('kms.key.rotated', {}, 'b')]))));
    const result = await cli(['events', 'tail', '--from-start', '--count', '2', '--output', 'json']);
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(h.server.requests.map((request) => request.headers['last-event-id'])).toEqual(['0', '41']);
    expect(result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['a', 'b']);
    expect(result.stderr).toContain('reconnecting');
  });

  it('a refusal exits 1 with the IBM error (no event-stream role: 403); not logged in exits 3; a type that names nothing exits 2', async () => {
    routes(on('GET', '/v1/events', () => ibmError(403, 'FORBIDDEN', 'You are not allowed to perform event-stream.event.read on this resource')));
    const refused = await cli(['events', 'tail']);
    expect(refused.code).toBe(ExitCode.SERVER);
    expect(refused.stderr).toContain('FORBIDDEN');
    expect((await cli(['events', 'tail', '--type', 'sekrets.'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['events', 'tail', '--type', '*.key.created'])).code).toBe(ExitCode.USAGE);
    expect(h.server.requests).toHaveLength(1);
  });

  it('not logged in exits 3', async () => {
    rmSync(h.configHome, { recursive: true, force: true });
    expect((await cli(['events', 'tail'])).code).toBe(ExitCode.NOT_LOGGED_IN);
  });
});

describe('events tail --nats', () => {
  it('maps --type to stream subjects: names, the CloudEvents form, wildcards, several', () => {
    expect(subjectsOf(undefined)).toEqual(['events.>']);
    expect(subjectsOf('lifecycle.instance.deleted')).toEqual(['events.lifecycle.instance.deleted']);
    expect(subjectsOf('com.sealbox.kms.key.rotated,lifecycle.>')).toEqual(['events.kms.key.rotated', 'events.lifecycle.>']);
    expect(() => subjectsOf('lifecycle.instance.exploded')).toThrow(/not an event type/);
  });

  it('maps --type to the prefixes of GET /v1/events', () => {
    expect(typePrefixesOf(undefined)).toBeUndefined();
    expect(typePrefixesOf('lifecycle.>,kms.key.*,com.sealbox.secrets.secret.created')).toBe('lifecycle.,kms.key.,secrets.secret.created');
    expect(() => typePrefixesOf('lifecycle.*.deleted')).toThrow(/need --nats/);
    expect(eventLine('not json')).toBe('(not a CloudEvent) not json\n');
  });

  it('prints one line per event, stops after --count, and passes the NATS settings (password from the environment)', async () => {
    const source = new FakeEvents([event('lifecycle.instance.deleted', { instanceId: GUID }), event('lifecycle.instance.restored', {}), event('x', {})]);
    const result = await cli(['events', 'tail', '--type', 'lifecycle.>', '--nats', 'nats://10.0.0.1:4222', '--nats-user', 'ops', '--count', '2'], {
      events: source,
      env: { XDG_CONFIG_HOME: h.configHome, SEALBOX_NATS_PASSWORD: 'nats-pass' },
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

  it('--nats without a URL uses SEALBOX_NATS_URL; --output json prints each CloudEvent as one JSON line; a bad --count exits 2', async () => {
    const text = event('kms.key.rotated', { keyId: 'k' });
    const source = new FakeEvents([text]);
    const result = await cli(['events', 'tail', '--nats', '--output', 'json', '--from-start', '--count', '1'], {
      events: source,
      env: { XDG_CONFIG_HOME: h.configHome, SEALBOX_NATS_URL: 'nats://10.0.0.2:4222' },
    });
    expect(result.code).toBe(ExitCode.OK);
    expect(source.options).toMatchObject({ servers: 'nats://10.0.0.2:4222', fromStart: true });
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(text));
    expect((await cli(['events', 'tail', '--nats', '--type', 'no.such.event'])).code).toBe(ExitCode.USAGE);
    expect((await cli(['events', 'tail', '--count', '0'])).code).toBe(ExitCode.USAGE);
  });
});
