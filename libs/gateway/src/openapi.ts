import type { INestApplication, Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { SEALBOX_VERSION } from '@sealbox/platform';
import { ConsoleAssets } from './console.js';
import { buildOpenApiDocument, type ExtraOperation, type OpenApiDocument } from './openapi/document.js';
import { routesOf, type DocumentedRoute } from './openapi/routes.js';

export const DOCS_PATH = 'docs';
export const OPENAPI_JSON_PATH = 'openapi.json';
export const OPENAPI_YAML_PATH = 'openapi.yaml';

const INFO = {
  title: 'Sealbox',
  version: SEALBOX_VERSION,
  description: [
    'Secrets manager with customer-managed keys. Wire-compatible with IBM Cloud Secrets Manager v2, Key Protect v2, Resource Controller and IAM: point an IBM SDK at this server.',
    '',
    'To try it here: run `POST /identity/token` (IAM Identity) with your API key, copy `access_token`, press **Authorize** and paste it. Then any operation works with **Try it out**.',
    '',
    'Every error is an IBM error body: `{"errors":[{"code","message","target"?}],"status_code","trace"}`.',
  ].join('\n'),
};

/** The docs and the document themselves (served by the docs UI module, not by a controller). */
const DOCS_OPERATIONS: readonly ExtraOperation[] = [
  { path: `/${OPENAPI_JSON_PATH}`, method: 'get', tag: 'Docs', summary: 'This OpenAPI 3.1 document (JSON)', mediaType: 'application/json' },
  { path: `/${OPENAPI_YAML_PATH}`, method: 'get', tag: 'Docs', summary: 'This OpenAPI 3.1 document (YAML)', mediaType: 'application/yaml' },
  { path: `/${DOCS_PATH}`, method: 'get', tag: 'Docs', summary: 'The API docs (Swagger UI: Authorize, Try it out)', mediaType: 'text/html' },
];

/** The routes of every HTTP controller of the application. */
export function routesOfApp(app: INestApplication): DocumentedRoute[] {
  const controllers = app
    .get(DiscoveryService, { strict: false })
    .getControllers()
    .map((wrapper) => wrapper.metatype)
    .filter((metatype): metatype is Type<unknown> => typeof metatype === 'function');
  return routesOf(controllers);
}

/** The OpenAPI 3.1 document of the application's routes. */
export function openApiDocumentOf(app: INestApplication): OpenApiDocument {
  return buildOpenApiDocument(INFO, routesOfApp(app), [...DOCS_OPERATIONS, ...app.get(ConsoleAssets, { strict: false }).operations]);
}

/**
 * The OpenAPI 3.1 document at `/openapi.json` (and `.yaml`) and the docs UI at `/docs`, served from
 * local assets. The document is generated from the routes and the contracts' zod schemas on its
 * first request.
 */
export function setupOpenApi(app: INestApplication): void {
  let document: OpenApiDocument | undefined;
  const build = (): OpenAPIObject => (document ??= openApiDocumentOf(app)) as unknown as OpenAPIObject;
  SwaggerModule.setup(DOCS_PATH, app, build, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    yamlDocumentUrl: OPENAPI_YAML_PATH,
    customSiteTitle: 'Sealbox API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true, tryItOutEnabled: false, validatorUrl: null },
  });
}
