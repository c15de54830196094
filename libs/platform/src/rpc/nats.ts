import { ClientNats, ServerNats } from '@nestjs/microservices';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { NatsConnectionConfig } from '../config/fragments.js';

function connectionOptions(config: NatsConnectionConfig, name: string) {
  return {
    servers: config.servers,
    name,
    ...(config.user ? { user: config.user } : {}),
    ...(config.pass ? { pass: config.pass } : {}),
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  };
}

/** Nest's NATS server in the service's queue group, so replicas share the load. */
export function natsServer(config: NatsConnectionConfig, service: string): ServerNats {
  return new ServerNats({ ...connectionOptions(config, `sealbox-${service}`), queue: service, gracefulShutdown: true, gracePeriod: 1000 });
}

export function natsClient(config: NatsConnectionConfig, name: string): ClientNats {
  return new ClientNats(connectionOptions(config, `sealbox-${name}-client`));
}

/**
 * Wait until NATS answers, retrying with exponential backoff (250 ms doubling to 5 s) and one log line
 * per failed attempt. Resolves when a connection succeeded, or when `signal` aborts.
 */
export async function waitForNats(config: NatsConnectionConfig, logger: Logger, signal?: AbortSignal): Promise<boolean> {
  let delay = 250;
  for (let attempt = 1; !signal?.aborted; attempt++) {
    try {
      const probe = await connect({ ...connectionOptions(config, 'sealbox-probe'), reconnect: false, timeout: 2000 });
      await probe.close();
      if (attempt > 1) logger.info({ servers: config.servers }, 'NATS is reachable');
      return true;
    } catch (error) {
      logger.warn(
        { servers: config.servers, attempt, retryInMs: delay, reason: error instanceof Error ? error.message : String(error) },
        'NATS is unreachable; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
  return false;
}
