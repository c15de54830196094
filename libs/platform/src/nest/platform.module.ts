import { Global, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import type { Logger } from 'pino';
import type { EventPublisher, EventSubscriber } from '../events/publisher.js';
import { RPC_CLIENT_OPTIONS, RPC_CLIENT_PROXY, RpcClient, type RpcClientProxy } from '../rpc/client.js';
import { Clock, SystemClock } from '../time/clock.js';
import { EVENT_PUBLISHER, EVENT_SUBSCRIBER, LOGGER } from './tokens.js';

export interface PlatformOptions {
  readonly logger: Logger;
  readonly clientProxy: RpcClientProxy;
  readonly rpcTimeoutMs: number;
  readonly eventPublisher: EventPublisher;
  /** Absent where nothing in the process reacts to events. */
  readonly eventSubscriber?: EventSubscriber;
  readonly clock?: Clock;
}

class ClientProxyCloser implements OnApplicationShutdown {
  constructor(@Inject(RPC_CLIENT_PROXY) private readonly proxy: RpcClientProxy) {}
  async onApplicationShutdown(): Promise<void> {
    await this.proxy.close();
  }
}

/** Process-wide providers: clock, logger, the typed RPC client and the event ports. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    return {
      module: PlatformModule,
      providers: [
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        { provide: LOGGER, useValue: options.logger },
        { provide: RPC_CLIENT_PROXY, useValue: options.clientProxy },
        { provide: RPC_CLIENT_OPTIONS, useValue: { timeoutMs: options.rpcTimeoutMs } },
        { provide: EVENT_PUBLISHER, useValue: options.eventPublisher },
        { provide: EVENT_SUBSCRIBER, useValue: options.eventSubscriber ?? null },
        RpcClient,
        ClientProxyCloser,
      ],
      exports: [Clock, LOGGER, RPC_CLIENT_PROXY, RPC_CLIENT_OPTIONS, EVENT_PUBLISHER, EVENT_SUBSCRIBER, RpcClient],
    };
  }
}
