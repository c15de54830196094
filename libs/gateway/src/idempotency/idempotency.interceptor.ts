import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Clock, DomainError, rootLogger, RPC_CLIENT_OPTIONS, SchedulerLoop, validationFailed, type RpcClientOptions } from '@sealbox/platform';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { of, type Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import { auditOf } from '../auth/audit-context.js';
import { IdempotencyStore, leaseFor, type StoredResponse } from './idempotency.store.js';

export const GATEWAY_DATABASE = Symbol('sealbox:gateway:database');

/** The request header (IETF draft "The Idempotency-Key HTTP Header Field"). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set on a response replayed from a key's first request. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
/** Methods a key applies to: those a client cannot simply send again. */
const NON_IDEMPOTENT = new Set(['POST', 'PATCH']);
/** Response headers replayed with the body. */
const REPLAYED_HEADERS = ['content-type', 'location', 'etag', 'key-total'] as const;
/** Printable ASCII without spaces at the ends, 1 to 255 characters (a UUID is the usual choice). */
const KEY_FORMAT = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;
/** How often expired keys are removed. */
const PURGE_INTERVAL_MS = 10 * 60_000;

interface KeyState {
  readonly scope: string;
  readonly key: string;
  /** The claim of this request, until its response was stored or the claim released. */
  claimed?: boolean;
  replay?: StoredResponse;
}

const STATE = Symbol('sealbox:idempotency');
type WithState = { [STATE]?: KeyState };

/** The fingerprint of a request: its method, URL and body. */
function fingerprintOf(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest('hex');
}

/**
 * `Idempotency-Key` on creates and other non-idempotent requests (POST, PATCH), a Sealbox extension
 * of the IBM APIs: a request retried with the key of an earlier one (after a 503 or a timeout) is
 * answered the first one's response instead of being done twice. Keys belong to the identity that
 * sent them and are kept 24 hours. Only a successful (2xx) response is remembered: after an error
 * the key is free, and a retry runs the request again. The same key with another method, path or
 * body is 422 IDEMPOTENCY_KEY_REUSED; while the first request runs, a retry is 409
 * IDEMPOTENCY_KEY_IN_USE (until twice the RPC deadline and a second: then it cannot succeed any more).
 *
 * A Nest interceptor claims the key (it runs after the access guard, which names the identity); an
 * `onSend` hook stores what the request answered, or swaps in the stored answer for a replay.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor, OnModuleInit, OnApplicationShutdown {
  private readonly store: IdempotencyStore;
  private readonly purge: SchedulerLoop;

  constructor(
    @Inject(GATEWAY_DATABASE) private readonly dataSource: DataSource,
    clock: Clock,
    private readonly adapter: HttpAdapterHost,
    @Inject(RPC_CLIENT_OPTIONS) rpc: RpcClientOptions,
  ) {
    this.store = new IdempotencyStore(dataSource, clock, leaseFor(rpc.timeoutMs));
    this.purge = new SchedulerLoop(PURGE_INTERVAL_MS, clock, [{ name: 'idempotency key purge', runner: { runDue: () => this.store.purgeExpired() } }]);
  }

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    // Callback style: a response without a key passes through without a promise.
    fastify?.addHook('onSend', (request: FastifyRequest & WithState, reply, payload, done) => {
      if (!request[STATE]) {
        done(null, payload);
        return;
      }
      this.onSend(request, reply, payload).then(
        (sent) => done(null, sent),
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    });
    this.purge.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.purge.stop();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest & WithState>();
    const header = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (header === undefined || !NON_IDEMPOTENT.has(request.method)) return next.handle();
    const scope = auditOf(request).iamId;
    // A public route (the token exchange) has no identity to keep the key for: it runs as without one.
    if (!scope) return next.handle();
    return this.keyed(request, header, scope, next);
  }

  private async keyed(request: FastifyRequest & WithState, header: string | string[], scope: string, next: CallHandler): Promise<Observable<unknown>> {
    const key = Array.isArray(header) ? undefined : header;
    if (key === undefined || !KEY_FORMAT.test(key)) {
      throw validationFailed([{ field: 'Idempotency-Key', message: 'must be one value of 1 to 255 printable ASCII characters' }], 'The Idempotency-Key header');
    }
    const claim = await this.store.claim(scope, key, fingerprintOf(request));
    switch (claim.kind) {
      case 'claimed':
        request[STATE] = { scope, key, claimed: true };
        return next.handle();
      case 'replay':
        request[STATE] = { scope, key, replay: claim.response };
        // The body is swapped for the stored one in onSend.
        return of(undefined);
      case 'in-use':
        throw new DomainError('IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry once it finished');
      case 'reused':
        throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request (method, path or body)');
    }
  }

  private async onSend(request: FastifyRequest & WithState, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const state = request[STATE];
    if (!state) return payload;
    if (state.replay) {
      const stored = state.replay;
      state.replay = undefined;
      reply.code(stored.status);
      for (const [name, value] of Object.entries(stored.headers)) reply.header(name, value);
      reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      return stored.body;
    }
    if (!state.claimed) return payload;
    state.claimed = false;
    const status = reply.statusCode;
    try {
      if (status >= 200 && status < 300 && (typeof payload === 'string' || payload === undefined || payload === null)) {
        const headers: Record<string, string> = {};
        for (const name of REPLAYED_HEADERS) {
          const value = reply.getHeader(name);
          if (value !== undefined) headers[name] = String(value);
        }
        await this.store.complete(state.scope, state.key, { status, headers, body: typeof payload === 'string' ? payload : '' });
      } else {
        await this.store.release(state.scope, state.key);
      }
    } catch (error) {
      // The response stands; the key stays claimed until its lease ends, then a retry runs again.
      rootLogger().warn({ reason: error instanceof Error ? error.message : String(error) }, 'could not record the outcome of an Idempotency-Key');
    }
    return payload;
  }
}
