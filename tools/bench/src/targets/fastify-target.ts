import { fastify } from 'fastify';
import type { AddressInfo } from 'node:net';
import { HEALTH_PATH } from './protocol.js';

/** Row 1's server: a plain Fastify app with one GET route, the gateway's /healthz body, no plugins. */
export async function startFastifyTarget(version: string): Promise<number> {
  const app = fastify();
  app.get(HEALTH_PATH, async () => ({ status: 'ok', version }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}
