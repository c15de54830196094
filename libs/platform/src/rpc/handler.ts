import { MessagePattern, Payload } from '@nestjs/microservices';
import { SpanStatusCode } from '@opentelemetry/api';
import { RetrySafeSubjects, RpcHeaders, Subjects, type ResponseOf, type Subject, type ValidatedRequestOf } from '@sealbox/contracts';
import { fieldIssuesOf, isDomainError, serviceUnavailable, toWireError, validationFailed } from '../errors/index.js';
import { rootLogger } from '../logging/index.js';
import { databaseUnavailable, isConnectionLoss } from '../persistence/connection-loss.js';
import { activeTraceId, extractTraceContext, inSpan, SpanKind } from '../tracing/tracer.js';
import type { ReplyFrame, RequestFrame } from './codec.js';
import { deadlinePassed, parseDeadline, withDeadline } from './deadline.js';
import { callerFrom, type Caller, type HeaderMap } from './headers.js';
import { idempotencyKeyFrom, type IdempotencyKey } from './idempotency.js';

/** What a handler learns about the request besides its payload. */
export interface RpcMeta {
  readonly subject: Subject;
  readonly caller?: Caller;
  readonly requestId?: string;
  /**
   * The request's Idempotency-Key, scoped to its identity, when the gateway forwarded one (only to
   * IdempotentSubjects): the handler records it with its write (`IdempotencyRecords`).
   */
  readonly idempotency?: IdempotencyKey;
  /**
   * Zero these buffers once the reply is encoded: a response that carries secret bytes (an opened
   * plaintext, a data key) hands them to the transport without a copy left behind in memory.
   */
  zeroAfterReply?(...buffers: Uint8Array[]): void;
}

/** Where a reply frame keeps the buffers to zero after encoding (a symbol: never encoded). */
export const ZERO_AFTER_REPLY = Symbol('sealbox:zero-after-reply');

/** A reply frame, with the buffers its handler asked to have zeroed once it is encoded. */
export type HandledReply = ReplyFrame & { [ZERO_AFTER_REPLY]?: Uint8Array[] };

export type RpcHandlerFn<S extends Subject> = (
  request: ValidatedRequestOf<S>,
  meta: RpcMeta,
) => Promise<ResponseOf<S>>;

/**
 * Run one incoming request and answer its reply frame (never throws): work whose deadline already
 * passed is not started; a CONSUMER span continues the caller's trace, with the request's deadline in
 * the active context for the calls the handler makes; the payload is validated against the registry
 * schema; errors are serialized for the wire (unknown errors logged, then sent as INTERNAL with only
 * the trace id).
 */
export async function consume<S extends Subject>(
  subject: S,
  data: unknown,
  headers: HeaderMap | undefined,
  handle: (request: ValidatedRequestOf<S>, meta: RpcMeta) => Promise<ResponseOf<S>>,
): Promise<HandledReply> {
  const deadline = parseDeadline(headers?.[RpcHeaders.deadline]);
  if (deadline !== undefined && Date.now() >= deadline) {
    // The caller has given up: its answer is already a timeout, and starting would only do work nobody waits for.
    return { err: serviceUnavailable(`The ${Subjects[subject]?.service ?? 'remote'} service received ${subject} after its deadline`).toWire() };
  }
  const parent = withDeadline(extractTraceContext(headers), deadline);
  return inSpan(
    `${subject} process`,
    SpanKind.CONSUMER,
    { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'process' },
    async (span): Promise<HandledReply> => {
      const scrub: Uint8Array[] = [];
      try {
        const parsed = Subjects[subject].request.safeParse(data);
        if (!parsed.success) throw validationFailed(fieldIssuesOf(parsed.error));
        const requestId = headers?.[RpcHeaders.requestId] || undefined;
        const caller = callerFrom(headers);
        const received = idempotencyKeyFrom(headers);
        let replayed = false;
        const idempotency = received && { ...received, onReplay: () => void (replayed = true) };
        const meta: RpcMeta = {
          subject,
          ...(caller ? { caller } : {}),
          ...(requestId ? { requestId } : {}),
          ...(idempotency ? { idempotency } : {}),
          zeroAfterReply: (...buffers) => void scrub.push(...buffers),
        };
        const ok = await handleOnFreshConnection(subject, () => handle(parsed.data as ValidatedRequestOf<S>, meta));
        const reply: HandledReply = replayed ? { ok, replayed: true } : { ok };
        if (scrub.length > 0) reply[ZERO_AFTER_REPLY] = scrub;
        return reply;
      } catch (thrown) {
        for (const buffer of scrub) buffer.fill(0);
        let error = thrown;
        if (isConnectionLoss(error)) {
          // The database went away under the request: the caller may retry, so this is a 503, not a 500.
          rootLogger().warn({ subject, reason: error instanceof Error ? error.message : String(error) }, 'the database connection was lost');
          error = databaseUnavailable(Subjects[subject].service);
        } else if (!isDomainError(error)) {
          rootLogger().error({ err: error, subject }, 'unexpected error while handling a request');
        }
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
        return { err: toWireError(error, activeTraceId()) };
      }
    },
    parent,
  );
}

/**
 * How long a retry waits for the pool to drop the dead connection: PostgreSQL's error reaches the
 * query before the socket closes, so at once the pool could hand out the same connection again.
 */
const FRESH_CONNECTION_DELAY_MS = 50;

/**
 * Run a handler; when it fails because the database connection was lost (a restart, a terminated
 * backend) and its subject is one a caller may send twice (RetrySafeSubjects), run it once more on a
 * fresh connection. Not when the deadline has passed (nobody waits for the answer).
 */
async function handleOnFreshConnection<T>(subject: Subject, handle: () => Promise<T>): Promise<T> {
  try {
    return await handle();
  } catch (error) {
    if (!isConnectionLoss(error) || !RetrySafeSubjects.has(subject)) throw error;
    await new Promise((resolve) => setTimeout(resolve, FRESH_CONNECTION_DELAY_MS));
    if (deadlinePassed()) throw error;
    rootLogger().warn({ subject, reason: error instanceof Error ? error.message : String(error) }, 'the database connection was lost; trying once more');
    return handle();
  }
}

/**
 * Marks a controller method as the handler of a registry subject. The method's types come from the
 * registry, so a handler for the wrong payload does not compile. Nest discovers it (as a message
 * pattern) and registers it on the service's transport, which hands it the decoded request frame.
 */
export function RpcHandler<S extends Subject>(subject: S) {
  return function <T extends RpcHandlerFn<S>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): TypedPropertyDescriptor<T> {
    const handler = descriptor.value;
    if (!handler) throw new Error(`@RpcHandler('${subject}') must decorate a method`);
    const wrapped = function (this: unknown, frame: RequestFrame) {
      return consume(subject, frame.d, frame.h, (request, meta) => handler.call(this, request, meta));
    };
    Object.defineProperty(wrapped, 'name', { value: handler.name });
    descriptor.value = wrapped as unknown as T;
    MessagePattern(subject)(target, propertyKey, descriptor);
    // Nest passes a handler only the arguments it has parameter metadata for: the frame.
    Payload()(target, propertyKey, 0);
    return descriptor;
  };
}
