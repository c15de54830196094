import { Controller, Inject, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import type { HealthResponse, ValidatedRequestOf } from '@sealbox/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnectionConfig } from '../config/fragments.js';
import {
  describeTransportConformance,
  startCaller,
  startService,
} from '../testing/transport-conformance.js';
import type { RpcClient } from './client.js';
import { RpcHandler, type RpcMeta } from './handler.js';
import { connect } from '@nats-io/transport-node';
import { DomainError } from '../errors/domain-error.js';
import { natsClient, natsServer, requestOverNats, waitForNats } from './nats.js';
import { pino } from 'pino';
import { SEALBOX_VERSION } from '../version.js';

/** The NATS server every medium test uses (see vitest.config.ts: NATS files run one at a time). */
const NATS: NatsConnectionConfig = { servers: ['nats://127.0.0.1:4222'] };

describeTransportConformance('NATS', () => ({
  server: (service) => natsServer(NATS, service),
  clientProxy: () => natsClient(NATS, 'conformance'),
  close: async () => undefined,
}));

/** What one replica saw: the request ids it answered. */
class ReplicaLog {
  readonly answered: string[] = [];
  constructor(readonly name: string) {}
}
const REPLICA = Symbol('queue-test:replica');

@Controller()
class StorageReplicaController {
  constructor(@Inject(REPLICA) private readonly replica: ReplicaLog) {}

  @RpcHandler('storage.health')
  async health(_request: ValidatedRequestOf<'storage.health'>, meta: RpcMeta): Promise<HealthResponse> {
    this.replica.answered.push(meta.requestId ?? '');
    return { service: 'storage', version: SEALBOX_VERSION, replica: this.replica.name, status: 'ok', checks: {} };
  }
}

describe('NATS queue group: two replicas of one service', () => {
  const replicas = [new ReplicaLog('replica-a'), new ReplicaLog('replica-b')];
  const apps: INestMicroservice[] = [];
  let caller: { context: INestApplicationContext; client: RpcClient };

  beforeAll(async () => {
    for (const replica of replicas) {
      apps.push(
        await startService('storage', natsServer(NATS, 'storage'), [StorageReplicaController], [
          { provide: REPLICA, useValue: replica },
        ]),
      );
    }
    caller = await startCaller(natsClient(NATS, 'queue-test'));
  });

  afterAll(async () => {
    await caller?.context.close();
    for (const app of apps) await app.close();
  });

  it('answers each request exactly once, sharing the requests between the replicas', async () => {
    const requestIds = Array.from({ length: 40 }, (_, index) => `req-${String(index).padStart(2, '0')}`);
    const answers = await Promise.all(requestIds.map((requestId) => caller.client.send('storage.health', {}, { requestId })));

    // Every request got an answer from a replica that logged that request.
    answers.forEach((answer, index) => {
      const replica = replicas.find((candidate) => candidate.name === answer.replica);
      expect(replica?.answered).toContain(requestIds[index]);
    });
    // No request was handled twice (a plain subscription per replica would deliver it to both).
    expect(replicas.flatMap((replica) => replica.answered).sort()).toEqual(requestIds);
    // Both replicas took part (NATS picks a queue member at random: 40 requests all to one of two
    // has a probability of 2^-39).
    for (const replica of replicas) expect(replica.answered.length).toBeGreaterThan(0);
  });
});

describe('NATS client status and raw requests', () => {
  it('reports the connection for readiness: not connected, connected, closed', async () => {
    const client = natsClient(NATS, 'status-test');
    expect(client.isConnected()).toBe(false);
    expect(client.describe()).toBe('nats not connected');
    await client.connect();
    expect(client.isConnected()).toBe(true);
    expect(client.describe()).toBe('nats connected');
    await client.close();
    expect(client.isConnected()).toBe(false);
  });

  it('speaks the services protocol on a connection of its own (tools and tests): response or the domain error', async () => {
    const app = await startService('storage', natsServer(NATS, 'storage'), [StorageReplicaController], [{ provide: REPLICA, useValue: new ReplicaLog('raw') }]);
    const nc = await connect({ servers: NATS.servers });
    try {
      await expect(requestOverNats(nc, 'storage.health', {}, 2000)).resolves.toMatchObject({ service: 'storage', replica: 'raw' });
      const error = await requestOverNats(nc, 'storage.health', { extra: 1 } as unknown as Record<string, never>, 2000).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    } finally {
      await nc.close();
      await app.close();
    }
  });
});

describe('waitForNats', () => {
  function capturingLogger(onLine: (line: Record<string, unknown>) => void = () => undefined) {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      {
        write: (text: string) => {
          const line = JSON.parse(text) as Record<string, unknown>;
          lines.push(line);
          onLine(line);
        },
      },
    );
    return { logger, lines };
  }

  it('resolves at once when NATS answers, logging nothing', async () => {
    const { logger, lines } = capturingLogger();
    await expect(waitForNats(NATS, logger)).resolves.toBe(true);
    expect(lines).toEqual([]);
  });

  it('logs each failed attempt with the delay before the next, and gives up when aborted', async () => {
    const abort = new AbortController();
    const { logger, lines } = capturingLogger(() => abort.abort());
    const unreachable: NatsConnectionConfig = { servers: ['nats://127.0.0.1:1'], user: 'svc', pass: 'nats-pw-not-logged' };
    await expect(waitForNats(unreachable, logger, abort.signal)).resolves.toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'NATS is unreachable; retrying', attempt: 1, retryInMs: 250, servers: ['nats://127.0.0.1:1'] });
    expect(JSON.stringify(lines)).not.toContain('nats-pw-not-logged');
  });
});
