import { Inject, Injectable } from '@nestjs/common';
import { RetrySafeSubjects, RpcHeaders, Subjects, type RequestOf, type ResponseOf, type Subject } from '@sealbox/contracts';
import { DomainError, fromWireError, serviceUnavailable, validationFailed } from '../errors/index.js';
import { rootLogger } from '../logging/index.js';
import { injectTraceContext, inSpan, SpanKind } from '../tracing/tracer.js';
import { decodeReply, encodeRequest, illFormedStringPath } from './codec.js';
import { activeDeadline, HOP_MARGIN_MS } from './deadline.js';
import { activeIdempotencyKey, addIdempotencyHeaders } from './idempotency.js';
import type { Caller, HeaderMap } from './headers.js';
import { RpcTransportError, type RpcTransportClient } from './transport.js';

export const RPC_CLIENT_PROXY = Symbol('sealbox:rpc-client-proxy');
export const RPC_CLIENT_OPTIONS = Symbol('sealbox:rpc-client-options');

/** What the RPC client sends through: NATS or the in-process bus. */
export type RpcClientProxy = RpcTransportClient;

export interface RpcClientOptions {
  /** How long to wait for an answer before SERVICE_UNAVAILABLE (less when the request being handled has less left). */
  readonly timeoutMs: number;
}

export interface SendOptions {
  readonly timeoutMs?: number;
  readonly caller?: Caller;
  readonly requestId?: string;
}

/** The longest first try of a retry-safe call: a frozen replica costs a read this much, not the whole deadline. */
export const FIRST_TRY_MAX_MS = 1000;
/** A second try needs at least this much time left to be worth sending. */
const MIN_RETRY_MS = 50;

function firstTryMs(budget: number): number {
  return budget >= 2 * MIN_RETRY_MS ? Math.min(FIRST_TRY_MAX_MS, Math.floor(budget / 2)) : budget;
}

const isTimeout = (error: unknown) => error instanceof RpcTransportError && error.kind === 'timeout';
/** No reply, and the request may have been lost on the way: a retry-safe call is sent again. */
const isRetriable = (error: unknown) => error instanceof RpcTransportError && (error.kind === 'timeout' || error.kind === 'disconnected');

/** The transport's promise, or a timeout RpcTransportError once `budgetMs` passed, whichever comes first. */
function withinBudget(reply: Promise<Uint8Array>, subject: string, budgetMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new RpcTransportError('timeout', `no reply to ${subject} within ${budgetMs} ms`)), budgetMs);
    reply.then(
      (bytes) => {
        clearTimeout(timer);
        resolve(bytes);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The typed way to call another service. Subject and payload types come from the registry in
 * libs/contracts; the answer is either the typed response or a DomainError (never a hang: every
 * call has a deadline, and a missing, slow or unreachable service is SERVICE_UNAVAILABLE naming it).
 * A call made while handling a request gets at most what remains of that request's deadline (minus
 * a margin), so the innermost failure is the one reported.
 */
@Injectable()
export class RpcClient {
  constructor(
    @Inject(RPC_CLIENT_PROXY) private readonly transport: RpcClientProxy,
    @Inject(RPC_CLIENT_OPTIONS) private readonly options: RpcClientOptions,
  ) {}

  async send<S extends Subject>(subject: S, request: RequestOf<S>, options: SendOptions = {}): Promise<ResponseOf<S>> {
    const service = Subjects[subject].service;
    const illFormed = illFormedStringPath(request);
    if (illFormed !== undefined) throw validationFailed([{ field: illFormed, message: 'must be well-formed Unicode (no lone surrogates)' }]);
    const now = Date.now();
    let budget = options.timeoutMs ?? this.options.timeoutMs;
    const inherited = activeDeadline();
    if (inherited !== undefined) budget = Math.min(budget, inherited - now - HOP_MARGIN_MS);
    if (budget <= 0) throw serviceUnavailable(`No time was left to call the ${service} service before the request's deadline`);
    return inSpan(
      `${subject} send`,
      SpanKind.PRODUCER,
      { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'send' },
      async () => {
        const headers: HeaderMap = injectTraceContext({});
        if (options.caller) headers[RpcHeaders.caller] = JSON.stringify(options.caller);
        if (options.requestId) headers[RpcHeaders.requestId] = options.requestId;
        addIdempotencyHeaders(headers, subject);
        const attempt = (ms: number) => {
          // Each try carries its own deadline: a replica that gets it late (it was frozen) drops it.
          headers[RpcHeaders.deadline] = String(Date.now() + ms);
          return withinBudget(this.transport.request(subject, encodeRequest(headers, request), ms), subject, ms);
        };
        let bytes: Uint8Array;
        try {
          const first = RetrySafeSubjects.has(subject) ? firstTryMs(budget) : budget;
          try {
            bytes = await attempt(first);
          } catch (error) {
            const left = now + budget - Date.now();
            if (!RetrySafeSubjects.has(subject) || !isRetriable(error) || left < MIN_RETRY_MS) throw error;
            // No answer in time (most likely a replica that stopped), or the connection dropped with the
            // request in flight. Once more, to whichever member NATS picks now, on the current connection.
            bytes = await attempt(left);
          }
        } catch (error) {
          throw this.unavailable(error, subject, service, budget);
        }
        let reply;
        try {
          reply = decodeReply(bytes);
        } catch {
          throw new DomainError('INTERNAL', `The ${service} service answered something that is not a reply`);
        }
        if ('err' in reply) throw fromWireError(reply.err);
        if (reply.replayed) activeIdempotencyKey()?.onReplay?.();
        return reply.ok as ResponseOf<S>;
      },
    );
  }

  /** No reply: the service is unavailable (logged here with the trace id, as the caller sees a 503). */
  private unavailable(error: unknown, subject: string, service: string, budget: number): DomainError {
    const timedOut = isTimeout(error);
    const failure = serviceUnavailable(timedOut ? `The ${service} service did not answer within ${budget} ms` : `The ${service} service cannot be reached`);
    // The log line carries the trace id of the active span (the logger adds it).
    rootLogger().warn({ subject, service, reason: error instanceof Error ? error.message : String(error) }, 'an RPC call got no reply');
    return failure;
  }
}
