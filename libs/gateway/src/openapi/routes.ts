import { RequestMethod, type Type } from '@nestjs/common';
import { ACCESS_RULE, type AccessRule } from '../auth/access.decorators.js';
import { OPERATION, TAG, type OperationDoc, type TagDoc } from './operation.js';

/** Nest's metadata keys (@nestjs/common/constants), read the way Nest's router reads them. */
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';
const HTTP_CODE_METADATA = '__httpCode__';
const ROUTE_ARGS_METADATA = '__routeArguments__';
const REDIRECT_METADATA = '__redirect__';

/** Nest's RouteParamtypes of the arguments the document reads. */
const BODY = 3;
const QUERY = 4;
const HEADERS = 6;

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head';

const METHODS: Partial<Record<RequestMethod, HttpMethod>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.DELETE]: 'delete',
  [RequestMethod.HEAD]: 'head',
};

/** One route of a controller as the router serves it, with what the document needs to know of it. */
export interface DocumentedRoute {
  /** `Controller.method`, for messages. */
  readonly name: string;
  readonly method: HttpMethod;
  /** OpenAPI path template: `/secrets-manager/{instance_guid}/api/v2/secrets/{id}`. */
  readonly path: string;
  readonly pathParams: readonly string[];
  readonly tag: TagDoc | undefined;
  readonly doc: OperationDoc | undefined;
  readonly rule: AccessRule | undefined;
  /** `@HttpCode`, or Nest's default (201 for POST, 200 otherwise). */
  readonly status: number;
  readonly redirect: { readonly url: string; readonly statusCode: number } | undefined;
  readonly takesBody: boolean;
  readonly takesQuery: boolean;
  /** Headers read with `@Headers('name')`, lower case. */
  readonly headers: readonly string[];
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [typeof value === 'string' ? value : '']);

/** `secrets-manager/:instance_guid/api/v2` + `secrets/:id` → `/secrets-manager/{instance_guid}/api/v2/secrets/{id}`. */
export function openApiPath(...parts: readonly string[]): string {
  const joined = `/${parts.join('/')}`.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
  return joined.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Every route of `controllers`, as Nest registers them with the router (no global prefix, no versions). */
export function routesOf(controllers: readonly Type<unknown>[]): DocumentedRoute[] {
  const routes: DocumentedRoute[] = [];
  for (const controller of controllers) {
    const prototype = controller.prototype as Record<string, unknown>;
    const tag = Reflect.getMetadata(TAG, controller) as TagDoc | undefined;
    const classRule = Reflect.getMetadata(ACCESS_RULE, controller) as AccessRule | undefined;
    for (const key of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[key];
      if (key === 'constructor' || typeof handler !== 'function') continue;
      if (!Reflect.hasMetadata(PATH_METADATA, handler) || !Reflect.hasMetadata(METHOD_METADATA, handler)) continue;
      const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
      const method = METHODS[requestMethod];
      if (!method) throw new Error(`${controller.name}.${key}: the OpenAPI document has no place for method ${RequestMethod[requestMethod]}`);
      const args = Object.entries((Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, key) ?? {}) as Record<string, { data?: unknown }>);
      // Keys are `<paramtype>:<index>`.
      const argsOf = (type: number) => args.filter(([argKey]) => argKey.split(':')[0] === String(type)).map(([, arg]) => arg);
      const redirect = Reflect.getMetadata(REDIRECT_METADATA, handler) as { url: string; statusCode?: number } | undefined;
      for (const base of list(Reflect.getMetadata(PATH_METADATA, controller))) {
        for (const own of list(Reflect.getMetadata(PATH_METADATA, handler))) {
          const path = openApiPath(base, own);
          routes.push({
            name: `${controller.name}.${key}`,
            method,
            path,
            pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? ''),
            tag,
            doc: Reflect.getMetadata(OPERATION, handler) as OperationDoc | undefined,
            rule: (Reflect.getMetadata(ACCESS_RULE, handler) as AccessRule | undefined) ?? classRule,
            status: (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? (method === 'post' ? 201 : 200),
            redirect: redirect ? { url: redirect.url, statusCode: redirect.statusCode ?? 302 } : undefined,
            takesBody: argsOf(BODY).length > 0,
            takesQuery: argsOf(QUERY).length > 0,
            headers: argsOf(HEADERS).map((arg) => String(arg.data ?? '').toLowerCase()).filter(Boolean),
          });
        }
      }
    }
  }
  return routes;
}
