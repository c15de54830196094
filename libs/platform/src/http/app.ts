import compress from '@fastify/compress';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import type { Logger } from 'pino';
import { DomainError } from '../errors/index.js';
import { PinoNestLogger } from '../logging/index.js';
import { DEFAULT_HTTP_LIMITS, edgeClientError, edgeServerFactory, jsonDeeperThan, responseHeaders, type HttpLimits } from './edge.js';
import { IbmErrorFilter, sendError } from './error.filter.js';
import { endRequestSpan, runHandlerInRequestSpan, startRequestSpan } from './tracing-hooks.js';

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Timeouts, connection cap and JSON nesting (defaults: DEFAULT_HTTP_LIMITS). */
  readonly limits?: Partial<HttpLimits>;
}

/** JSON as the IBM SDKs send it: `application/json` and any `application/*+json` vendor type. */
const JSON_TYPES = /^application\/([\w.-]+\+)?json\s*(;.*)?$/i;

/** A JSON body parser that refuses nesting deeper than `maxDepth` before parsing (a deep body would exhaust the stack further on). */
function jsonParser(maxDepth: number) {
  return (_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void => {
    // The SDKs send empty bodies with a JSON content type (KP disable/enable, RC lock...).
    if (body.trim() === '') return done(null, undefined);
    if (jsonDeeperThan(body, maxDepth)) {
      return done(new DomainError('INVALID_BODY', `The request body nests arrays and objects deeper than ${maxDepth} levels`));
    }
    try {
      done(null, JSON.parse(body));
    } catch {
      done(new DomainError('INVALID_BODY', 'The request body is not valid JSON'));
    }
  };
}

function parseForm(_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void {
  done(null, { ...parseQueryString(body) });
}

/**
 * Body parsing, request spans and the edge's response headers, identical in the gateway and
 * standalone. Errors raised here (bad JSON, body too large, unsupported type) reach Nest's error
 * handler and so the global IbmErrorFilter.
 */
export function configureFastify(fastify: FastifyInstance, options: { readonly maxJsonDepth: number; readonly tls: boolean }): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, jsonParser(options.maxJsonDepth));
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseForm);
  fastify.addHook('onRequest', async (request) => startRequestSpan(request));
  fastify.addHook('onResponse', async (request, reply) => endRequestSpan(request, reply.statusCode));
  fastify.addHook('onRoute', (route) => runHandlerInRequestSpan(route as unknown as Parameters<typeof runHandlerInRequestSpan>[0]));
  const headersFor = responseHeaders(options.tls);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(headersFor(pathOf(request.url)));
    done();
  });
}

/** The path of a request URL, without the query string. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Longest accepted path parameter (percent-encoded). Fastify's default of 100 rejects a real CRN
 * (`crn:v1:bluemix:public:secrets-manager:us-south:a/<32 hex>:<uuid>::` is 140 characters encoded),
 * which the Resource Controller SDK sends as an instance id.
 */
export const MAX_PARAM_LENGTH = 2048;

/**
 * The router rejects a malformed URL or an over-long parameter before any hook runs; answer those
 * with an IBM error body, the edge's headers and a request span too.
 */
function frameworkErrorHandler(headers: Readonly<Record<string, string>>) {
  return (error: Error, request: FastifyRequest, reply: FastifyReply): void => {
    startRequestSpan(request);
    reply.headers(headers);
    sendError(error, reply, request);
    endRequestSpan(request, reply.statusCode);
  };
}

/**
 * Create the HTTP edge as a Nest Fastify application around `module`. Nest's own body parsers are
 * off: ours accept what the IBM SDKs send and answer bad input with IBM error bodies.
 */
export async function createHttpApp(
  module: Type<unknown>,
  options: HttpOptions,
  logger: Logger,
): Promise<NestFastifyApplication> {
  const tls = options.tls ? { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } : undefined;
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes,
    serverFactory: edgeServerFactory(limits, tls),
    clientErrorHandler: edgeClientError,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrorHandler(responseHeaders(tls !== undefined)('/')),
    logger: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bodyParser: false,
    logger: new PinoNestLogger(logger),
  });
  configureFastify(app.getHttpAdapter().getInstance(), { maxJsonDepth: limits.maxJsonDepth, tls: tls !== undefined });
  await app.register(compress, { global: true, encodings: ['gzip', 'deflate'] });
  app.useGlobalFilters(new IbmErrorFilter());
  app.enableShutdownHooks();
  return app;
}

/** Start listening; returns the URL actually bound (the real port when `options.port` is 0). */
export async function listen(app: INestApplication, options: HttpOptions): Promise<string> {
  await app.listen(options.port, options.host);
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const scheme = options.tls ? 'https' : 'http';
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return `${scheme}://${host}:${port}`;
}
