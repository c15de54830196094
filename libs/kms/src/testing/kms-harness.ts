import 'reflect-metadata';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { CloudEvent, IamWire, RequestOf, ResponseOf, Subject, ValidatedRequestOf } from '@sealbox/contracts';
import { createHsm, type HsmConfig } from '@sealbox/hsm';
import {
  DomainError,
  InProcessBus,
  InProcessClient,
  InProcessEventBus,
  InProcessServer,
  ManualClock,
  PlatformModule,
  RpcClient,
  RpcHandler,
  type Caller,
  type DatabaseConfig,
} from '@sealbox/platform';
import { pino } from 'pino';
import { KmsModule } from '../kms.module.js';
import { KMS_HSM, type KmsDomainOptions } from '../tokens.js';
import { SwitchableHsm } from './switchable-hsm.js';

export interface KmsHarnessOptions {
  readonly database: DatabaseConfig;
  readonly hsm: HsmConfig;
  readonly domain?: Partial<KmsDomainOptions>;
}

export interface KmsHarness {
  readonly app: INestMicroservice;
  readonly client: RpcClient;
  readonly clock: ManualClock;
  /** Every event the outbox relay published, in order. */
  readonly events: CloudEvent[];
  /** The bus the relay publishes to and the module subscribes to (publish on it as another replica would). */
  readonly eventBus: InProcessEventBus;
  /** The HSM, switchable off (503) and on again. */
  readonly hsm: SwitchableHsm;
  /** `iam.authorization.check` requests the fake iam answered. */
  readonly authorizationChecks: ValidatedRequestOf<'iam.authorization.check'>[];
  /** What the fake iam answers to service-to-service authorization checks. */
  allowServices: boolean;
  /** A request as the gateway sends it, for `caller`. */
  call<S extends Subject>(subject: S, request: RequestOf<S>, caller?: Caller): Promise<ResponseOf<S>>;
  /** The DomainError a request fails with. */
  failure(subject: Subject, request: unknown, caller?: Caller): Promise<DomainError>;
  close(): Promise<void>;
}

export const userOf = (accountId: string, iamId = 'IBMid-user-1'): Caller => ({ accountId, iamId, subType: 'user' });

/**
 * The kms module as a process composes it (PlatformModule with a ManualClock, the module's handlers
 * on the in-process transport, the outbox relay publishing to an in-process bus), its HSM behind a
 * switch, and a fake iam answering the service-to-service authorization check.
 */
export async function startKms(options: KmsHarnessOptions): Promise<KmsHarness> {
  const bus = new InProcessBus();
  const eventBus = new InProcessEventBus();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const events: CloudEvent[] = [];
  eventBus.subscribe('events.>', (_subject, event) => {
    events.push(event);
  });
  const hsm = new SwitchableHsm(createHsm(options.hsm));
  const authorizationChecks: ValidatedRequestOf<'iam.authorization.check'>[] = [];
  const state = { allowServices: true };

  @Controller()
  class FakeIam {
    @RpcHandler('iam.authorization.check')
    async check(request: ValidatedRequestOf<'iam.authorization.check'>): Promise<IamWire.Decision> {
      authorizationChecks.push(request);
      return state.allowServices ? { allowed: true, policyId: 'test-authorization' } : { allowed: false, reason: 'no authorization policy' };
    }
  }

  const moduleRef = await Test.createTestingModule({
    imports: [
      PlatformModule.forRoot({
        logger: pino({ level: 'silent' }),
        clientProxy: new InProcessClient(bus),
        rpcTimeoutMs: 20_000,
        eventPublisher: eventBus,
        eventSubscriber: eventBus,
        clock,
      }),
      // The scheduler timer is off: tests run the schedulers themselves, at the manual clock's time.
      KmsModule.register({ database: options.database, hsm: options.hsm, domain: { importTokenRsaBits: 2048, schedulerIntervalMs: 0, ...options.domain } }),
    ],
    controllers: [FakeIam],
  })
    .overrideProvider(KMS_HSM)
    .useValue(hsm)
    .compile();
  const app = moduleRef.createNestMicroservice({ strategy: new InProcessServer(bus), logger: false });
  await app.listen();
  const client = app.get(RpcClient);

  const call = <S extends Subject>(subject: S, request: RequestOf<S>, caller?: Caller) =>
    client.send(subject, request, caller ? { caller } : {});
  return {
    app,
    client,
    clock,
    events,
    eventBus,
    hsm,
    authorizationChecks,
    get allowServices() {
      return state.allowServices;
    },
    set allowServices(value: boolean) {
      state.allowServices = value;
    },
    call,
    async failure(subject, request, caller) {
      try {
        await call(subject, request as RequestOf<typeof subject>, caller);
      } catch (error) {
        if (error instanceof DomainError) return error;
        throw error;
      }
      throw new Error(`expected ${subject} to fail`);
    },
    close: () => app.close(),
  };
}
