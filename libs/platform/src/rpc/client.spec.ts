import { NatsRecord } from '@nestjs/microservices';
import type { HealthResponse } from '@sealbox/contracts';
import { NEVER, Observable, of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { RpcClient, type RpcClientProxy } from './client.js';
import { fromNatsHeaders } from './headers.js';

const REPORT: HealthResponse = { service: 'kms', version: '0.1.0', replica: 'r1', status: 'ok', checks: {} };

/** A client proxy that records what it was asked to send and answers with a scripted observable. */
class ScriptedProxy implements RpcClientProxy {
  readonly sent: { pattern: unknown; data: unknown }[] = [];
  closed = false;
  constructor(private readonly answer: () => Observable<unknown>) {}
  send<TResult, TInput>(pattern: unknown, data: TInput): Observable<TResult> {
    this.sent.push({ pattern, data });
    return this.answer() as Observable<TResult>;
  }
  close(): void {
    this.closed = true;
  }
}

async function errorOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('RpcClient', () => {
  it('sends the payload on the subject as a NATS record and returns the answer', async () => {
    const proxy = new ScriptedProxy(() => of(REPORT));
    const client = new RpcClient(proxy, { timeoutMs: 1000 });
    await expect(client.send('kms.health', {})).resolves.toEqual(REPORT);
    expect(proxy.sent).toHaveLength(1);
    const [{ pattern, data }] = proxy.sent as [{ pattern: unknown; data: unknown }];
    expect(pattern).toBe('kms.health');
    expect(data).toBeInstanceOf(NatsRecord);
    expect((data as NatsRecord).data).toEqual({});
  });

  it('puts the caller (as JSON) and the request id in the headers, and nothing when absent', async () => {
    const proxy = new ScriptedProxy(() => of(REPORT));
    const client = new RpcClient(proxy, { timeoutMs: 1000 });
    const caller = { iamId: 'iam-ServiceId-1', accountId: 'acc', subType: 'service_id' } as const;
    await client.send('kms.health', {}, { caller, requestId: 'req-1' });
    await client.send('kms.health', {});
    const [withCaller, without] = proxy.sent.map(({ data }) => fromNatsHeaders((data as NatsRecord).headers));
    expect(withCaller).toEqual({ 'sealbox-caller': JSON.stringify(caller), 'sealbox-request-id': 'req-1' });
    expect(without).toEqual({});
  });

  it('rebuilds the domain error a service answered with', async () => {
    const client = new RpcClient(new ScriptedProxy(() => throwError(() => ({ code: 'NOT_FOUND', message: 'Key k1 was not found' }))), {
      timeoutMs: 1000,
    });
    const error = await errorOf(client.send('kms.health', {}));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('Key k1 was not found');
  });

  it('turns an answer that is not a wire error into INTERNAL', async () => {
    const client = new RpcClient(new ScriptedProxy(() => throwError(() => ({ status: 'error', message: 'Internal server error' }))), {
      timeoutMs: 1000,
    });
    const error = await errorOf(client.send('kms.health', {}));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('An internal error occurred in a remote service');
  });

  it('turns a transport failure into SERVICE_UNAVAILABLE without its details', async () => {
    const client = new RpcClient(new ScriptedProxy(() => throwError(() => new Error('connect ECONNREFUSED 10.0.0.7:4222'))), {
      timeoutMs: 1000,
    });
    const error = await errorOf(client.send('crypto.health', {}));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toBe('The crypto service cannot be reached');
  });

  it('answers SERVICE_UNAVAILABLE at the deadline, the call option winning over the default', async () => {
    const client = new RpcClient(new ScriptedProxy(() => NEVER), { timeoutMs: 60_000 });
    const error = await errorOf(client.send('storage.health', {}, { timeoutMs: 5 }));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toBe('The storage service did not answer within 5 ms');
  });

  it('uses the default deadline when the call sets none', async () => {
    const client = new RpcClient(new ScriptedProxy(() => NEVER), { timeoutMs: 5 });
    const error = await errorOf(client.send('storage.health', {}));
    expect(error.message).toBe('The storage service did not answer within 5 ms');
  });
});
