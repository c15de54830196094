/**
 * HTTPS at the edge, with a self-signed certificate made by the `openssl` CLI at test time (the real
 * dependency of this medium test): the gateway serves HTTPS with that certificate, speaks TLS 1.2 and
 * 1.3, and refuses TLS 1.1.
 */
import 'reflect-metadata';
import { startTracing, type TracingHandle } from '@sealbox/platform';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type ConnectionOptions, type SecureVersion, type Server } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIbmError, send } from './testing/http-client.js';
import { startTestGateway, type TestGateway } from './testing/test-gateway.js';

let dir: string;
let certFile: string;
let keyFile: string;
let tracing: TracingHandle;
let gateway: TestGateway;
let port: number;

/** Handshake with exactly one protocol version; resolves with the negotiated version or the error. */
function handshake(targetPort: number, version: SecureVersion): Promise<{ protocol: string | null; fingerprint?: string } | Error> {
  // SECLEVEL=0 lets this client offer TLS 1.0/1.1 at all (OpenSSL 3 refuses to by default), so a
  // refusal below comes from the server.
  const options: ConnectionOptions = {
    host: '127.0.0.1',
    port: targetPort,
    minVersion: version,
    maxVersion: version,
    ciphers: 'DEFAULT@SECLEVEL=0',
    rejectUnauthorized: false,
  };
  return new Promise((resolve) => {
    const socket = connect(options, () => {
      const result = { protocol: socket.getProtocol(), fingerprint: socket.getPeerX509Certificate()?.fingerprint256 };
      socket.end();
      resolve(result);
    });
    socket.on('error', (error) => resolve(error));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-tls-'));
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', '/CN=sealbox-test', '-addext', 'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  tracing = startTracing('gateway-tls-test', { exporter: 'none' });
  gateway = await startTestGateway({ tls: { certFile, keyFile } });
  port = Number(new URL(gateway.url).port);
});

afterAll(async () => {
  await gateway?.close();
  await tracing?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gateway over HTTPS', () => {
  it('reports an https URL and answers over HTTPS with the configured certificate', async () => {
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await send(gateway.url, { path: '/healthz' });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok' });
    const served = await handshake(port, 'TLSv1.3');
    expect(served).not.toBeInstanceOf(Error);
    expect(served).toMatchObject({ fingerprint: new X509Certificate(readFileSync(certFile)).fingerprint256 });
  });

  it('answers errors over HTTPS in the IBM shape', async () => {
    expectIbmError(await send(gateway.url, { path: '/nope' }), 404, 'ROUTE_NOT_FOUND');
  });

  it('tells browsers to keep to HTTPS (HSTS), on answers and errors alike', async () => {
    for (const path of ['/healthz', '/nope']) {
      expect((await send(gateway.url, { path })).headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    }
  });

  it('negotiates TLS 1.2 and TLS 1.3', async () => {
    expect(await handshake(port, 'TLSv1.2')).toMatchObject({ protocol: 'TLSv1.2' });
    expect(await handshake(port, 'TLSv1.3')).toMatchObject({ protocol: 'TLSv1.3' });
  });

  it('refuses TLS 1.1 (a client that can speak it, as a server allowing it proves)', async () => {
    // Control: the same client settings do get TLS 1.1 from a server that allows it.
    const lenient: Server = createServer({
      cert: readFileSync(certFile),
      key: readFileSync(keyFile),
      minVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    await new Promise<void>((resolve) => lenient.listen(0, '127.0.0.1', resolve));
    try {
      const address = lenient.address();
      const lenientPort = typeof address === 'object' && address ? address.port : 0;
      expect(await handshake(lenientPort, 'TLSv1.1')).toMatchObject({ protocol: 'TLSv1.1' });
    } finally {
      await new Promise((resolve) => lenient.close(resolve));
    }

    const refused = await handshake(port, 'TLSv1.1');
    expect(refused).toBeInstanceOf(Error);
    expect((refused as NodeJS.ErrnoException).code).toMatch(/ERR_SSL_(TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL)/);
  });
});
