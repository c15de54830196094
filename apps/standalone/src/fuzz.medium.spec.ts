import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandalone, type Standalone } from './standalone.js';

/**
 * Schema-driven fuzz of the whole HTTP API, as an attacker would probe it: every operation of
 * /openapi.json, with its path parameters pointing at real resources and at tricks, its query
 * parameters out of range, and its request body missing fields, with extra ones, with each field of
 * the wrong type, 1 MB strings, NUL and unpaired-surrogate text, nesting past the limit, not JSON at all.
 * Whatever is sent: never a 5xx, an IBM error body on every refusal, no stack trace, and the process
 * keeps answering.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-fuzz-'));
let standalone: Standalone;
let token = '';

interface Schema {
  readonly type?: string | string[];
  readonly properties?: Record<string, Schema>;
  readonly required?: string[];
  readonly items?: Schema;
  readonly enum?: unknown[];
  readonly const?: unknown;
  readonly anyOf?: Schema[];
  readonly oneOf?: Schema[];
  readonly allOf?: Schema[];
  readonly $ref?: string;
  readonly format?: string;
}

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly query: string[];
  readonly body: Schema | undefined;
}

interface Sent {
  readonly label: string;
  readonly status: number;
  readonly text: string;
}

let document: { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>>; components?: { schemas?: Record<string, Schema> } };

function resolve(schema: Schema | undefined, depth = 0): Schema | undefined {
  if (!schema || depth > 8) return schema;
  if (schema.$ref) return resolve(document.components?.schemas?.[schema.$ref.split('/').at(-1) ?? ''], depth + 1);
  return schema;
}

/** A value the schema accepts, as far as a simple reading of it goes (the fuzz then breaks it). */
function sample(input: Schema | undefined, depth = 0): unknown {
  const schema = resolve(input);
  if (!schema || depth > 6) return 'x';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  const choice = schema.anyOf?.[0] ?? schema.oneOf?.[0] ?? schema.allOf?.[0];
  if (choice) return sample(choice, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((candidate) => candidate !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const value: Record<string, unknown> = {};
      for (const name of schema.required ?? []) value[name] = sample(schema.properties?.[name], depth + 1);
      return value;
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    default:
      return schema.format === 'date-time' ? new Date(0).toISOString() : 'x';
  }
}

function operations(): Operation[] {
  const all: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      all.push({
        method: method.toUpperCase(),
        template,
        query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
        body: operation.requestBody?.content?.['application/json']?.schema ?? operation.requestBody?.content?.['application/merge-patch+json']?.schema,
      });
    }
  }
  return all;
}

const MEGABYTE = 'a'.repeat(1024 * 1024);
const TRICK_STRINGS = ['', '\u0000', 'nul\u0000inside', '\ud800', '💥🔑', '../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", MEGABYTE];
const WRONG_TYPES: unknown[] = [12345, -1, 1e308, true, null, [], {}, 'not-the-type'];

/** Bodies that break the operation's schema in every way we know, each with a label. */
function bodies(schema: Schema | undefined): [string, string][] {
  const base = sample(schema);
  const variants: [string, string][] = [
    ['empty object', '{}'],
    ['not JSON', '{"a":'],
    ['an array', '[1,2,3]'],
    ['a string', '"x"'],
    ['nested 200 deep', `${'{"a":'.repeat(200)}1${'}'.repeat(200)}`],
    ['extra field', JSON.stringify({ ...(typeof base === 'object' && base !== null ? base : {}), unexpected_field: 'x' })],
  ];
  const properties = resolve(schema)?.properties ?? {};
  if (typeof base === 'object' && base !== null && !Array.isArray(base)) {
    for (const name of Object.keys(properties).slice(0, 12)) {
      for (const wrong of [...WRONG_TYPES, ...TRICK_STRINGS]) {
        variants.push([`${name} = ${typeof wrong === 'string' ? `string(${wrong.length})` : JSON.stringify(wrong)}`, JSON.stringify({ ...base, [name]: wrong })]);
      }
    }
  }
  return variants;
}

describe('fuzzing every HTTP operation of /openapi.json (standalone)', () => {
  const real: Record<string, string> = {};

  beforeAll(async () => {
    standalone = await startStandalone({
      env: { SEALBOX_DATA_DIR: dataDir, SEALBOX_PORT: '0', SEALBOX_LOG_LEVEL: 'silent', SEALBOX_RATE_LIMIT_IP_RPS: '0', SEALBOX_RATE_LIMIT_IDENTITY_RPS: '0' },
      announce: () => undefined,
    });
    const apikey = readFileSync(join(dataDir, 'admin-apikey'), 'utf8').trim();
    const tokenResponse = await fetch(`${standalone.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }),
    });
    token = ((await tokenResponse.json()) as { access_token: string }).access_token;
    document = (await (await fetch(`${standalone.url}/openapi.json`)).json()) as typeof document;
    // Real resources, so that path parameters also reach the services' own checks.
    const json = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${standalone.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    let instance = await json('POST', '/v2/resource_instances', { name: 'fuzz', target: 'us-south', resource_group: 'default', resource_plan_id: 'secrets-manager-standard' });
    for (let polls = 0; instance['state'] === 'provisioning' && polls < 200; polls++) {
      await new Promise((done) => setTimeout(done, 50));
      instance = await json('GET', `/v2/resource_instances/${String(instance['guid'])}`);
    }
    real['instance'] = String(instance['guid']);
    const secret = await json('POST', `/secrets-manager/${real['instance']}/api/v2/secrets`, { secret_type: 'arbitrary', name: 'fuzz', payload: 'fuzz-payload' });
    real['secret'] = String(secret['id']);
  }, 120_000);

  afterAll(async () => {
    await standalone?.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every malformed request with a 4xx IBM error body (or a success), never a 5xx or a stack trace, and stays up', { timeout: 600_000 }, async () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(80);
    const sent: Sent[] = [];
    const send = async (label: string, method: string, path: string, body?: string, contentType = 'application/json'): Promise<void> => {
      const what = `${method} ${path.slice(0, 120)} [${label}]`;
      try {
        const response = await fetch(`${standalone.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': contentType }) },
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(20_000),
        });
        if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
          // An event stream never ends by design: its status is the answer.
          await response.body?.cancel();
          sent.push({ label: what, status: response.status, text: '' });
          return;
        }
        sent.push({ label: what, status: response.status, text: await response.text() });
      } catch (error) {
        sent.push({ label: what, status: 0, text: String(error) });
      }
    };
    const fill = (template: string, value: (name: string) => string) => template.replace(/\{([^}]+)\}/g, (_match, name: string) => encodeURIComponent(value(name)));
    const realValue = (name: string) => (/instance|guid/i.test(name) ? (real['instance'] ?? '') : /secret|^id$/i.test(name) ? (real['secret'] ?? '') : randomUUID());
    // Destructive operations last, so the others still meet the real resources. Sealing is left out:
    // it is meant to take the whole API down (503 SEALED); the seal's own tests cover its inputs.
    const fuzzed = ops.filter((op) => !(op.method === 'POST' && op.template === '/v1/sys/seal'));
    const ordered = [...fuzzed.filter((op) => op.method !== 'DELETE'), ...fuzzed.filter((op) => op.method === 'DELETE')];
    for (const op of ordered) {
      const path = fill(op.template, realValue);
      for (const trick of ['..%2F..%2Fetc', '%00', 'x'.repeat(3000), '%F0%9F%92%A5', '-1', '{}']) {
        await send(`path ${trick.slice(0, 12)}`, op.method, op.template.replace(/\{[^}]+\}/g, trick));
      }
      for (const name of op.query) {
        for (const value of ['-1', '99999999999999999999', 'abc', '', '%00', 'x'.repeat(10_000)]) {
          await send(`query ${name}=${value.slice(0, 12)}`, op.method, `${path}?${name}=${value}`);
        }
      }
      if (!['GET', 'DELETE'].includes(op.method)) {
        for (const [label, body] of bodies(op.body)) await send(label, op.method, path, body);
        await send('form body', op.method, path, 'a=1&b=2', 'application/x-www-form-urlencoded');
      }
    }

    const serverErrors = sent.filter((result) => result.status >= 500 || result.status === 0).map((result) => `${result.label}: ${result.status} ${result.text.slice(0, 200)}`);
    expect(serverErrors).toEqual([]);
    const notIbm = sent
      .filter((result) => result.status >= 400)
      .filter((result) => {
        try {
          const body = JSON.parse(result.text) as { errors?: { code?: unknown; message?: unknown }[]; status_code?: unknown };
          return !(Array.isArray(body.errors) && typeof body.errors[0]?.code === 'string' && typeof body.errors[0]?.message === 'string' && body.status_code === result.status);
        } catch {
          return true;
        }
      })
      .map((result) => `${result.label}: ${result.status} ${result.text.slice(0, 200)}`);
    expect(notIbm).toEqual([]);
    // (The API documents themselves describe code; they are not answers to check.)
    const answers = sent.filter((result) => !/^GET \/(openapi\.(json|yaml)|docs)\b/.test(result.label));
    expect(answers.filter((result) => /\n\s+at |node_modules|\.ts:\d+|\.js:\d+/.test(result.text)).map((result) => result.label)).toEqual([]);
    expect(sent.length).toBeGreaterThan(2000);
    expect((await fetch(`${standalone.url}/healthz`)).status).toBe(200);
  });
});
