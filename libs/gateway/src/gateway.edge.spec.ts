import 'reflect-metadata';
import { startTracing, type TracingHandle } from '@sealbox/platform';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIbmError, send } from './testing/http-client.js';
import { startTestGateway, type TestGateway } from './testing/test-gateway.js';

/**
 * The HTTP edge's own limits and headers (libs/platform/src/http/edge.ts): what Node refuses before
 * any route runs is still an IBM error, every answer carries the security headers, and slow or
 * greedy clients are cut off. Small limits keep the slow-client cases short.
 */
const LIMITS = { requestTimeoutMs: 600, headersTimeoutMs: 400, keepAliveTimeoutMs: 5000, maxConnections: 6, maxJsonDepth: 8 };

let tracing: TracingHandle;
let gateway: TestGateway;
let port: number;

beforeAll(async () => {
  tracing = startTracing('gateway-edge-test', { exporter: 'none' });
  gateway = await startTestGateway({ limits: LIMITS });
  port = Number(new URL(gateway.url).port);
});

afterAll(async () => {
  await gateway?.close();
  await tracing?.shutdown();
});

/** Write raw bytes on a fresh connection and read everything until the server closes it. */
function raw(write: (socket: Socket) => void | Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('connect', () => void Promise.resolve(write(socket)).catch(reject));
  });
}

function parse(response: string): { status: number; headers: string; body: string } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body };
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

describe('HTTP edge: response headers', () => {
  it('puts the security headers on answers and errors, a closed CSP on the API, no HSTS without TLS', async () => {
    for (const [path, status] of [
      ['/healthz', 200],
      ['/nope', 404],
      ['/v2/resource_instances', 401],
    ] as const) {
      const response = await send(gateway.url, { path, headers: { accept: 'application/json' } });
      expect(response.status).toBe(status);
      expect(response.headers).toMatchObject(SECURITY_HEADERS);
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(response.headers).not.toHaveProperty('strict-transport-security');
    }
  });

  it("gives the API docs page a strict CSP of its own (its scripts and styles, no framing)", async () => {
    const response = await send(gateway.url, { path: '/docs' });
    expect(response.status).toBe(200);
    const csp = response.headers['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("script-src 'self' 'unsafe-inline'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers['x-frame-options']).toBe('DENY');
  });
});

describe('HTTP edge: what the server refuses by itself', () => {
  it('refuses a JSON body nested deeper than the limit with 400 INVALID_BODY naming the limit (5,000 levels too)', async () => {
    for (const depth of [9, 5000]) {
      const body = '['.repeat(depth) + ']'.repeat(depth);
      const response = await send(gateway.url, { method: 'POST', path: '/v2/resource_instances', headers: { 'content-type': 'application/json', ...await gateway.auth() }, body });
      expect(expectIbmError(response, 400, 'INVALID_BODY').errors[0]?.message).toBe('The request body nests arrays and objects deeper than 8 levels');
    }
    // At the limit, brackets inside strings not counted, the body gets through to validation.
    const shallow = JSON.stringify({ name: '[[[[[[[[[[[[', a: [[[[[[1]]]]]] });
    const ok = await send(gateway.url, { method: 'POST', path: '/v2/resource_instances', headers: { 'content-type': 'application/json', ...await gateway.auth() }, body: shallow });
    expect(expectIbmError(ok, 400, 'VALIDATION_FAILED').errors.length).toBeGreaterThan(0);
  });

  it('answers a 20 KB query string with 431 HEADERS_TOO_LARGE in the IBM body, and no body to HEAD', async () => {
    const query = 'x'.repeat(20 * 1024);
    const get = parse(await raw((socket) => void socket.write(`GET /healthz?${query} HTTP/1.1\r\nHost: x\r\n\r\n`)));
    expect(get.status).toBe(431);
    expect(get.headers).toContain('x-content-type-options: nosniff');
    const body = JSON.parse(get.body) as { errors: { code: string }[]; status_code: number; trace: string };
    expect(body).toMatchObject({ errors: [{ code: 'HEADERS_TOO_LARGE' }], status_code: 431 });
    expect(body.trace).toMatch(/^[0-9a-f]{32}$/);
    const head = parse(await raw((socket) => void socket.write(`HEAD /healthz?${query} HTTP/1.1\r\nHost: x\r\n\r\n`)));
    expect(head.status).toBe(431);
    expect(head.body).toBe('');
    expect(head.headers).toContain('content-length: 0');
  });

  it('answers a request that is not HTTP with 400 INVALID_BODY in the IBM body', async () => {
    const response = parse(await raw((socket) => void socket.write('THIS IS NOT HTTP\r\n\r\n')));
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ errors: [{ code: 'INVALID_BODY' }], status_code: 400 });
  });

  it('cuts off a client that trickles its headers: 408 REQUEST_TIMEOUT, connection closed', async () => {
    const response = parse(
      await raw(async (socket) => {
        socket.write('GET /healthz HTTP/1.1\r\n');
        for (let i = 0; i < 40 && !socket.destroyed; i++) {
          await sleep(100);
          if (!socket.destroyed) socket.write(`X-Slow-${i}: y\r\n`);
        }
      }),
    );
    expect(response.status).toBe(408);
    expect(JSON.parse(response.body)).toMatchObject({ errors: [{ code: 'REQUEST_TIMEOUT' }], status_code: 408 });
  });

  it('cuts off a client that trickles its body one byte at a time: 408 REQUEST_TIMEOUT', async () => {
    const response = parse(
      await raw(async (socket) => {
        socket.write('POST /v2/resource_instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n');
        for (let i = 0; i < 40 && !socket.destroyed; i++) {
          await sleep(100);
          if (!socket.destroyed) socket.write(' ');
        }
      }),
    );
    expect(response.status).toBe(408);
    expect(JSON.parse(response.body)).toMatchObject({ errors: [{ code: 'REQUEST_TIMEOUT' }] });
  });

  it('closes connections beyond its cap at once, and serves again when they go', async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < LIMITS.maxConnections; i++) {
        const socket = connect(port, '127.0.0.1');
        await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
        held.push(socket);
      }
      await sleep(100);
      const refused = await raw((socket) => void socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      expect(refused).toBe('');
    } finally {
      for (const socket of held) socket.destroy();
    }
    await sleep(100);
    expect((await send(gateway.url, { path: '/healthz' })).status).toBe(200);
  });
});
