import { Controller, Get, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Clock, createHttpApp, DomainError, RateLimitedError, SEALBOX_VERSION, sealedError, sendError, type HttpOptions } from '@sealbox/platform';
import type { Logger } from 'pino';
import { Public } from '../auth/access.decorators.js';
import { RateLimiter, type RateLimit } from '../auth/rate-limiter.js';
import { Operation, Tag } from '../openapi/operation.js';
import { Liveness } from '../wire.js';
import { SEAL_CONTROL, type SealControl } from './seal-control.js';
import { SealStatusRoutes } from './seal.routes.js';

/** The only requests a sealed process answers; everything else is 503 SEALED. */
export const SEALED_ROUTES: ReadonlySet<string> = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /v1/sys/seal-status',
  'POST /v1/sys/init',
  'POST /v1/sys/unseal',
]);

function routeOf(method: string, url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return `${method} ${path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path}`;
}

/** Health of a sealed process: alive, never ready. */
@Tag('Health')
@Public()
@Controller()
export class SealedHealthController {
  @Get('healthz')
  @Operation({ summary: 'Liveness: the process is up (sealed)', response: Liveness })
  healthz(): Liveness {
    return { status: 'ok', version: SEALBOX_VERSION };
  }

  @Get('readyz')
  @Operation({ summary: 'Readiness: 503 SEALED until the key store is unsealed', response: null })
  readyz(): never {
    throw new DomainError('SEALED', 'sealed');
  }
}

export interface SealedAppOptions {
  readonly http: HttpOptions;
  readonly logger: Logger;
  readonly control: SealControl;
  readonly clock: Clock;
  readonly rateLimitPerIp: RateLimit;
  /** Run after each answer (the switch to the full API once an unseal completes). */
  readonly afterResponse?: () => void;
}

/**
 * The HTTP app of a sealed process: health, readiness (503 "sealed") and the seal endpoints, on the
 * same edge as the full API (IBM error bodies, limits, headers); every other request is 503 SEALED
 * before any routing. Not listening yet: the caller listens.
 */
export async function createSealedApp(options: SealedAppOptions): Promise<NestFastifyApplication> {
  @Module({
    controllers: [SealedHealthController, SealStatusRoutes],
    providers: [{ provide: SEAL_CONTROL, useValue: options.control }],
  })
  class SealedRootModule {}

  const app = await createHttpApp(SealedRootModule, options.http, options.logger);
  const fastify = app.getHttpAdapter().getInstance();
  const perIp = new RateLimiter(options.clock, options.rateLimitPerIp);
  fastify.addHook('onRequest', async (request, reply) => {
    const decision = perIp.take(request.ip);
    if (!decision.allowed) {
      sendError(new RateLimitedError(decision.retryAfterSeconds), reply, request);
      return reply;
    }
    if (!SEALED_ROUTES.has(routeOf(request.method, request.url))) {
      sendError(sealedError(), reply, request);
      return reply;
    }
    return undefined;
  });
  const afterResponse = options.afterResponse;
  if (afterResponse) fastify.addHook('onResponse', async () => afterResponse());
  return app;
}
