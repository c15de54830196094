import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { openServiceDatabase, TRANSPORT_STATUS, type DatabaseConfig, type EventFeed, type TransportStatus } from '@sealbox/platform';
import { AccessGuard } from './auth/access.guard.js';
import { DecisionService } from './auth/decision.service.js';
import { RevocationList } from './auth/revocations.js';
import { RouteAccessCheck } from './auth/route-check.js';
import { ConsoleAssets } from './console.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { HealthController } from './health.controller.js';
import { CreateIdempotencyKeys1765065600000, IdempotencyKeyEntity } from './idempotency/idempotency.entity.js';
import { GATEWAY_DATABASE, IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { DEFAULT_GATEWAY_OPTIONS, GATEWAY_OPTIONS, type GatewayOptions } from './options.js';
import { ReadinessService } from './readiness.service.js';
import { EVENT_FEED } from './routes/events.routes.js';
import { routeControllers, routeProviders } from './routes/index.js';
import { SEAL_CONTROL, type SealControl } from './seal/seal-control.js';
import { SealAdminRoutes, SealStatusRoutes } from './seal/seal.routes.js';

export interface GatewayModuleOptions {
  readonly transportStatus: TransportStatus;
  readonly gateway?: GatewayOptions;
  /** What `GET /v1/events` streams: JetStream when distributed, the in-process bus in standalone. */
  readonly eventFeed: EventFeed;
  /** The key store's seal, where this process holds it (standalone): serves `/v1/sys/*`. */
  readonly seal?: SealControl;
  /** The gateway's own database (Idempotency-Keys): PostgreSQL when distributed, SQLite in standalone. */
  readonly database: DatabaseConfig;
  /** The web console's built files (default: the built libs/console-web, if any). */
  readonly console?: ConsoleAssets;
}

/** The HTTP edge: IBM-compatible REST surfaces over the services' subjects, closed by default. */
@Module({})
export class GatewayModule {
  static register(options: GatewayModuleOptions): DynamicModule {
    return {
      module: GatewayModule,
      imports: [DiscoveryModule],
      controllers: [HealthController, ...routeControllers, ...(options.seal ? [SealStatusRoutes, SealAdminRoutes] : [])],
      providers: [
        { provide: TRANSPORT_STATUS, useValue: options.transportStatus },
        { provide: GATEWAY_OPTIONS, useValue: options.gateway ?? DEFAULT_GATEWAY_OPTIONS },
        { provide: EVENT_FEED, useValue: options.eventFeed },
        {
          provide: GATEWAY_DATABASE,
          useFactory: () =>
            openServiceDatabase({
              service: 'gateway',
              config: options.database,
              entities: [IdempotencyKeyEntity],
              migrations: [CreateIdempotencyKeys1765065600000],
            }),
        },
        IdempotencyInterceptor,
        { provide: APP_INTERCEPTOR, useExisting: IdempotencyInterceptor },
        { provide: ConsoleAssets, useValue: options.console ?? ConsoleAssets.find() },
        ReadinessService,
        TokenVerifier,
        RevocationList,
        DecisionService,
        RouteAccessCheck,
        ...routeProviders,
        ...(options.seal ? [{ provide: SEAL_CONTROL, useValue: options.seal }] : []),
        { provide: APP_GUARD, useClass: AccessGuard },
      ],
      exports: [DecisionService, TokenVerifier, RevocationList, ConsoleAssets],
    };
  }
}
