import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { context as activeContext, type Context } from '@opentelemetry/api';
import { IdempotentSubjects } from '@sealbox/contracts';
import {
  Clock,
  DomainError,
  rootLogger,
  RPC_CLIENT_OPTIONS,
  SchedulerLoop,
  validationFailed,
  withDeadline,
  withIdempotencyKey,
  type RpcClientOptions,
} from '@sealbox/platform';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { of, type Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import { auditOf } from '../auth/audit-context.js';
import { OPERATION, type OperationDoc } from '../openapi/operation.js';
import { IdempotencyStore, LEASE_GRACE_MS, type StoredResponse } from './idempotency.store.js';

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
  /** The claim of this request (its lease end names it), until its response was stored or the claim released. */
  claimed?: number;
  replay?: StoredResponse;
  /** The key went to the service (IdempotentSubjects), which answered an earlier attempt's result. */
  replayedByService?: boolean;
}

const STATE = Symbol('sealbox:idempotency');
type WithState = { [STATE]?: KeyState };

/**
 * Run the rest of the request (the handler and the RPC calls it makes) in `active`: Nest binds the
 * handler to the async context in which `handle()` is called.
 */
function runIn(active: Context, next: CallHandler): Observable<unknown> {
  return activeContext.with(active, () => next.handle());
}

/** The fingerprint of a request: its method, URL (path and query) and parsed body. */
export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${url}\n`)
    .update(JSON.stringify(body ?? null))
    .digest('hex');
}

const fingerprintOf = (request: FastifyRequest) => requestFingerprint(request.method, request.url, request.body);

/** The key as it travels to a service: scoped to the identity (a hash of both), never the client's string. */
export function scopedKeyOf(scope: string, key: string): string {
  return createHash('sha256').update(`${scope}\n${key}`).digest('hex');
}

/**
 * `Idempotency-Key` on creates and other non-idempotent requests (POST, PATCH), a Sealbox extension
 * of the IBM APIs: a request retried with the key of an earlier one (after a 503 or a timeout) is
 * answered the first one's response instead of being done twice. Keys belong to the identity that
 * sent them and are kept 24 hours. A keyed request has one deadline (SEALBOX_RPC_TIMEOUT_MS from when
 * its handler starts) that every call it makes shares; no service commits its work after it.
 *
 * Two ways, by the subject the route sends:
 * - IdempotentSubjects (secret create, new secret version): the key goes to the service, which
 *   records it in the transaction of the write and answers a retry the first attempt's result,
 *   even when that attempt's answer was lost; it also serializes attempts running together. The
 *   gateway keeps nothing and never answers 409 for these.
 * - every other route: the gateway claims the key in its database until the request's deadline
 *   (plus LEASE_GRACE_MS) and remembers a successful (2xx) response. After an error the key is free
 *   and a retry runs again; a retry while the claim holds is 409 IDEMPOTENCY_KEY_IN_USE.
 * Either way, the same key with another method, path or body is 422 IDEMPOTENCY_KEY_REUSED.
 *
 * A Nest interceptor handles the key (it runs after the access guard, which names the identity); an
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
    @Inject(RPC_CLIENT_OPTIONS) private readonly rpc: RpcClientOptions,
    private readonly reflector: Reflector,
  ) {
    this.store = new IdempotencyStore(dataSource, clock);
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
    const subject = this.reflector.get<OperationDoc | undefined>(OPERATION, context.getHandler())?.subject;
    return this.keyed(request, header, scope, next, subject !== undefined && IdempotentSubjects.has(subject));
  }

  private async keyed(
    request: FastifyRequest & WithState,
    header: string | string[],
    scope: string,
    next: CallHandler,
    forwarded: boolean,
  ): Promise<Observable<unknown>> {
    const key = Array.isArray(header) ? undefined : header;
    if (key === undefined || !KEY_FORMAT.test(key)) {
      throw validationFailed([{ field: 'Idempotency-Key', message: 'must be one value of 1 to 255 printable ASCII characters' }], 'The Idempotency-Key header');
    }
    // The request's one deadline: the calls it makes share it, and no service commits after it.
    const deadline = Date.now() + this.rpc.timeoutMs;
    const fingerprint = fingerprintOf(request);
    if (forwarded) {
      const state: KeyState = { scope, key };
      request[STATE] = state;
      const forward = { key: scopedKeyOf(scope, key), fingerprint, onReplay: () => void (state.replayedByService = true) };
      return runIn(withIdempotencyKey(withDeadline(activeContext.active(), deadline), forward), next);
    }
    const claim = await this.store.claim(scope, key, fingerprint, deadline - Date.now() + LEASE_GRACE_MS);
    switch (claim.kind) {
      case 'claimed':
        request[STATE] = { scope, key, claimed: claim.leaseUntil };
        return runIn(withDeadline(activeContext.active(), deadline), next);
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
    if (state.replayedByService) reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
    const leaseUntil = state.claimed;
    if (leaseUntil === undefined) return payload;
    state.claimed = undefined;
    const status = reply.statusCode;
    try {
      if (status >= 200 && status < 300 && (typeof payload === 'string' || payload === undefined || payload === null)) {
        const headers: Record<string, string> = {};
        for (const name of REPLAYED_HEADERS) {
          const value = reply.getHeader(name);
          if (value !== undefined) headers[name] = String(value);
        }
        await this.store.complete(state.scope, state.key, leaseUntil, { status, headers, body: typeof payload === 'string' ? payload : '' });
      } else {
        await this.store.release(state.scope, state.key, leaseUntil);
      }
    } catch (error) {
      // The response stands; the key stays claimed until its lease ends, then a retry runs again.
      rootLogger().warn({ reason: error instanceof Error ? error.message : String(error) }, 'could not record the outcome of an Idempotency-Key');
    }
    return payload;
  }
}
