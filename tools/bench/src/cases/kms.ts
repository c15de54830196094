/**
 * The hsm rows' wrap + unwrap pair as crypto gets it: `kms.key.wrap` / `kms.key.unwrap` to the real
 * kms module (KmsModule.register: its controllers, services, SQLite database, key-protect provider,
 * Pkcs11Hsm on a throwaway SoftHSM2 token). kms asks `iam.authorization.check` on a wrap/unwrap whose
 * decision it has not cached; a bench-only controller allows, so the rows measure kms + HSM with the
 * authorization cached as in production.
 *
 * - `kms.nats.*`: over NATS, served as a Nest ServerNats in the `kms` queue as runService does.
 * - `kms.inproc.*`: the same module in-process, called through the in-process transport as crypto
 *   calls it in the standalone app (request validation, error mapping included; no NATS, no
 *   serialization): what kms and the HSM cost per call, without the network.
 */
import { connect } from '@nats-io/transport-node';
import { Controller, Module, type DynamicModule, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { IamWire, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { KmsModule } from '@sealbox/kms';
import {
  createLogger,
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
} from '@sealbox/platform';
import { fork } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { BenchCase, Measurement } from '../bench.js';
import { natsServersOf, type BenchSettings } from '../config.js';
import { warmThenMeasure } from '../loop.js';
import { assertNobodyAnswers } from './nats.js';
import { cpuProfileArgs } from '../stack/profiling.js';
import { createBenchToken, SOFTHSM2_LIBRARY, type BenchToken } from './softhsm2.js';

/** Subjects the row answers or calls: nobody else may serve them on the NATS server it uses. */
const SUBJECTS = ['kms.key.wrap', 'kms.key.unwrap', 'kms.instance.create', 'iam.authorization.check'] as const;

/** What the bench's iam stand-in has answered (kms caches each decision 5 s, so a few per run). */
export const authorizationChecks = { count: 0 };

/** Bench-only `iam.authorization.check`: every service-to-service authorization is allowed. */
@Controller()
class BenchAuthorizationController {
  @RpcHandler('iam.authorization.check')
  async check(): Promise<IamWire.Decision> {
    authorizationChecks.count += 1;
    return { allowed: true, policyId: 'bench-allow-all' };
  }
}

@Module({ controllers: [BenchAuthorizationController] })
class BenchIamModule {}

/** A Nest microservice on NATS, its PlatformModule as runService builds it (events stay in-process). */
export async function startService(
  name: string,
  module: DynamicModule | Type<unknown>,
  nats: NatsConnectionConfig,
  logger: Logger,
): Promise<INestMicroservice> {
  @Module({
    imports: [
      PlatformModule.forRoot({ logger, clientProxy: natsClient(nats, name), rpcTimeoutMs: 5000, eventPublisher: new InProcessEventBus() }),
      module,
    ],
  })
  class BenchServiceRootModule {}

  const server = natsServer(nats, name);
  const app = await NestFactory.createMicroservice(BenchServiceRootModule, { strategy: server, logger: new PinoNestLogger(logger) });
  await app.listen();
  return app;
}

interface KmsFixture {
  readonly source: { accountId: string; serviceName: string; serviceInstance: string };
  readonly key: { instanceId: string; keyId: string };
  wrap(request: ValidatedRequestOf<'kms.key.wrap'>): Promise<ResponseOf<'kms.key.wrap'>>;
  unwrap(request: ValidatedRequestOf<'kms.key.unwrap'>): Promise<ResponseOf<'kms.key.unwrap'>>;
  close(): Promise<void>;
}

/** The subscriptions may reach the server a moment after listen(): retry the first call briefly. */
async function untilAnswering<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A throwaway token and data directory, the KmsModule on them (key-protect for `kms` instances). */
export async function kmsModuleOnTempToken(closers: Array<() => Promise<unknown>>): Promise<DynamicModule> {
  const token: BenchToken = await createBenchToken();
  closers.push(() => token.remove());
  const dataDir = await mkdtemp(join(tmpdir(), 'sealbox-bench-kms-'));
  closers.push(() => rm(dataDir, { recursive: true, force: true }));
  return KmsModule.register({
    database: { type: 'sqlite', path: join(dataDir, 'kms.sqlite') },
    hsm: { backend: 'pkcs11', library: SOFTHSM2_LIBRARY, tokenLabel: token.label, pin: token.pin },
  });
}

/** An instance and a root key through kms's own API: lifecycle's subject, then Key Protect's create. */
async function createRootKey(rpc: RpcClient): Promise<Pick<KmsFixture, 'source' | 'key'>> {
  const accountId = `bench-${randomUUID().slice(0, 8)}`;
  const instanceId = randomUUID();
  const instance = await untilAnswering(() => rpc.send('kms.instance.create', { accountId, instanceId, serviceName: 'kms', region: 'local' }));
  if (instance.provider !== 'key-protect') throw new Error(`kms made a ${instance.provider} instance, expected key-protect`);
  const created: ResponseOf<'kms.api.key.create'> = await rpc.send(
    'kms.api.key.create',
    { instanceId, resources: [{ name: 'bench-root-key', extractable: false }] },
    { caller: { iamId: 'IBMid-bench', accountId, subType: 'user' } },
  );
  const keyId = created.resources[0]?.id;
  if (!keyId) throw new Error('kms.api.key.create returned no key');
  return { source: { accountId, serviceName: 'secrets-manager', serviceInstance: randomUUID() }, key: { instanceId, keyId } };
}

/** Run `build` with a list of closers; on failure close what was opened. */
async function withClosers(build: (closers: Array<() => Promise<unknown>>, close: () => Promise<void>) => Promise<KmsFixture>): Promise<KmsFixture> {
  const closers: Array<() => Promise<unknown>> = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    return await build(closers, close);
  } catch (error) {
    await close();
    throw error;
  }
}

export function benchLogger(settings: BenchSettings): Logger {
  const logger = createLogger({ app: 'bench', level: 'silent' });
  setRootLogger(logger);
  if (settings.tracing) startTracing('bench', { exporter: 'none' });
  return logger;
}

/**
 * kms in a process of its own (as deployed: crypto, its caller, is another process), started from
 * `stack/kms-child.js` on the row's NATS server; iam's stand-in and the caller stay in this process.
 */
async function startKmsOverNats(settings: BenchSettings): Promise<KmsFixture> {
  const logger = benchLogger(settings);
  const nats: NatsConnectionConfig = { servers: natsServersOf(settings) };
  const probe = await connect({ servers: nats.servers, name: 'sealbox-bench-probe' });
  try {
    for (const subject of SUBJECTS) await assertNobodyAnswers(probe, subject);
  } finally {
    await probe.close();
  }
  return withClosers(async (closers, close) => {
    const iam = await startService('iam', BenchIamModule, nats, logger);
    closers.push(() => iam.close());
    const kms = await startKmsChild(nats);
    closers.push(() => kms.stop());
    // crypto's side: an RpcClient on a NATS connection of its own.
    const client = natsClient(nats, 'crypto');
    const rpc = new RpcClient(client, { timeoutMs: 5000 });
    closers.push(() => client.close());
    await client.connect();
    const { source, key } = await createRootKey(rpc);
    return {
      source,
      key,
      wrap: (request) => rpc.send('kms.key.wrap', request),
      unwrap: (request) => rpc.send('kms.key.unwrap', request),
      close,
    };
  });
}

/** The compiled child (from the sources, as under vitest, the build's copy: `npm ci` builds it). */
const KMS_CHILD = fileURLToPath(new URL('../stack/kms-child.js', import.meta.url)).replace(/([\\/])src([\\/]stack[\\/]kms-child\.js)$/, '$1dist$2');

/** Fork the kms process; resolves once it serves (it says so over IPC), with how to stop it. */
async function startKmsChild(nats: NatsConnectionConfig): Promise<{ stop(): Promise<void> }> {
  const child = fork(KMS_CHILD, [], {
    env: { ...process.env, BENCH_NATS_URL: nats.servers.join(',') },
    execArgv: [...process.execArgv, ...cpuProfileArgs('kms')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await Promise.race([
      once(child, 'message'),
      exited.then(([code]) => {
        throw new Error(`the kms process exited (${String(code)}) before serving`);
      }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('the kms process did not start within 30 s')), 30_000).unref()),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

async function startKmsInProcess(settings: BenchSettings): Promise<KmsFixture> {
  const logger = benchLogger(settings);
  return withClosers(async (closers, close) => {
    const bus = new InProcessBus();
    @Module({
      imports: [
        PlatformModule.forRoot({ logger, clientProxy: new InProcessClient(bus), rpcTimeoutMs: 5000, eventPublisher: new InProcessEventBus() }),
        await kmsModuleOnTempToken(closers),
        BenchIamModule,
      ],
    })
    class BenchInProcessRootModule {}
    const app = await NestFactory.createMicroservice(BenchInProcessRootModule, {
      strategy: new InProcessServer(bus),
      logger: new PinoNestLogger(logger),
    });
    await app.listen();
    closers.push(() => app.close());
    const rpc = app.get(RpcClient);
    const { source, key } = await createRootKey(rpc);
    // Through the in-process transport, as crypto calls kms in the standalone app.
    return { source, key, wrap: (request) => rpc.send('kms.key.wrap', request), unwrap: (request) => rpc.send('kms.key.unwrap', request), close };
  });
}

async function measureKms(settings: BenchSettings, transport: 'nats' | 'inproc', concurrency: number): Promise<Measurement> {
  const fixture = transport === 'nats' ? await startKmsOverNats(settings) : await startKmsInProcess(settings);
  try {
    const dek = randomBytes(32);
    // The aad crypto sends: one fixed-size entry binding the envelope context.
    const aad = [`sealbox-envelope-v1:${createHash('sha256').update(randomUUID()).digest('hex')}`];
    const { source, key } = fixture;
    const operation = async (): Promise<void> => {
      // A copy per call, as a request's own bytes: kms zeroes the data key it was sent.
      const wrapped = await fixture.wrap({ source, key, plaintext: Buffer.from(dek), aad });
      const unwrapped = await fixture.unwrap({ source, key, ciphertext: wrapped.ciphertext, aad });
      if (!dek.equals(unwrapped.plaintext)) throw new Error('kms unwrapped another DEK than it wrapped');
    };
    await operation();
    if (authorizationChecks.count === 0) throw new Error('kms wrapped without asking iam.authorization.check');
    const result = await warmThenMeasure(operation, { ...settings, concurrency });
    return { unit: 'ops/s', ...result };
  } finally {
    await fixture.close();
  }
}

export function kmsCases(settings: BenchSettings): BenchCase[] {
  const pair = 'kms.key.wrap + kms.key.unwrap of a 32-byte DEK to KmsModule (SQLite, key-protect, Pkcs11Hsm on a SoftHSM2 temp token)';
  const iam = 'iam.authorization.check allowed by a bench controller and cached by kms';
  return [
    {
      name: 'kms.inproc.wrap-unwrap.seq',
      description: `${pair}, through the in-process transport (no NATS), ${iam}, one at a time`,
      baseline: 'hsm.pkcs11.wrap-unwrap.seq',
      run: (current) => measureKms(current, 'inproc', 1),
    },
    {
      name: 'kms.inproc.wrap-unwrap.conc',
      description: `same as kms.inproc.wrap-unwrap.seq, ${settings.concurrency} pairs in flight`,
      baseline: 'hsm.pkcs11.wrap-unwrap.conc',
      run: (current) => measureKms(current, 'inproc', current.concurrency),
    },
    {
      name: 'kms.nats.wrap-unwrap.seq',
      description: `RpcClient ${pair} over NATS, ${iam}, one at a time`,
      baseline: 'hsm.pkcs11.wrap-unwrap.seq',
      uses: ['nats'],
      run: (current) => measureKms(current, 'nats', 1),
    },
    {
      name: 'kms.nats.wrap-unwrap.conc',
      description: `same as kms.nats.wrap-unwrap.seq, ${settings.concurrency} pairs in flight`,
      baseline: 'hsm.pkcs11.wrap-unwrap.conc',
      uses: ['nats'],
      run: (current) => measureKms(current, 'nats', current.concurrency),
    },
  ];
}
