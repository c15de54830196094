import { Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ServiceName } from '@sealbox/contracts';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { Outbox } from '../events/outbox.js';
import { OutboxEventEntity } from '../events/outbox.entity.js';
import { CreateOutbox1764374400000 } from '../events/outbox.migration.js';
import type { EventPublisher } from '../events/publisher.js';
import { OutboxRelay } from '../events/relay.js';
import { openServiceDatabase, type DatabaseConfig, type EntityList, type MigrationList } from '../persistence/database.js';
import { Clock } from '../time/clock.js';
import { dataSourceToken, EVENT_PUBLISHER, LOGGER, outboxToken } from './tokens.js';

export interface ServiceDatabaseModuleOptions {
  readonly service: ServiceName;
  readonly config: DatabaseConfig;
  readonly entities: EntityList;
  readonly migrations: MigrationList;
}

class RelayHost implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    readonly relay: OutboxRelay,
    private readonly dataSource: DataSource,
  ) {}
  onApplicationBootstrap(): void {
    this.relay.start();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.dataSource.destroy();
  }
}

/**
 * A service's own database (its PostgreSQL schema or SQLite file, migrated at start) with its outbox
 * and the relay that publishes it. Provides `dataSourceToken(service)` and `outboxToken(service)`.
 */
@Module({})
export class ServiceDatabaseModule {
  static register(options: ServiceDatabaseModuleOptions): DynamicModule {
    const relayToken = `sealbox:${options.service}:relay`;
    return {
      module: ServiceDatabaseModule,
      providers: [
        {
          provide: dataSourceToken(options.service),
          useFactory: () =>
            openServiceDatabase({
              service: options.service,
              config: options.config,
              entities: [OutboxEventEntity, ...(options.entities as unknown[] as never[])],
              migrations: [CreateOutbox1764374400000, ...options.migrations],
            }),
        },
        {
          provide: relayToken,
          inject: [dataSourceToken(options.service), EVENT_PUBLISHER, LOGGER],
          useFactory: (dataSource: DataSource, publisher: EventPublisher, logger: Logger) =>
            new RelayHost(new OutboxRelay(dataSource, publisher, logger.child({ component: `${options.service}-outbox` })), dataSource),
        },
        {
          provide: outboxToken(options.service),
          inject: [Clock, relayToken],
          useFactory: (clock: Clock, host: RelayHost) => new Outbox(options.service, clock, () => host.relay.nudge()),
        },
      ],
      exports: [dataSourceToken(options.service), outboxToken(options.service)],
    };
  }
}
