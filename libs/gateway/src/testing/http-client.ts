import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { expect } from 'vitest';

export interface TestRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Sent as is, with an exact Content-Length (an empty string sends `Content-Length: 0`). */
  readonly body?: string | Buffer;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The raw body bytes, exactly as they came off the wire (not decompressed). */
  readonly body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

/**
 * One HTTP(S) request with full control over headers and body bytes (fetch would add
 * `Accept-Encoding` and decompress behind our back). HTTPS accepts self-signed test certificates.
 */
export function send(baseUrl: string, init: TestRequest): Promise<TestResponse> {
  const url = new URL(init.path, baseUrl);
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  // A fresh connection per request: a server closing one after an error must not affect the next.
  const options = { method: init.method ?? 'GET', headers, rejectUnauthorized: false, agent: false };
  return new Promise((resolve, reject) => {
    const onResponse = (response: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
          text: () => body.toString('utf8'),
          json: <T>() => JSON.parse(body.toString('utf8')) as T,
        });
      });
    };
    // `path` keeps percent-encoding exactly as given (URL would not re-encode `%2F`).
    const target = { hostname: url.hostname, port: url.port, path: init.path, ...options };
    const req = url.protocol === 'https:' ? httpsRequest(target, onResponse) : httpRequest(target, onResponse);
    req.on('error', reject);
    req.end(init.body);
  });
}

export interface IbmErrorShape {
  readonly errors: { readonly code: string; readonly message: string }[];
  readonly status_code: number;
  readonly trace: string;
}

/**
 * Assert an IBM Cloud error answer: the status, `errors[0].code`, the body shape
 * `{errors:[{code,message}], status_code, trace}` and a real (non-zero) 32-hex trace id.
 */
export function expectIbmError(response: TestResponse, status: number, code: string): IbmErrorShape {
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = response.json<IbmErrorShape>();
  expect({ status: response.status, code: body.errors[0]?.code }).toEqual({ status, code });
  expect(body.status_code).toBe(status);
  expect(body.errors.length).toBeGreaterThan(0);
  for (const error of body.errors) {
    expect(typeof error.code).toBe('string');
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
  }
  expect(body.trace).toMatch(/^[0-9a-f]{32}$/);
  expect(body.trace).not.toBe('0'.repeat(32));
  return body;
}
