import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { TRANSPORT_STATUS, type EventFeed, type TransportStatus } from '@sealbox/platform';
import { AccessGuard } from './auth/access.guard.js';
import { DecisionService } from './auth/decision.service.js';
import { RevocationList } from './auth/revocations.js';
import { RouteAccessCheck } from './auth/route-check.js';
import { ConsoleAssets } from './console.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { HealthController } from './health.controller.js';
import { DEFAULT_GATEWAY_OPTIONS, GATEWAY_OPTIONS, type GatewayOptions } from './options.js';
import { ReadinessService } from './readiness.service.js';
import { EVENT_FEED } from './routes/events.routes.js';
import { routeControllers, routeProviders } from './routes/index.js';

export interface GatewayModuleOptions {
  readonly transportStatus: TransportStatus;
  readonly gateway?: GatewayOptions;
  /** What `GET /v1/events` streams: JetStream when distributed, the in-process bus in standalone. */
  readonly eventFeed: EventFeed;
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
      controllers: [HealthController, ...routeControllers],
      providers: [
        { provide: TRANSPORT_STATUS, useValue: options.transportStatus },
        { provide: GATEWAY_OPTIONS, useValue: options.gateway ?? DEFAULT_GATEWAY_OPTIONS },
        { provide: EVENT_FEED, useValue: options.eventFeed },
        { provide: ConsoleAssets, useValue: options.console ?? ConsoleAssets.find() },
        ReadinessService,
        TokenVerifier,
        RevocationList,
        DecisionService,
        RouteAccessCheck,
        ...routeProviders,
        { provide: APP_GUARD, useClass: AccessGuard },
      ],
      exports: [DecisionService, TokenVerifier, RevocationList, ConsoleAssets],
    };
  }
}
