/**
 * What the HTTP edge does before and around the framework: the server's own limits (time to send
 * headers and a body, idle keep-alive, connections), the IBM error body for what Node refuses on its
 * own (timeouts, oversized headers, unparsable requests), response headers every answer carries, and
 * a cap on JSON nesting.
 */
import { STATUS_CODES, createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../errors/index.js';
import { rootLogger } from '../logging/index.js';
import { ibmErrorBody } from './error-body.js';

export interface HttpLimits {
  /** Time a client has to send a whole request (headers and body); then 408. */
  readonly requestTimeoutMs: number;
  /** Time a client has to send the request headers; then 408. */
  readonly headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at most; further ones are closed at once. */
  readonly maxConnections: number;
  /** Deepest nesting of arrays and objects a JSON body may have; deeper is 400. */
  readonly maxJsonDepth: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4096,
  maxJsonDepth: 64,
};

/** How often Node checks the request and header timeouts (its default, 30 s, would let a slow client stay that much longer). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** The Node server Fastify serves on: plain or TLS (1.2+), with the edge's limits. */
export function edgeServerFactory(limits: HttpLimits, tls: TlsFiles | undefined) {
  return (handler: RequestListener): Server => {
    const options = {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    };
    const server: Server = tls
      ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, handler)
      : createHttpServer(options, handler);
    server.maxConnections = limits.maxConnections;
    return server;
  };
}

/** Headers on every answer: no sniffing, no referrer, no framing, nothing cached (answers carry secrets and tokens). */
const API_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** The API docs page loads its own scripts and styles (the UI sets inline styles) and calls the API. */
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The web console: its own scripts and stylesheets only (no inline script or style element, no eval),
 * calls to the API of the same origin, never framed, no form posted anywhere.
 */
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const HSTS = 'max-age=31536000; includeSubDomains';

const isUnder = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** The edge's response headers for a request path; HSTS when served over TLS. */
export function responseHeaders(tls: boolean): (path: string) => Readonly<Record<string, string>> {
  const api = tls ? { ...API_HEADERS, 'strict-transport-security': HSTS } : API_HEADERS;
  const docs = { ...api, 'content-security-policy': DOCS_CSP };
  // The console's page is revalidated on every load (it holds no data); its hashed assets never change under a name.
  const { pragma: _pragma, ...cacheable } = api;
  const consolePage = { ...cacheable, 'content-security-policy': CONSOLE_CSP, 'cache-control': 'no-cache', 'cross-origin-opener-policy': 'same-origin' };
  const consoleAssets = { ...consolePage, 'cache-control': 'public, max-age=31536000, immutable' };
  return (path) => {
    if (isUnder(path, '/console/assets')) return consoleAssets;
    if (isUnder(path, '/console')) return consolePage;
    return path === '/docs' || path.startsWith('/docs/') || path.startsWith('/docs-json') ? docs : api;
  };
}

/**
 * Whether a JSON text nests arrays and objects deeper than `maxDepth`, found in one pass over the text
 * (brackets inside strings do not count) before anything parses it.
 */
export function jsonDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \ */) index++;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** What Node itself refuses before any route or hook runs, as the IBM error it is. */
function clientErrorOf(error: NodeJS.ErrnoException): DomainError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new DomainError('REQUEST_TIMEOUT', 'The request was not received in time');
    case 'HPE_HEADER_OVERFLOW':
      return new DomainError('HEADERS_TOO_LARGE', 'The request line and headers are larger than the server accepts');
    default:
      return new DomainError('INVALID_BODY', 'The request could not be parsed as HTTP');
  }
}

/** The method of a request Node could not finish parsing, from the bytes it received. */
function methodOf(error: { rawPacket?: unknown }): string | undefined {
  return Buffer.isBuffer(error.rawPacket) ? /^([A-Z]+) /.exec(error.rawPacket.toString('latin1', 0, 16))?.[1] : undefined;
}

/**
 * Fastify's clientErrorHandler: answer a request Node refused (timeout, oversized headers, bad HTTP)
 * with an IBM error body (none to a HEAD request) and close the connection.
 */
export function edgeClientError(error: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const domain = clientErrorOf(error);
  const { status, body } = ibmErrorBody(domain, randomBytes(16).toString('hex'));
  const text = methodOf(error) === 'HEAD' ? '' : JSON.stringify(body);
  rootLogger().debug({ code: error.code, status }, 'refused a request before routing');
  if (socket.writable) {
    const headers = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
      'connection: close',
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(text)}`,
      ...Object.entries(API_HEADERS).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.end(`${headers.join('\r\n')}\r\n\r\n${text}`);
  }
  socket.destroySoon();
}
