import { Controller, Inject, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnectionConfig } from '../config/fragments.js';
import {
  describeTransportConformance,
  startCaller,
  startService,
} from '../testing/transport-conformance.js';
import type { RpcClient } from './client.js';
import { RpcHandler } from './handler.js';
import { natsClient, natsServer } from './nats.js';

/** The NATS server every medium test uses (see vitest.config.ts: NATS files run one at a time). */
const NATS: NatsConnectionConfig = { servers: ['nats://127.0.0.1:4222'] };

describeTransportConformance('NATS', () => ({
  server: (service) => natsServer(NATS, service),
  clientProxy: () => natsClient(NATS, 'conformance'),
  close: async () => undefined,
}));

/** What one replica saw: the sequence numbers of the requests it answered. */
class ReplicaLog {
  readonly answered: number[] = [];
  constructor(readonly name: string) {}
}
const REPLICA = Symbol('queue-test:replica');

@Controller()
class StorageReplicaController {
  constructor(@Inject(REPLICA) private readonly replica: ReplicaLog) {}

  @RpcHandler('storage.object.put')
  async put(request: ValidatedRequestOf<'storage.object.put'>): Promise<ResponseOf<'storage.object.put'>> {
    const sequence = Number(request['sequence']);
    this.replica.answered.push(sequence);
    return { sequence, replica: this.replica.name };
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
    const sequences = Array.from({ length: 40 }, (_, index) => index);
    const responses = await Promise.all(sequences.map((sequence) => caller.client.send('storage.object.put', { sequence })));

    // Every request got its own answer, from the replica that logged it.
    expect(responses.map((response) => response['sequence'])).toEqual(sequences);
    for (const response of responses) {
      const replica = replicas.find((candidate) => candidate.name === response['replica']);
      expect(replica?.answered).toContain(response['sequence']);
    }
    // No request was handled twice (a plain subscription per replica would deliver it to both).
    const handled = replicas.flatMap((replica) => replica.answered).sort((a, b) => a - b);
    expect(handled).toEqual(sequences);
    // Both replicas took part (NATS picks a queue member at random: 40 requests all to one of two
    // has a probability of 2^-39).
    for (const replica of replicas) expect(replica.answered.length).toBeGreaterThan(0);
  });
});
