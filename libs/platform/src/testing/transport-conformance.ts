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
  type ServiceName,
  type ValidatedRequestOf,
} from '@sealbox/contracts';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { createLogger, rootLogger, setRootLogger } from '../logging/logger.js';
import { PlatformModule } from '../nest/platform.module.js';
import { RpcClient, type RpcClientProxy } from '../rpc/client.js';
import { activeDeadline } from '../rpc/deadline.js';
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

/**
 * The suite only uses the `<service>.health` subjects: they exist for every service and share one
 * stable schema, so the suite does not change when a service's own subjects get their payloads.
 * Each service of the test plays one part.
 */
const report = (service: ServiceName, checks: HealthResponse['checks'] = {}): HealthResponse => ({
  service,
  version: SEALBOX_VERSION,
  replica: `conformance-${service}`,
  status: 'ok',
  checks,
});
const IAM_REPORT = report('iam', { database: { ok: true }, cache: { ok: false, detail: 'cold' } });
const SERVED_AT = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
/** What an unexpected error carries that must never reach a caller. */
const LEAKED_SECRET = 'hunter2-do-not-leak';
const CONFLICT_MESSAGE = 'An API key named "ci" already exists';
/** Bytes the echo handler answers with: every value of a byte, so any re-encoding would show. */
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
/** The byte buffers the echo handler answered with (each asked to be zeroed after the reply). */
const answered: Buffer[] = [];
/** Request id that makes the echo handler wait for the gate. */
const SLOW = 'slow';

/** iam: answers with a fixed report (the typed round trip). */
@Controller()
class FixedReportController {
  @RpcHandler('iam.health')
  async health(): Promise<HealthResponse> {
    return IAM_REPORT;
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

/** The request metadata as the echo handler reports it. */
type EchoedMeta = Omit<RpcMeta, 'subject'> & { readonly subject: string };

/**
 * kms: echoes the request metadata (in the detail of a check) and shows what the JSON hop does to a
 * response; a request with id `slow` waits for the gate.
 */
@Controller()
class EchoController {
  constructor(@Inject(GATE) private readonly gate: Gate) {}

  @RpcHandler('kms.health')
  async health(_request: ValidatedRequestOf<'kms.health'>, meta: RpcMeta): Promise<HealthResponse> {
    if (meta.requestId === SLOW) {
      this.gate.entered++;
      await this.gate.opened;
    }
    // The bytes go out in a buffer the transport zeroes once the reply is encoded.
    const bytes = Buffer.from(BINARY);
    meta.zeroAfterReply?.(bytes);
    answered.push(bytes);
    return {
      ...report('kms', {
        meta: { ok: true, detail: JSON.stringify({ ...meta, zeroAfterReply: undefined }) },
        dropped: { ok: true, detail: undefined },
        deadline: { ok: true, detail: String(activeDeadline()) },
        // Binary travels as bytes (responses are not validated at runtime: a Buffer where a string is declared).
        bytes: { ok: true, detail: bytes as unknown as string },
      }),
      // Responses are not validated at runtime: a Date where the registry says string reaches the
      // caller as whatever JSON makes of it, on every transport.
      replica: SERVED_AT as unknown as string,
    };
  }
}

/** crypto: fails with a domain error. */
@Controller()
class ConflictController {
  @RpcHandler('crypto.health')
  async health(): Promise<HealthResponse> {
    throw new DomainError('CONFLICT', CONFLICT_MESSAGE);
  }
}

/** storage: fails with an unexpected error whose message holds internals. */
@Controller()
class CrashController {
  @RpcHandler('storage.health')
  async health(): Promise<HealthResponse> {
    throw new Error(`connect to postgres://sealbox@db failed: db password=${LEAKED_SECRET} rejected`);
  }
}

const CALLER: Caller = { iamId: 'IBMid-conformance', accountId: 'a1b2c3', subType: 'user' };

function spanNamed(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const matching = spans.filter((span) => span.name === name);
  expect(matching, `exactly one span named "${name}"`).toHaveLength(1);
  return matching[0] as ReadableSpan;
}

function echoedMeta(response: HealthResponse): EchoedMeta {
  const detail = response.checks['meta']?.detail;
  if (detail === undefined) throw new Error('the echo handler reported no metadata');
  return JSON.parse(detail) as EchoedMeta;
}

/**
 * Register the conformance tests for one transport. Services: `iam` (fixed report), `kms` (echo,
 * optionally slow), `crypto` (domain error), `storage` (unexpected error), `secrets` (served, but
 * nothing implemented: the NOT_IMPLEMENTED fallback), and nobody serving `lifecycle`.
 */
export function describeTransportConformance(name: string, factory: TransportFactory): void {
  describe(`RPC transport conformance: ${name}`, () => {
    const spans = conformanceSpans();
    let transport: TransportUnderTest;
    const services = new Map<ServiceName, INestMicroservice>();
    let caller: { context: INestApplicationContext; client: RpcClient };
    const gate = new Gate();
    const logLines: string[] = [];
    const previousRootLogger = rootLogger();

    beforeAll(async () => {
      setRootLogger(createLogger({ app: 'conformance', level: 'error' }, { write: (line: string) => void logLines.push(line) }));
      transport = await factory();
      const serve = async (service: ServiceName, controllers: Type[], providers: Provider[] = []) => {
        services.set(service, await startService(service, transport.server(service), controllers, providers));
      };
      await serve('iam', [FixedReportController]);
      await serve('kms', [EchoController], [{ provide: GATE, useValue: gate }]);
      await serve('crypto', [ConflictController]);
      await serve('storage', [CrashController]);
      await serve('secrets', []);
      caller = await startCaller(transport.clientProxy());
    });

    afterAll(async () => {
      gate.open();
      await caller?.context.close();
      for (const app of services.values()) await app.close();
      await transport?.close();
      setRootLogger(previousRootLogger);
    });

    beforeEach(() => {
      spans.reset();
    });

    it('round-trips a typed response', async () => {
      const answer: HealthResponse = await caller.client.send('iam.health', {});
      expect(answer).toEqual(IAM_REPORT);
    });

    it('applies JSON semantics to a response: a Date becomes its ISO string, undefined fields vanish', async () => {
      const answer = await caller.client.send('kms.health', {});
      expect(answer.replica).toBe(SERVED_AT.toISOString());
      expect(answer.checks['dropped']).toEqual({ ok: true });
      expect(answer.checks['dropped']).not.toHaveProperty('detail');
    });

    it('carries binary fields as bytes, unchanged, and zeroes the buffers a handler marked once the reply is encoded', async () => {
      const answer = await caller.client.send('kms.health', {});
      const bytes = answer.checks['bytes']?.detail as unknown;
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(bytes as Uint8Array).equals(BINARY)).toBe(true);
      const sent = answered.at(-1);
      expect(sent?.length).toBe(BINARY.length);
      expect(sent?.every((byte) => byte === 0)).toBe(true);
    });

    it("gives the handler the caller's deadline as its own (a retry-safe call's first try: half of it)", async () => {
      const before = Date.now();
      const answer = await caller.client.send('kms.health', {}, { timeoutMs: 1500 });
      const deadline = Number(answer.checks['deadline']?.detail);
      expect(deadline).toBeGreaterThanOrEqual(before + 750);
      expect(deadline).toBeLessThanOrEqual(Date.now() + 750);
    });

    it('delivers the caller and the request id to the handler', async () => {
      const answer = await caller.client.send('kms.health', {}, { caller: CALLER, requestId: 'req-42' });
      expect(echoedMeta(answer)).toEqual({ subject: 'kms.health', caller: CALLER, requestId: 'req-42' });
    });

    it('delivers no caller and no request id when none was sent', async () => {
      const answer = await caller.client.send('kms.health', {});
      expect(echoedMeta(answer)).toEqual({ subject: 'kms.health' });
    });

    it('answers concurrent requests each with its own response', async () => {
      const requestIds = Array.from({ length: 25 }, (_, index) => `req-${index}`);
      const answers = await Promise.all(requestIds.map((requestId) => caller.client.send('kms.health', {}, { requestId })));
      expect(answers.map((answer) => echoedMeta(answer).requestId)).toEqual(requestIds);
    });

    it('rejects a payload that breaks the registry schema with VALIDATION_FAILED naming the offending field', async () => {
      // The typed client does not let this payload compile; a cast through unknown plays a buggy or
      // hostile caller.
      const invalid = { extra: 1 } as unknown as Record<string, never>;
      const error = await domainErrorOf(caller.client.send('iam.health', invalid));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.fields).toEqual([{ field: 'extra', message: 'Unrecognized key' }]);
      expect(error.message).toBe('The request is invalid: extra: Unrecognized key');
    });

    it('rejects a payload of the wrong type with VALIDATION_FAILED on the payload itself', async () => {
      const invalid = 'not an object' as unknown as Record<string, never>;
      const error = await domainErrorOf(caller.client.send('iam.health', invalid));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.fields).toEqual([{ field: '(root)', message: expect.stringContaining('expected object') }]);
    });

    it('preserves the code and message of a domain error', async () => {
      const error = await domainErrorOf(caller.client.send('crypto.health', {}));
      expect(error.code).toBe('CONFLICT');
      expect(error.message).toBe(CONFLICT_MESSAGE);
      expect(error.traceId).toBeUndefined();
      expect(error.fields).toBeUndefined();
    });

    it('turns an unexpected error into INTERNAL with the trace id and none of its message', async () => {
      const error = await domainErrorOf(caller.client.send('storage.health', {}));
      expect(error.code).toBe('INTERNAL');
      expect(error.message).toBe('An internal error occurred');
      expect(JSON.stringify(error.toWire())).not.toMatch(/password|postgres|hunter2/);
      const producer = spanNamed(spans.getFinishedSpans(), 'storage.health send');
      expect(error.traceId).toBe(producer.spanContext().traceId);
      // The details stay in the service's log, findable by that trace id.
      const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({ subject: 'storage.health', trace_id: error.traceId, msg: 'unexpected error while handling a request' }),
      );
    });

    it('answers NOT_IMPLEMENTED for a declared subject the service does not implement yet', async () => {
      const error = await domainErrorOf(caller.client.send('secrets.health', {}));
      expect(error.code).toBe('NOT_IMPLEMENTED');
      expect(error.message).toBe('secrets.health is not implemented yet');
    });

    it('validates the payload of a subject that is not implemented yet', async () => {
      const invalid = { extra: 1 } as unknown as Record<string, never>;
      const error = await domainErrorOf(caller.client.send('secrets.health', invalid));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.fields).toEqual([{ field: 'extra', message: 'Unrecognized key' }]);
    });

    it('answers SERVICE_UNAVAILABLE when no instance serves the subject', async () => {
      const error = await domainErrorOf(caller.client.send('lifecycle.health', {}, { timeoutMs: 300 }));
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toBe('The lifecycle service cannot be reached');
    });

    it('answers SERVICE_UNAVAILABLE when the service does not answer before the deadline, and keeps working', async () => {
      const error = await domainErrorOf(caller.client.send('kms.health', {}, { timeoutMs: 150, requestId: SLOW }));
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toBe('The kms service did not answer within 150 ms');
      // A health check is retry-safe: tried once more after half the deadline, then given up.
      expect(gate.entered).toBe(2);
      gate.open();
      const answer = await caller.client.send('kms.health', {}, { requestId: 'after' });
      expect(echoedMeta(answer).requestId).toBe('after');
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

    it('keeps serving the other services when one service shuts down', async () => {
      await services.get('crypto')?.close();
      services.delete('crypto');
      await expect(caller.client.send('iam.health', {})).resolves.toEqual(IAM_REPORT);
      const error = await domainErrorOf(caller.client.send('crypto.health', {}, { timeoutMs: 300 }));
      expect(error.code).toBe('SERVICE_UNAVAILABLE');
    });
  });
}
