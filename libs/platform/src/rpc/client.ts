import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy, NatsRecordBuilder } from '@nestjs/microservices';
import { RpcHeaders, Subjects, type RequestOf, type ResponseOf, type Subject } from '@sealbox/contracts';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { DomainError, fromWireError, serviceUnavailable } from '../errors/index.js';
import { injectTraceContext, inSpan, SpanKind } from '../tracing/tracer.js';
import { toNatsHeaders, type Caller, type HeaderMap } from './headers.js';

export const RPC_CLIENT_PROXY = Symbol('sealbox:rpc-client-proxy');
export const RPC_CLIENT_OPTIONS = Symbol('sealbox:rpc-client-options');

/** The two methods of a Nest ClientProxy the RPC client needs (NATS or in-process). */
export type RpcClientProxy = Pick<ClientProxy, 'send' | 'close'>;

export interface RpcClientOptions {
  /** How long to wait for an answer before SERVICE_UNAVAILABLE. */
  readonly timeoutMs: number;
}

export interface SendOptions {
  readonly timeoutMs?: number;
  readonly caller?: Caller;
  readonly requestId?: string;
}

/**
 * The typed way to call another service. Subject and payload types come from the registry in
 * libs/contracts; the answer is either the typed response or a DomainError (never a hang: every
 * call has a deadline and a missing or slow service is SERVICE_UNAVAILABLE).
 */
@Injectable()
export class RpcClient {
  constructor(
    @Inject(RPC_CLIENT_PROXY) private readonly proxy: RpcClientProxy,
    @Inject(RPC_CLIENT_OPTIONS) private readonly options: RpcClientOptions,
  ) {}

  async send<S extends Subject>(subject: S, request: RequestOf<S>, options: SendOptions = {}): Promise<ResponseOf<S>> {
    const deadline = options.timeoutMs ?? this.options.timeoutMs;
    const service = Subjects[subject].service;
    return inSpan(
      `${subject} send`,
      SpanKind.PRODUCER,
      { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'send' },
      async () => {
        const headers: HeaderMap = injectTraceContext({});
        if (options.caller) headers[RpcHeaders.caller] = JSON.stringify(options.caller);
        if (options.requestId) headers[RpcHeaders.requestId] = options.requestId;
        const record = new NatsRecordBuilder(request).setHeaders(toNatsHeaders(headers)).build();
        try {
          return await firstValueFrom(this.proxy.send<ResponseOf<S>>(subject, record).pipe(timeout(deadline)));
        } catch (error) {
          throw this.toDomainError(error, service, deadline);
        }
      },
    );
  }

  private toDomainError(error: unknown, service: string, deadline: number): DomainError {
    if (error instanceof TimeoutError) {
      return serviceUnavailable(`The ${service} service did not answer within ${deadline} ms`);
    }
    if (error instanceof Error) {
      // Transport failures (connection refused or closed): the service cannot be reached.
      return serviceUnavailable(`The ${service} service cannot be reached`);
    }
    return fromWireError(error);
  }
}
