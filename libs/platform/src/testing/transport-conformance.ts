/**
 * ONE conformance suite for the RPC transports. The in-process transport (apps/standalone) and NATS
 * (the distributed deployment) run the same domain code, so they must behave the same from a
 * handler's and a caller's point of view: this suite is run against both (unit tier: in-process,
 * medium tier: NATS on 127.0.0.1:4222), and a transport is "done" when it passes it.
 *
 * It builds real Nest microservices (one per service, as `runService` does) whose controllers use
 * `@RpcHandler` on registry subjects, and calls them through `RpcClient` from `PlatformModule.forRoot`.
 *
 * Lives under src/testing/ so the library build (which excludes that folder) never ships it.
 */
import 'reflect-metadata';
import {
  Controller,
  Inject,
  Module,
  type INestApplicationContext,
  type INestMicroservice,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  subjectsOf,
  type HealthResponse,
  type ResponseOf,
  type ServiceName,
  type ValidatedRequestOf,
} from '@sealbox/contracts';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { createLogger, rootLogger, setRootLogger } from '../logging/logger.js';
import { PlatformModule } from '../nest/platform.module.js';
import { RpcClient, type RpcClientProxy } from '../rpc/client.js';
import { addNotImplementedHandlers } from '../rpc/fallback.js';
import { RpcHandler, type RpcMeta } from '../rpc/handler.js';
import type { Caller } from '../rpc/headers.js';
import { startTracing } from '../tracing/sdk.js';
import { SEALBOX_VERSION } from '../version.js';

/** A Nest transport strategy handlers can be added to (NATS or in-process). */
export type ServiceServer = Pick<Server, 'addHandler'> & CustomTransportStrategy;

/** What a transport provides to the suite. */
export interface TransportUnderTest {
  /** A new server (Nest transport strategy) for one service; on NATS it joins the service's queue group. */
  server(service: ServiceName): ServiceServer;
  /** A new client proxy, as a process's PlatformModule gets it. */
  clientProxy(): RpcClientProxy;
  /** Release what the transport holds once every server and client was closed. */
  close(): Promise<void>;
}

export type TransportFactory = () => TransportUnderTest | Promise<TransportUnderTest>;

let tracingExporter: InMemorySpanExporter | undefined;

/**
 * The in-memory span exporter of this process. The global tracer provider can be registered only
 * once per process (vitest runs each test file in its own process), so tracing starts on first use.
 */
export function conformanceSpans(): InMemorySpanExporter {
  if (!tracingExporter) {
    const exporter = new InMemorySpanExporter();
    startTracing('conformance', { exporter: 'custom', spanExporter: exporter });
    tracingExporter = exporter;
  }
  return tracingExporter;
}

/** A quiet logger for the Nest apps of a test. */
export const silentLogger = (): Logger => pino({ level: 'silent' });

/** A Nest microservice of one service on `server`, with the fallback answer for its undeclared subjects. */
export async function startService(
  service: ServiceName,
  server: ServiceServer,
  controllers: Type[],
  providers: Provider[] = [],
): Promise<INestMicroservice> {
  addNotImplementedHandlers(server, subjectsOf(service));
  @Module({ controllers, providers })
  class ServiceUnderTestModule {}
  const app = await NestFactory.createMicroservice(ServiceUnderTestModule, {
    strategy: server,
    logger: false,
    abortOnError: false,
  });
  await app.listen();
  return app;
}

/** A caller process (think: the gateway): PlatformModule with its RpcClient and nothing else. */
export async function startCaller(
  clientProxy: RpcClientProxy,
  rpcTimeoutMs = 2000,
): Promise<{ context: INestApplicationContext; client: RpcClient }> {
  @Module({
    imports: [
      PlatformModule.forRoot({
        logger: silentLogger(),
        clientProxy,
        rpcTimeoutMs,
        eventPublisher: { publish: async () => undefined },
      }),
    ],
  })
  class CallerModule {}
  const context = await NestFactory.createApplicationContext(CallerModule, { logger: false, abortOnError: false });
  return { context, client: context.get(RpcClient) };
}

/** Reject with whatever `promise` throws; fail the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The error of a call, which must be a DomainError. */
export async function domainErrorOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

const IAM_REPORT: HealthResponse = {
  service: 'iam',
  version: SEALBOX_VERSION,
  replica: 'conformance-iam',
  status: 'ok',
  checks: { database: { ok: true }, cache: { ok: false, detail: 'cold' } },
};
const KMS_REPORT: HealthResponse = { ...IAM_REPORT, service: 'kms', replica: 'conformance-kms', checks: {} };
const SERVED_AT = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
/** What an unexpected error carries that must never reach a caller. */
const LEAKED_SECRET = 'hunter2-do-not-leak';
const CONFLICT_MESSAGE = 'An API key named "ci" already exists';

@Controller()
class IamConformanceController {
  @RpcHandler('iam.health')
  async health(): Promise<HealthResponse> {
    return IAM_REPORT;
  }

  /** Echoes what arrived (payload after the JSON hop, and the request metadata). */
  @RpcHandler('iam.authorize')
  async echo(request: ValidatedRequestOf<'iam.authorize'>, meta: RpcMeta): Promise<ResponseOf<'iam.authorize'>> {
    return { received: request, meta, servedAt: SERVED_AT, gone: undefined };
  }

  @RpcHandler('iam.token.exchange')
  async conflict(): Promise<ResponseOf<'iam.token.exchange'>> {
    throw new DomainError('CONFLICT', CONFLICT_MESSAGE);
  }

  @RpcHandler('iam.jwks.get')
  async crash(): Promise<ResponseOf<'iam.jwks.get'>> {
    throw new Error(`connect to postgres://sealbox@db failed: db password=${LEAKED_SECRET} rejected`);
  }
}

/** Holds a handler until the test lets it go, to exceed a deadline without sleeping. */
class Gate {
  private release: () => void = () => undefined;
  readonly opened = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  entered = 0;
  open(): void {
    this.release();
  }
}
const GATE = Symbol('conformance:gate');

@Controller()
class KmsConformanceController {
  constructor(@Inject(GATE) private readonly gate: Gate) {}

  @RpcHandler('kms.health')
  async health(): Promise<HealthResponse> {
    return KMS_REPORT;
  }

  /** Answers only once the gate opens. */
  @RpcHandler('kms.instance.create')
  async slow(): Promise<ResponseOf<'kms.instance.create'>> {
    this.gate.entered++;
    await this.gate.opened;
    return { late: true };
  }
}

const CALLER: Caller = { iamId: 'IBMid-conformance', accountId: 'a1b2c3', subType: 'user' };

function spanNamed(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const matching = spans.filter((span) => span.name === name);
  expect(matching, `exactly one span named "${name}"`).toHaveLength(1);
  return matching[0] as ReadableSpan;
}

/**
 * Register the conformance tests for one transport. Services: `iam` (every subject implemented by the
 * test controller), `kms` (health and a slow handler; the rest left to NOT_IMPLEMENTED), and nobody
 * serving `lifecycle`.
 */
export function describeTransportConformance(name: string, factory: TransportFactory): void {
  describe(`RPC transport conformance: ${name}`, () => {
    const spans = conformanceSpans();
    let transport: TransportUnderTest;
    let iam: INestMicroservice;
    let kms: INestMicroservice | undefined;
    let caller: { context: INestApplicationContext; client: RpcClient };
    const gate = new Gate();
    const logLines: string[] = [];
    const previousRootLogger = rootLogger();

    beforeAll(async () => {
      setRootLogger(createLogger({ app: 'conformance', level: 'error' }, { write: (line: string) => void logLines.push(line) }));
      transport = await factory();
      iam = await startService('iam', transport.server('iam'), [IamConformanceController]);
      kms = await startService('kms', transport.server('kms'), [KmsConformanceController], [{ provide: GATE, useValue: gate }]);
      caller = await startCaller(transport.clientProxy());
    });

    afterAll(async () => {
      gate.open();
      await caller?.context.close();
      await kms?.close();
      await iam?.close();
      await transport?.close();
      setRootLogger(previousRootLogger);
    });

    beforeEach(() => {
      spans.reset();
    });

    it('round-trips a typed response', async () => {
      const report: HealthResponse = await caller.client.send('iam.health', {});
      expect(report).toEqual(IAM_REPORT);
    });

    it('applies JSON semantics to payloads in both directions: dates become strings, undefined fields vanish', async () => {
      const sentAt = new Date(Date.UTC(2026, 5, 7, 8, 9, 10, 11));
      const response = await caller.client.send('iam.authorize', { sentAt, nested: { list: [1, 'two', null] }, dropped: undefined });
      expect(response['servedAt']).toBe(SERVED_AT.toISOString());
      expect(response).not.toHaveProperty('gone');
      expect(response['received']).toEqual({ sentAt: sentAt.toISOString(), nested: { list: [1, 'two', null] } });
      expect(response['received']).not.toHaveProperty('dropped');
    });

    it('answers concurrent requests each with its own response', async () => {
      const indexes = Array.from({ length: 25 }, (_, index) => index);
      const responses = await Promise.all(indexes.map((index) => caller.client.send('iam.authorize', { index })));
      expect(responses.map((response) => response['received'])).toEqual(indexes.map((index) => ({ index })));
    });

    it('rejects a payload that breaks the registry schema with VALIDATION_FAILED naming the offending field', async () => {
      // The typed client does not let this payload compile; a cast through unknown plays a buggy or
      // hostile caller.
      const invalid = { extra: 1 } as unknown as Record<string, never>;
      const error = await domainErrorOf(caller.client.send('iam.health', invalid));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.fields).toEqual([{ field: 'extra', message: expect.stringMatching(/unrecognized key/i) }]);
      expect(error.message).toContain('extra');
    });

    it('rejects a payload of the wrong type with VALIDATION_FAILED on the payload itself', async () => {
      const invalid = 'not an object' as unknown as Record<string, unknown>;
      const error = await domainErrorOf(caller.client.send('iam.authorize', invalid));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.fields).toEqual([{ field: '(root)', message: expect.stringContaining('expected record') }]);
    });

    it('preserves the code and message of a domain error', async () => {
      const error = await domainErrorOf(caller.client.send('iam.token.exchange', {}));
      expect(error.code).toBe('CONFLICT');
      expect(error.message).toBe(CONFLICT_MESSAGE);
      expect(error.traceId).toBeUndefined();
    });

    it('turns an unexpected error into INTERNAL with the trace id and none of its message', async () => {
      const error = await domainErrorOf(caller.client.send('iam.jwks.get', {}));
      expect(error.code).toBe('INTERNAL');
      expect(error.message).toBe('An internal error occurred');
      expect(JSON.stringify(error.toWire())).not.toMatch(/password|postgres|hunter2/);
      const producer = spanNamed(spans.getFinishedSpans(), 'iam.jwks.get send');
      expect(error.traceId).toBe(producer.spanContext().traceId);
      // The details stay in the service's log, findable by that trace id.
      const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({ subject: 'iam.jwks.get', trace_id: error.traceId, msg: 'unexpected error while handling a request' }),
      );
    });

    it('answers NOT_IMPLEMENTED for a declared subject the service does not implement yet', async () => {
      const error = await domainErrorOf(caller.client.send('kms.key.wrap', {}));
      expect(error.code).toBe('NOT_IMPLEMENTED');
      expect(error.message).toBe('kms.key.wrap is not implemented yet');
    });

    it('validates the payload of a subject that is not implemented yet', async () => {
      const invalid = 42 as unknown as Record<string, unknown>;
      const error = await domainErrorOf(caller.client.send('kms.key.unwrap', invalid));
      expect(error.code).toBe('VALIDATION_FAILED');
    });

    it('answers SERVICE_UNAVAILABLE when no instance serves the subject', async () => {
      const error = await domainErrorOf(caller.client.send('lifecycle.health', {}, { timeoutMs: 300 }));
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toBe('The lifecycle service cannot be reached');
    });

    it('answers SERVICE_UNAVAILABLE when the service does not answer before the deadline, and keeps working', async () => {
      const error = await domainErrorOf(caller.client.send('kms.instance.create', {}, { timeoutMs: 150 }));
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toBe('The kms service did not answer within 150 ms');
      expect(gate.entered).toBe(1);
      gate.open();
      await expect(caller.client.send('kms.health', {})).resolves.toEqual(KMS_REPORT);
    });

    it('continues the caller trace in the consumer span', async () => {
      await caller.client.send('iam.health', {});
      const finished = spans.getFinishedSpans();
      const producer = spanNamed(finished, 'iam.health send');
      const consumer = spanNamed(finished, 'iam.health process');
      expect(producer.kind).toBe(SpanKind.PRODUCER);
      expect(consumer.kind).toBe(SpanKind.CONSUMER);
      expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
      expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
      expect(consumer.attributes['messaging.destination.name']).toBe('iam.health');
    });

    it('delivers the caller and the request id to the handler', async () => {
      const response = await caller.client.send('iam.authorize', {}, { caller: CALLER, requestId: 'req-42' });
      expect(response['meta']).toEqual({ subject: 'iam.authorize', caller: CALLER, requestId: 'req-42' });
    });

    it('delivers no caller when none was sent', async () => {
      const response = await caller.client.send('iam.authorize', {});
      expect(response['meta']).toEqual({ subject: 'iam.authorize' });
    });

    it('keeps serving the other services when one service shuts down', async () => {
      await kms?.close();
      kms = undefined;
      await expect(caller.client.send('iam.health', {})).resolves.toEqual(IAM_REPORT);
      const error = await domainErrorOf(caller.client.send('kms.health', {}, { timeoutMs: 300 }));
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
    });
  });
}
