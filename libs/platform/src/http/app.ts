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
import { IbmErrorFilter, sendError } from './error.filter.js';
import { endRequestSpan, runHandlerInRequestSpan, startRequestSpan } from './tracing-hooks.js';

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** JSON as the IBM SDKs send it: `application/json` and any `application/*+json` vendor type. */
const JSON_TYPES = /^application\/([\w.-]+\+)?json\s*(;.*)?$/i;

function parseJson(_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void {
  // The SDKs send empty bodies with a JSON content type (KP disable/enable, RC lock...).
  if (body.trim() === '') return done(null, undefined);
  try {
    done(null, JSON.parse(body));
  } catch {
    done(new DomainError('INVALID_BODY', 'The request body is not valid JSON'));
  }
}

function parseForm(_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void {
  done(null, { ...parseQueryString(body) });
}

/**
 * Body parsing and request spans, identical in the gateway and standalone. Errors raised here (bad
 * JSON, body too large, unsupported type) reach Nest's error handler and so the global IbmErrorFilter.
 */
export function configureFastify(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, parseJson);
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseForm);
  fastify.addHook('onRequest', async (request) => startRequestSpan(request));
  fastify.addHook('onResponse', async (request, reply) => endRequestSpan(request, reply.statusCode));
  fastify.addHook('onRoute', (route) => runHandlerInRequestSpan(route as unknown as Parameters<typeof runHandlerInRequestSpan>[0]));
}

/**
 * Longest accepted path parameter (percent-encoded). Fastify's default of 100 rejects a real CRN
 * (`crn:v1:bluemix:public:secrets-manager:us-south:a/<32 hex>:<uuid>::` is 140 characters encoded),
 * which the Resource Controller SDK sends as an instance id.
 */
export const MAX_PARAM_LENGTH = 2048;

/**
 * The router rejects a malformed URL or an over-long parameter before any hook runs; answer those
 * with an IBM error body and a request span too.
 */
function frameworkError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  startRequestSpan(request);
  sendError(error, reply, request);
  endRequestSpan(request, reply.statusCode);
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
  const https = options.tls
    ? {
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        minVersion: 'TLSv1.2' as const,
      }
    : undefined;
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes,
    ...(https ? { https } : {}),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
    logger: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bodyParser: false,
    logger: new PinoNestLogger(logger),
  });
  configureFastify(app.getHttpAdapter().getInstance());
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
