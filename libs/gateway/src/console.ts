import fastifyStatic from '@fastify/static';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ExtraOperation } from './openapi/document.js';

/** Where the web console is served: static files, same origin as the API. */
export const CONSOLE_PATH = '/console';

/**
 * The folder of the built web console (libs/console-web, built by `npm ci` / `npm install` through the
 * root `prepare` script), or undefined when it is not built: then the gateway serves no console and
 * `/` leads to the API docs.
 */
export class ConsoleAssets {
  constructor(readonly dir: string | undefined) {}

  /** The built console next to this gateway, if any. */
  static find(): ConsoleAssets {
    try {
      const manifest = createRequire(import.meta.url).resolve('@sealbox/console-web/package.json');
      const dir = join(dirname(manifest), 'dist');
      return new ConsoleAssets(existsSync(join(dir, 'index.html')) ? dir : undefined);
    } catch {
      return new ConsoleAssets(undefined);
    }
  }

  /** Where `/` sends a browser. */
  get home(): string {
    return this.dir ? `${CONSOLE_PATH}/` : '/docs';
  }

  /** The console in the OpenAPI document, when it is served (it is a public page, not an API operation). */
  get operations(): readonly ExtraOperation[] {
    return this.dir
      ? [{ path: CONSOLE_PATH, method: 'get', tag: 'Console', summary: 'The web console (static files; sign in with an API key)', mediaType: 'text/html' }]
      : [];
  }
}

/**
 * Serve the built console: its page at /console (and /console/: the router ignores trailing slashes),
 * its hashed files under /console/assets/. Static files only: every API call the console makes goes
 * through the same closed-by-default routes as any other client. The edge sets the console's CSP and
 * cache headers (responseHeaders in @sealbox/platform).
 */
export async function setupConsole(app: INestApplication): Promise<void> {
  const assets = app.get(ConsoleAssets);
  if (!assets.dir) return;
  const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  // The page is small and fixed for the life of the process: read once, sent from memory.
  const page = readFileSync(join(assets.dir, 'index.html'));
  fastify.get(CONSOLE_PATH, (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  await (app as NestFastifyApplication).register(fastifyStatic, {
    root: assets.dir,
    prefix: `${CONSOLE_PATH}/`,
    // The docs UI may decorate the reply too; this plugin needs no reply.sendFile.
    decorateReply: false,
    // The edge decides caching: the page revalidated, hashed assets immutable.
    cacheControl: false,
    index: false,
    dotfiles: 'deny',
  });
}
