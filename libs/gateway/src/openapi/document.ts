import { ErrorCodes, IdempotentSubjects, rolesGranting, SecretsWire, Subjects } from '@sealbox/contracts';
import type { AccessRule } from '../auth/access.decorators.js';
import { DERIVED_SCHEMA_NAMES, RESPONSE_HEADERS } from './operation.js';
import type { DocumentedRoute, HttpMethod } from './routes.js';
import { SchemaCatalog, type JsonSchema } from './schemas.js';

/** The name of the bearer scheme in the document (the `Authorize` button of /docs). */
export const SECURITY_SCHEME = 'IAM';

/** A header a route reads: how the document names and explains it. */
interface HeaderDoc {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  readonly schema?: JsonSchema;
}

/** Every request header a route reads with `@Headers(…)`, by its lower-case name. A route reading another one does not start. */
export const REQUEST_HEADERS: Readonly<Record<string, HeaderDoc>> = {
  'bluemix-instance': { name: 'Bluemix-Instance', required: true, description: 'GUID of the Key Protect (`kms`) or HPCS (`hs-crypto`) instance' },
  prefer: {
    name: 'Prefer',
    description: '`return=representation` answers with the key (its payload too, for a new standard key); `return=minimal` (default) without',
    schema: { type: 'string', enum: ['return=representation', 'return=minimal'] },
  },
  'entity-lock': { name: 'Entity-Lock', description: '`true` creates the resource locked', schema: { type: 'string', enum: ['true', 'false'] } },
  'if-match': { name: 'If-Match', required: true, description: 'The ETag of the last read (`entity_tag` / `etag`): the change is refused if it changed since' },
  'iam-apikey': { name: 'IAM-ApiKey', required: true, description: 'The API key value to look up' },
  'x-sm-accept-configuration-type': {
    name: 'X-Sm-Accept-Configuration-Type',
    description: "The configuration's type, as IBM's SDKs send it; a configuration of another type answers 404",
    schema: { type: 'string', enum: [...SecretsWire.ConfigurationTypes] },
  },
  'last-event-id': {
    name: 'Last-Event-ID',
    description: 'The `id` of the last event received: the stream resumes after it (browsers send it when they reconnect)',
  },
};

/** The methods an Idempotency-Key applies to: those not idempotent by themselves. */
const KEYED_METHODS: ReadonlySet<HttpMethod> = new Set<HttpMethod>(['post', 'patch']);

const IDEMPOTENCY_KEY_COMMON =
  'Sealbox extension (IETF draft "The Idempotency-Key HTTP Header Field"): a unique value, e.g. a UUID, chosen by the client. ' +
  'A retry with the same key (after a 503 or a timeout) gets the first successful response again, marked `Idempotent-Replayed: true`, ' +
  'instead of doing the work twice. Keys belong to the caller and are kept 24 hours; the same key with another request is ' +
  '422 `IDEMPOTENCY_KEY_REUSED`. ';

/** Read by the gateway itself on every authenticated POST and PATCH (not by a route's `@Headers`). */
const IDEMPOTENCY_KEY_PARAMETER: JsonSchema = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    IDEMPOTENCY_KEY_COMMON +
    "While the first request can still succeed (until its deadline, SEALBOX_RPC_TIMEOUT_MS after it started), a retry is 409 `IDEMPOTENCY_KEY_IN_USE`; after an error the key is free and a retry runs again.",
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

/** The same on operations whose service records the key with the write (IdempotentSubjects). */
const RECORDED_IDEMPOTENCY_KEY_PARAMETER: JsonSchema = {
  ...IDEMPOTENCY_KEY_PARAMETER,
  description:
    IDEMPOTENCY_KEY_COMMON +
    'The key is recorded in the same transaction as the write: a retry gets the first result even when the first answer was lost ' +
    '(never 409 for its own name), and a retry while the first request still runs waits for it.',
};

/** Path parameters by name, where the route's tag does not say better. */
const PATH_PARAMS: Readonly<Record<string, string>> = {
  instance_guid: 'GUID of the Secrets Manager instance (the SDK service URL is `<gateway>/secrets-manager/<instance_guid>`)',
  version_id: 'A version id, or `current` / `previous`',
  secret_group_name: 'Name of the secret group (`default` for the default group)',
  secret_type: 'Type of the secret',
  name: 'Name of the secret',
  alias: 'An alias of the key',
  action_name: 'The reclamation action: `restore` or `reclaim`',
};

export interface DocumentInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

/** An operation served outside Nest's router (the docs themselves), added to the document as it is. */
export interface ExtraOperation {
  readonly path: string;
  readonly method: HttpMethod;
  readonly tag: string;
  readonly summary: string;
  readonly mediaType: string;
}

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: DocumentInfo;
  readonly tags: readonly { readonly name: string }[];
  readonly paths: Record<string, Record<string, JsonSchema>>;
  readonly components: JsonSchema;
}

/** An IBM error body (OpenAPI 3.1 lets a reference carry its own description). */
const error = (description: string): JsonSchema => ({ $ref: '#/components/responses/Error', description });

function operationId(route: DocumentedRoute): string {
  const [controller = '', method = ''] = route.name.split('.');
  return `${controller.replace(/(Routes|Controller)$/, '')}_${method}`;
}

function accessDescription(rule: AccessRule): string {
  switch (rule.kind) {
    case 'public':
      return 'Public: no token needed.';
    case 'authenticated':
      return `Needs an access token; the owning service decides (audited as \`${rule.action}\`).`;
    case 'action': {
      const refined = rule.refine ? ' (`hs-crypto.…` for an HPCS instance)' : '';
      return `IAM action \`${rule.action}\`${refined}, granted by ${rolesGranting(rule.action).join(', ')}.${rule.deniedAs === 'NOT_FOUND' ? ' Denied like a resource that does not exist (404).' : ''}`;
    }
  }
}

function errorResponses(route: DocumentedRoute, rule: AccessRule): Record<string, JsonSchema> {
  const takesInput = route.takesBody || route.takesQuery || route.pathParams.length > 0 || route.headers.length > 0;
  return {
    ...(takesInput ? { '400': error('A parameter or the body is invalid (`VALIDATION_FAILED`, `INVALID_BODY`)') } : {}),
    ...(rule.kind === 'public'
      ? {}
      : {
          '401': error('No valid access token (`UNAUTHORIZED`)'),
          '403': error('The caller may not do this (`FORBIDDEN`)'),
        }),
    ...(route.pathParams.length > 0 ? { '404': error('Not found, or not visible to the caller (`NOT_FOUND`)') } : {}),
    '429': error('Too many requests (`RATE_LIMITED`; see Retry-After)'),
    default: error('Any other error, as an IBM error body'),
  };
}

/**
 * The OpenAPI 3.1 document of the routes Nest serves: paths, methods, statuses, parameters, headers
 * and access rules from Nest's own metadata, bodies and answers from the zod schemas of the contracts.
 * Throws naming the route when one cannot be documented (no @Operation, a body or query without a
 * schema, an unknown header).
 */
export function buildOpenApiDocument(info: DocumentInfo, routes: readonly DocumentedRoute[], extras: readonly ExtraOperation[] = []): OpenApiDocument {
  const schemas = new SchemaCatalog(DERIVED_SCHEMA_NAMES);
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const tags = new Set<string>();

  for (const route of routes) {
    const { doc, rule } = route;
    if (!doc) throw new Error(`OpenAPI: ${route.name} has no @Operation`);
    if (!rule) throw new Error(`OpenAPI: ${route.name} has no access rule`);
    const id = operationId(route);
    const tag = route.tag?.name ?? 'Other';
    tags.add(tag);

    const parameters: JsonSchema[] = route.pathParams.map((name) => ({
      name,
      in: 'path',
      required: true,
      description: doc.params?.[name] ?? route.tag?.params?.[name] ?? PATH_PARAMS[name] ?? `The ${name.replaceAll('_', ' ')}`,
      schema: { type: 'string' },
    }));
    for (const header of route.headers) {
      const known = REQUEST_HEADERS[header];
      if (!known) throw new Error(`OpenAPI: ${route.name} reads the header ${header}, which REQUEST_HEADERS does not describe`);
      parameters.push({ name: known.name, in: 'header', required: known.required ?? false, description: known.description, schema: known.schema ?? { type: 'string' } });
    }
    if (KEYED_METHODS.has(route.method) && rule.kind !== 'public') {
      parameters.push(doc.subject !== undefined && IdempotentSubjects.has(doc.subject) ? RECORDED_IDEMPOTENCY_KEY_PARAMETER : IDEMPOTENCY_KEY_PARAMETER);
    }
    if (route.takesQuery) {
      if (!doc.query) throw new Error(`OpenAPI: ${route.name} takes a query string but its @Operation has no query schema`);
      // Constraints and defaults as the server applies them (output); required as clients must send (input).
      const query = schemas.inline(doc.query, 'output') as { properties?: Record<string, JsonSchema> };
      const required = (schemas.inline(doc.query, 'input') as { required?: string[] }).required ?? [];
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        const { description, ...rest } = schema as JsonSchema & { description?: string };
        parameters.push({
          name,
          in: 'query',
          required: required.includes(name),
          ...(description ? { description } : {}),
          schema: rest,
          // Lists travel comma-joined (`groups=a,b`), as the IBM SDKs send them.
          ...(rest['type'] === 'array' ? { style: 'form', explode: false } : {}),
        });
      }
    }

    const operation: JsonSchema = {
      operationId: id,
      tags: [tag],
      summary: doc.summary,
      description: [doc.description, accessDescription(rule)].filter(Boolean).join('\n\n'),
      security: rule.kind === 'public' ? [] : [{ [SECURITY_SCHEME]: [] }],
      ...(parameters.length ? { parameters } : {}),
    };
    if (rule.kind === 'action') operation['x-iam-action'] = rule.action;

    if (route.takesBody) {
      const body = doc.body ?? (doc.subject ? Subjects[doc.subject].request : undefined);
      if (!body) throw new Error(`OpenAPI: ${route.name} takes a body but its @Operation names no body schema or subject`);
      const schema = schemas.ref(body, 'input', `${id}_body`);
      operation['requestBody'] = {
        required: doc.bodyRequired ?? true,
        content: Object.fromEntries((doc.bodyTypes ?? ['application/json']).map((type) => [type, { schema }])),
      };
    }

    const responseHeaders = Object.fromEntries(
      (doc.responseHeaders ?? []).map((name) => [name, { description: RESPONSE_HEADERS[name], schema: { type: name === 'Key-Total' ? 'integer' : 'string' } }]),
    );
    const successBody = doc.response === null ? undefined : (doc.response ?? (doc.subject ? Subjects[doc.subject].response : undefined));
    const success = (status: number, description: string): JsonSchema => ({
      description,
      ...(Object.keys(responseHeaders).length ? { headers: responseHeaders } : {}),
      ...(successBody && status !== 204 && route.method !== 'head'
        ? { content: { [doc.responseType ?? 'application/json']: { schema: schemas.ref(successBody, 'output', `${id}_response`) } } }
        : {}),
    });
    const responses: Record<string, JsonSchema> = route.redirect
      ? { [String(route.redirect.statusCode)]: { description: `Redirect to ${route.redirect.url}`, headers: { Location: { description: RESPONSE_HEADERS.Location, schema: { type: 'string' } } } } }
      : { [String(route.status)]: success(route.status, route.status === 204 ? 'Done (no body)' : 'Success') };
    for (const [status, description] of Object.entries(doc.alternatives ?? {})) responses[status] = success(Number(status), description);
    operation['responses'] = { ...responses, ...errorResponses(route, rule) };

    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`OpenAPI: ${route.method.toUpperCase()} ${route.path} is served twice`);
    item[route.method] = operation;
  }

  for (const extra of extras) {
    tags.add(extra.tag);
    (paths[extra.path] ??= {})[extra.method] = {
      operationId: `${extra.tag}_${extra.path.replace(/\W+/g, '_').replace(/^_|_$/g, '')}`,
      tags: [extra.tag],
      summary: extra.summary,
      description: accessDescription({ kind: 'public' }),
      security: [],
      responses: { '200': { description: 'Success', content: { [extra.mediaType]: { schema: extra.mediaType === 'text/html' ? { type: 'string' } : { type: 'object' } } } } },
    };
  }

  const errorBody = schemas.ref(SecretsWire.ErrorBody, 'output', 'ErrorBody');
  return {
    openapi: '3.1.0',
    info,
    tags: [...tags].map((name) => ({ name })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An IAM access token. Get one with `POST /identity/token` (form: `grant_type=urn:ibm:params:oauth:grant-type:apikey`, `apikey=<your API key>`) and paste its `access_token` here.',
        },
      },
      responses: {
        Error: {
          description: `An IBM error body. \`errors[].code\` is one of: ${ErrorCodes.join(', ')}.`,
          content: { 'application/json': { schema: errorBody } },
        },
      },
      schemas: schemas.components(),
    },
  };
}
