import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTracing, type TracingHandle } from '@sealbox/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectIbmError, send } from './testing/http-client.js';
import { startTestGateway, type TestGateway } from './testing/test-gateway.js';

/**
 * The web console as the gateway serves it: static files at /console with the console's CSP, `/`
 * leading there when it is built (to /docs otherwise), and the API as closed as before.
 */
const dir = mkdtempSync(join(tmpdir(), 'sealbox-console-assets-'));
mkdirSync(join(dir, 'assets'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Sealbox console</title><script type="module" src="/console/assets/index-abc123.js"></script>');
writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("console");');

let served: TestGateway;
let bare: TestGateway;
let tracing: TracingHandle;

beforeAll(async () => {
  // Error bodies carry the request's trace id.
  tracing = startTracing('gateway-console-test', { exporter: 'none' });
  served = await startTestGateway({ consoleDir: dir });
  bare = await startTestGateway();
});
afterAll(async () => {
  await served?.close();
  await bare?.close();
  await tracing.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('web console at /console', () => {
  it('sends / to the console when it is built, and to the API docs when it is not', async () => {
    const withConsole = await send(served.url, { path: '/' });
    expect(withConsole.status).toBe(302);
    expect(withConsole.headers['location']).toBe('/console/');
    const without = await send(bare.url, { path: '/' });
    expect(without.status).toBe(302);
    expect(without.headers['location']).toBe('/docs');
    expectIbmError(await send(bare.url, { path: '/console/' }), 404, 'ROUTE_NOT_FOUND');
  });

  it.each(['/console', '/console/', '/console/index.html'])('serves the page at %s with a CSP that allows no inline script and no framing', async (path) => {
    const page = await send(served.url, { path });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body.toString()).toContain('<title>Sealbox console</title>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-cache');
  });

  it('serves hashed assets as immutable, and answers a missing file with the IBM 404', async () => {
    const asset = await send(served.url, { path: '/console/assets/index-abc123.js' });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expectIbmError(await send(served.url, { path: '/console/assets/missing.js' }), 404, 'ROUTE_NOT_FOUND');
    // Paths that step out of the folder, or are not canonical, are refused (403, not a 500).
    for (const path of ['/console/../package.json', '/console/assets/../../package.json', '/console/%2e%2e/%2e%2e/package.json', '/console//index.html']) {
      const refused = expectIbmError(await send(served.url, { path }), 403, 'FORBIDDEN');
      expect(refused.errors[0]?.message).toBe('The requested path is not allowed');
    }
  });

  it('keeps the API closed: the console is static files, not a way around authentication', async () => {
    expectIbmError(await send(served.url, { path: '/v2/resource_instances' }), 401, 'UNAUTHORIZED');
    expectIbmError(await send(served.url, { path: '/v2/resource_instances', headers: { referer: `${served.url}/console/` } }), 401, 'UNAUTHORIZED');
    // API answers keep the API's own CSP.
    expect(String((await send(served.url, { path: '/healthz' })).headers['content-security-policy'])).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
  });

  it('is in the OpenAPI document as a public page when it is served, and absent when it is not', async () => {
    type Doc = { paths: Record<string, Record<string, { security: unknown[]; tags: string[] }>> };
    const withConsole = (await send(served.url, { path: '/openapi.json' })).json<Doc>();
    expect(withConsole.paths['/console']?.['get']).toMatchObject({ security: [], tags: ['Console'] });
    const without = (await send(bare.url, { path: '/openapi.json' })).json<Doc>();
    expect(without.paths['/console']).toBeUndefined();
  });
});
