import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { Clock, ServiceDatabaseModule, type DatabaseConfig } from '@sealbox/platform';
import { LifecycleRpcController } from './lifecycle.controller.js';
import { NatsInstanceResources } from './nats-instance-resources.js';
import { lifecycleMigrations } from './persistence/1764800000001-lifecycle.js';
import { lifecycleEntities } from './persistence/entities.js';
import { InstanceResources } from './ports.js';
import { InstanceService } from './services/instance.service.js';
import { PlanService } from './services/plan.service.js';
import { ReclamationService } from './services/reclamation.service.js';
import { SagaRunner } from './services/saga-runner.js';
import { LifecycleScheduler } from './services/scheduler.js';
import { defaultLifecycleOptions, LIFECYCLE_OPTIONS, type LifecycleDomainOptions } from './tokens.js';

export interface LifecycleModuleOptions {
  readonly database: DatabaseConfig;
  readonly lifecycle?: Partial<LifecycleDomainOptions>;
  /** Another implementation of the resources port (the bench's stub); NATS subjects by default. */
  readonly resources?: InstanceResources;
  /** Another clock for this module's own providers (a distributed test's OffsetFileClock, see test-clock/); the process clock by default. */
  readonly clock?: Clock;
}

/** Resource instances, plans, deletion, reclamation and permanent delete. */
@Module({})
export class LifecycleModule {
  static register(options: LifecycleModuleOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: LIFECYCLE_OPTIONS, useValue: { ...defaultLifecycleOptions, ...options.lifecycle } },
      options.resources ? { provide: InstanceResources, useValue: options.resources } : { provide: InstanceResources, useClass: NatsInstanceResources },
      SagaRunner,
      ReclamationService,
      InstanceService,
      PlanService,
      LifecycleScheduler,
    ];
    // Overrides the process clock for this module's own providers only.
    if (options.clock) providers.push({ provide: Clock, useValue: options.clock });
    return {
      module: LifecycleModule,
      imports: [ServiceDatabaseModule.register({ service: 'lifecycle', config: options.database, entities: lifecycleEntities, migrations: lifecycleMigrations })],
      controllers: [LifecycleRpcController],
      providers,
    };
  }
}
