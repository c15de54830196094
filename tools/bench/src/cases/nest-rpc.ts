import { connect } from '@nats-io/transport-node';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomStrategy } from '@nestjs/microservices';
import type { HealthResponse } from '@sealbox/contracts';
import {
  createLogger,
  healthReport,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  natsClient,
  natsServer,
  PinoNestLogger,
  PlatformModule,
  RpcClient,
  RpcHandler,
  setRootLogger,
  startTracing,
  type NatsConnectionConfig,
  type RpcClientProxy,
} from '@sealbox/platform';
import type { BenchCase, Measurement } from '../bench.js';
import { natsServersOf, type BenchSettings } from '../config.js';
import { warmThenMeasure } from '../loop.js';
import { assertNobodyAnswers, checkReplica, ownReplica } from './nats.js';

const SUBJECT = 'iam.health';

/** Bench-only handler of a registry subject: the same trivial answer as the raw NATS responder. */
@Controller()
class BenchRpcController {
  @RpcHandler(SUBJECT)
  async health(): Promise<HealthResponse> {
    return healthReport('iam', {});
  }
}

@Module({ controllers: [BenchRpcController] })
class BenchRpcModule {}

type Transport = 'nats' | 'in-process';

interface RpcFixture {
  readonly rpc: RpcClient;
  close(): Promise<void>;
}

interface TransportParts {
  readonly strategy: CustomStrategy['strategy'];
  readonly client: RpcClientProxy;
  connect(): Promise<void>;
}

async function transportParts(transport: Transport, settings: BenchSettings): Promise<TransportParts> {
  if (transport === 'in-process') {
    const bus = new InProcessBus();
    return { strategy: new InProcessServer(bus), client: new InProcessClient(bus), connect: async () => {} };
  }
  const nats: NatsConnectionConfig = { servers: natsServersOf(settings) };
  const probe = await connect({ servers: nats.servers, name: 'sealbox-bench-probe' });
  try {
    await assertNobodyAnswers(probe, SUBJECT);
  } finally {
    await probe.close();
  }
  // The service side exactly as runService builds it: NatsRpcServer in the `iam` queue group.
  const client = natsClient(nats, 'bench');
  return { strategy: natsServer(nats, 'iam'), client, connect: async () => void (await client.connect()) };
}

/**
 * A Nest microservice serving the handler, and the typed RpcClient (from PlatformModule, as every
 * service gets it) calling it: zod validation, spans, headers, and Nest's packet handling included.
 */
async function startNestRpc(settings: BenchSettings, transport: Transport): Promise<RpcFixture> {
  const logger = createLogger({ app: 'bench', level: 'silent' });
  setRootLogger(logger);
  if (settings.tracing) startTracing('bench', { exporter: 'none' });
  const parts = await transportParts(transport, settings);

  @Module({
    imports: [
      PlatformModule.forRoot({ logger, clientProxy: parts.client, rpcTimeoutMs: 5000, eventPublisher: new InProcessEventBus() }),
      BenchRpcModule,
    ],
  })
  class BenchRootModule {}

  const app: INestMicroservice = await NestFactory.createMicroservice(BenchRootModule, {
    strategy: parts.strategy,
    logger: new PinoNestLogger(logger),
  });
  await app.listen();
  await parts.connect();
  return { rpc: app.get(RpcClient), close: () => app.close() };
}

/** The subscription may reach the server a moment after listen(): retry the first call briefly. */
async function untilAnswering(operation: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await operation();
      return;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function measureNestRpc(settings: BenchSettings, transport: Transport, concurrency: number): Promise<Measurement> {
  const fixture = await startNestRpc(settings, transport);
  try {
    const replica = await ownReplica();
    const operation = async (): Promise<void> => {
      checkReplica(await fixture.rpc.send(SUBJECT, {}), replica);
    };
    await untilAnswering(operation);
    const result = await warmThenMeasure(operation, { ...settings, concurrency });
    return { unit: 'ops/s', ...result };
  } finally {
    await fixture.close();
  }
}

export function nestRpcCases(settings: BenchSettings): BenchCase[] {
  const tracing = settings.tracing ? ', tracing exporter none' : '';
  return [
    {
      name: 'nest.nats.seq',
      description: `RpcClient.send('${SUBJECT}') to a NatsRpcServer in a Nest microservice (queue iam, bench-only @RpcHandler) in one process${tracing}, one at a time`,
      baseline: 'nats.raw.seq',
      uses: ['nats'],
      run: (current) => measureNestRpc(current, 'nats', 1),
    },
    {
      name: 'nest.nats.conc',
      description: `same as nest.nats.seq, ${settings.concurrency} requests in flight`,
      baseline: 'nats.raw.conc',
      uses: ['nats'],
      run: (current) => measureNestRpc(current, 'nats', current.concurrency),
    },
    {
      name: 'nest.inproc.seq',
      description: `RpcClient.send('${SUBJECT}') over InProcessServer/InProcessClient (standalone's transport)${tracing}, one at a time`,
      baseline: 'nest.nats.seq',
      run: (current) => measureNestRpc(current, 'in-process', 1),
    },
    {
      name: 'nest.inproc.conc',
      description: `same as nest.inproc.seq, ${settings.concurrency} requests in flight`,
      baseline: 'nest.nats.conc',
      run: (current) => measureNestRpc(current, 'in-process', current.concurrency),
    },
  ];
}
