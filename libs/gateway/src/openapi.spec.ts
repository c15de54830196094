import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_SCHEME } from './openapi/document.js';
import { send } from './testing/http-client.js';
import { startTestGateway, type TestGateway } from './testing/test-gateway.js';

type Json = Record<string, unknown>;
interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly security: readonly Json[];
  readonly parameters?: readonly { name: string; in: string; required: boolean; schema: Json }[];
  readonly requestBody?: { content: Record<string, { schema: Json }> };
  readonly responses: Record<string, Json & { content?: Record<string, { schema: Json }> }>;
}
interface Document {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

const PUBLIC = ['GET /', 'POST /identity/token', 'GET /identity/keys', 'GET /healthz', 'GET /readyz', 'GET /openapi.json', 'GET /openapi.yaml', 'GET /docs', 'GET /secrets-manager/{instance_guid}/api/v2/configurations/{name}/crl'];

let gateway: TestGateway;
let document: Document;

const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, path, method, operation })));

beforeAll(async () => {
  gateway = await startTestGateway();
  const response = await send(gateway.url, { path: '/openapi.json' });
  expect(response.status).toBe(200);
  document = response.json<Document>();
});
afterAll(() => gateway.close());

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (swagger-parser), every $ref resolving', async () => {
    expect(document.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it('documents every route the gateway serves, and nothing it does not serve', () => {
    // Fastify's route patterns: `:name` parameters; the docs UI's static files are not API operations.
    const served = new Set(
      gateway.routes
        .filter((route) => !route.url.startsWith('/docs/') && route.url !== '/docs*')
        .filter((route) => route.method !== 'HEAD' || !gateway.routes.some((get) => get.method === 'GET' && get.url === route.url) || route.url === '/kms/api/v2/keys')
        .map((route) => `${route.method} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/(.)\/$/, '$1')}`),
    );
    const documented = new Set(operations().map((operation) => operation.key));
    expect([...served].filter((route) => !documented.has(route)).sort()).toEqual([]);
    expect([...documented].filter((route) => !served.has(route)).sort()).toEqual([]);
    expect(documented.size).toBeGreaterThan(80);
  });

  it('declares every path parameter of every path (none undeclared, as {id} of /v1/reclamations/{id}/actions/{action_name} was)', () => {
    for (const { key, path, operation } of operations()) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name).sort();
      expect(declared, key).toEqual(inPath);
    }
    expect(document.paths['/v1/reclamations/{id}/actions/{action_name}']).toBeDefined();
  });

  it("names the Secrets Manager instance instance_guid and versions as IBM does (/secrets/{secret_id}/versions/{id})", () => {
    const paths = Object.keys(document.paths).filter((path) => path.startsWith('/secrets-manager/'));
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) expect(path).toMatch(/^\/secrets-manager\/\{instance_guid\}\/api\/v2\//);
    expect(paths).toContain('/secrets-manager/{instance_guid}/api/v2/secrets/{secret_id}/versions/{id}');
  });

  it('puts the bearer scheme on every protected operation and none on the public ones', () => {
    expect(document.components.securitySchemes[SECURITY_SCHEME]).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const publicOnes = operations()
      .filter(({ operation }) => operation.security.length === 0)
      .map(({ key }) => key)
      .sort();
    expect(publicOnes).toEqual([...PUBLIC].sort());
    for (const { key, operation } of operations().filter((entry) => !PUBLIC.includes(entry.key))) {
      expect(operation.security, key).toEqual([{ [SECURITY_SCHEME]: [] }]);
      expect(Object.keys(operation.responses), key).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('gives every operation a summary, a success response and the IBM error body', () => {
    for (const { key, operation } of operations()) {
      expect(operation.summary, key).toMatch(/\w/);
      expect(Object.keys(operation.responses).some((status) => /^[23]\d\d$/.test(status)), key).toBe(true);
      if (key.startsWith('GET /docs') || key.startsWith('GET /openapi')) continue;
      expect(operation.responses['default'], key).toMatchObject({ $ref: '#/components/responses/Error' });
    }
  });

  it('gives every route that takes a body a request body with a schema (a body editor under Try it out)', () => {
    const bodies = operations().filter(({ operation }) => operation.requestBody);
    expect(bodies.length).toBeGreaterThan(20);
    for (const { key, operation } of bodies) {
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) expect(media.schema, `${key} ${type}`).toMatchObject({ $ref: expect.stringMatching(/^#\/components\/schemas\//) });
    }
    const create = document.paths['/secrets-manager/{instance_guid}/api/v2/secrets']?.['post'];
    expect(create?.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/SecretPrototype' });
    expect(create?.responses['201']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Secret' });
    const token = document.paths['/identity/token']?.['post'];
    expect(Object.keys(token?.requestBody?.content ?? {})).toContain('application/x-www-form-urlencoded');
  });

  it('documents request bodies as clients write them: a defaulted field is optional in the request, required in the answer', () => {
    expect(document.components.schemas['SecretPrototype']).toMatchObject({ oneOf: expect.arrayContaining([{ $ref: '#/components/schemas/ArbitrarySecretPrototype' }]) });
    const request = document.components.schemas['ArbitrarySecretPrototype'] as { properties: Json; required: string[] };
    expect(request.properties).toHaveProperty('secret_group_id');
    expect(request.required).not.toContain('secret_group_id');
    const answer = document.components.schemas['ArbitrarySecretMetadata'] as { required: string[] };
    expect(answer.required).toContain('secret_group_id');
  });

  it('documents query and header parameters: Bluemix-Instance (required) on Key Protect, paging on lists, Entity-Lock, If-Match', () => {
    const parameter = (path: string, method: string, name: string) => document.paths[path]?.[method]?.parameters?.find((entry) => entry.name === name);
    expect(parameter('/kms/api/v2/keys', 'get', 'Bluemix-Instance')).toMatchObject({ in: 'header', required: true });
    expect(parameter('/kms/api/v2/keys', 'get', 'limit')).toMatchObject({ in: 'query', required: false });
    expect(parameter('/secrets-manager/{instance_guid}/api/v2/secrets', 'get', 'limit')).toMatchObject({ in: 'query', schema: { default: 200, maximum: 1000 } });
    // Lists travel comma-joined, as the SDKs send them.
    expect(parameter('/secrets-manager/{instance_guid}/api/v2/secrets', 'get', 'groups')).toMatchObject({ in: 'query', style: 'form', explode: false });
    expect(parameter('/secrets-manager/{instance_guid}/api/v2/secrets', 'get', 'sort')).toMatchObject({ in: 'query' });
    expect(parameter('/v2/resource_instances', 'post', 'Entity-Lock')).toMatchObject({ in: 'header', required: false });
    expect(parameter('/v1/policies/{id}', 'put', 'If-Match')).toMatchObject({ in: 'header', required: true });
    expect(parameter('/v1/apikeys/details', 'get', 'IAM-ApiKey')).toMatchObject({ in: 'header', required: true });
    expect(parameter('/v1/reclamations', 'get', 'resource_instance_id')).toMatchObject({ in: 'query' });
  });

  it('documents Idempotency-Key (a Sealbox extension) on authenticated POST and PATCH, not on reads nor the public token exchange', () => {
    const parameter = (path: string, method: string) => document.paths[path]?.[method]?.parameters?.find((entry) => entry.name === 'Idempotency-Key');
    expect(parameter('/secrets-manager/{instance_guid}/api/v2/secrets', 'post')).toMatchObject({ in: 'header', required: false });
    expect(parameter('/v2/resource_instances', 'post')).toMatchObject({ in: 'header', required: false });
    expect(parameter('/secrets-manager/{instance_guid}/api/v2/secrets', 'get')).toBeUndefined();
    expect(parameter('/identity/token', 'post')).toBeUndefined();
    // Where the service records the key there is no 409 for a retry; elsewhere there is, until the first request's deadline.
    const description = (path: string) => (parameter(path, 'post') as { description?: string } | undefined)?.description;
    expect(description('/secrets-manager/{instance_guid}/api/v2/secrets')).toContain('recorded in the same transaction');
    expect(description('/secrets-manager/{instance_guid}/api/v2/secrets')).not.toContain('IDEMPOTENCY_KEY_IN_USE');
    expect(description('/v2/resource_instances')).toContain('409 `IDEMPOTENCY_KEY_IN_USE`');
  });

  it('names the IAM action of each checked route', () => {
    const create = document.paths['/secrets-manager/{instance_guid}/api/v2/secrets']?.['post'] as Operation & { 'x-iam-action'?: string; description?: string };
    expect(create['x-iam-action']).toBe('secrets-manager.secret.create');
    expect(create.description).toContain('Writer');
  });
});

describe('docs UI and /', () => {
  it('redirects / to /docs', async () => {
    const response = await send(gateway.url, { path: '/' });
    expect(response.status).toBe(302);
    expect(response.headers['location']).toBe('/docs');
  });

  it('serves the Swagger UI with the document, keeping the token across reloads (persistAuthorization)', async () => {
    const init = await send(gateway.url, { path: '/docs/swagger-ui-init.js' });
    expect(init.status).toBe(200);
    expect(init.text()).toContain('"persistAuthorization": true');
    expect(init.text()).toContain('"openapi": "3.1.0"');
  });
});
