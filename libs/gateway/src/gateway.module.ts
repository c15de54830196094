import { Module, type DynamicModule } from '@nestjs/common';
import { TRANSPORT_STATUS, type TransportStatus } from '@sealbox/platform';
import { HealthController } from './health.controller.js';
import { routeControllers } from './routes/index.js';
import { ReadinessService } from './readiness.service.js';

export interface GatewayModuleOptions {
  readonly transportStatus: TransportStatus;
}

/** The HTTP edge: IBM-compatible REST surfaces over the services' subjects. */
@Module({})
export class GatewayModule {
  static register(options: GatewayModuleOptions): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [HealthController, ...routeControllers],
      providers: [{ provide: TRANSPORT_STATUS, useValue: options.transportStatus }, ReadinessService],
    };
  }
}
