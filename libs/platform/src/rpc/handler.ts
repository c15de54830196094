import { Ctx, MessagePattern, NatsContext, Payload, RpcException } from '@nestjs/microservices';
import { context } from '@opentelemetry/api';
import {
  Subjects,
  type ResponseOf,
  type Subject,
  type ValidatedRequestOf,
} from '@sealbox/contracts';
import { fieldIssuesOf, isDomainError, toWireError, validationFailed } from '../errors/index.js';
import { rootLogger } from '../logging/index.js';
import { activeTraceId, extractTraceContext, inSpan, SpanKind } from '../tracing/tracer.js';
import { callerFrom, type Caller, type HeaderReader } from './headers.js';
import { RpcHeaders } from '@sealbox/contracts';

/** What a handler learns about the request besides its payload. */
export interface RpcMeta {
  readonly subject: Subject;
  readonly caller?: Caller;
  readonly requestId?: string;
}

export type RpcHandlerFn<S extends Subject> = (
  request: ValidatedRequestOf<S>,
  meta: RpcMeta,
) => Promise<ResponseOf<S>>;

function headersOf(ctx: unknown): HeaderReader | undefined {
  if (ctx instanceof NatsContext) return ctx.getHeaders() as HeaderReader | undefined;
  return undefined;
}

/**
 * Run one incoming request: a CONSUMER span continuing the caller's trace, validation against the
 * registry schema, and errors serialized for the wire (unknown errors logged, then sent as INTERNAL
 * with only the trace id).
 */
export async function consume<S extends Subject>(
  subject: S,
  data: unknown,
  ctx: unknown,
  handle: (request: ValidatedRequestOf<S>, meta: RpcMeta) => Promise<ResponseOf<S>>,
): Promise<ResponseOf<S>> {
  const headers = headersOf(ctx);
  const parent = extractTraceContext(headers);
  return context.with(parent, () =>
    inSpan(
      `${subject} process`,
      SpanKind.CONSUMER,
      { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'process' },
      async () => {
        try {
          const parsed = Subjects[subject].request.safeParse(data);
          if (!parsed.success) throw validationFailed(fieldIssuesOf(parsed.error));
          const requestId = headers?.get(RpcHeaders.requestId) || undefined;
          const caller = callerFrom(headers);
          const meta: RpcMeta = { subject, ...(caller ? { caller } : {}), ...(requestId ? { requestId } : {}) };
          return await handle(parsed.data as ValidatedRequestOf<S>, meta);
        } catch (error) {
          if (!isDomainError(error)) {
            rootLogger().error({ err: error, subject }, 'unexpected error while handling a request');
          }
          throw new RpcException({ ...toWireError(error, activeTraceId()) });
        }
      },
      parent,
    ),
  );
}

/**
 * Marks a controller method as the handler of a registry subject. The method's types come from the
 * registry, so a handler for the wrong payload does not compile.
 */
export function RpcHandler<S extends Subject>(subject: S) {
  return function <T extends RpcHandlerFn<S>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): TypedPropertyDescriptor<T> {
    const handler = descriptor.value;
    if (!handler) throw new Error(`@RpcHandler('${subject}') must decorate a method`);
    const wrapped = function (this: unknown, data: unknown, ctx: unknown) {
      return consume(subject, data, ctx, (request, meta) => handler.call(this, request, meta));
    };
    Object.defineProperty(wrapped, 'name', { value: handler.name });
    descriptor.value = wrapped as unknown as T;
    MessagePattern(subject)(target, propertyKey, descriptor);
    // Nest passes a handler only the arguments it has parameter metadata for, by default the payload
    // alone: declare the context too, or the request headers (trace context, caller, request id)
    // never reach consume().
    Payload()(target, propertyKey, 0);
    Ctx()(target, propertyKey, 1);
    return descriptor;
  };
}
