import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RpcHeaders, type HealthResponse } from '@sealbox/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { FIRST_TRY_MAX_MS, RpcClient } from './client.js';
import { decodeRequest, encodeReply, type RequestFrame } from './codec.js';
import { HOP_MARGIN_MS, withDeadline } from './deadline.js';
import { RpcTransportError, type RpcTransportClient } from './transport.js';

const REPORT: HealthResponse = { service: 'kms', version: '0.1.0', replica: 'r1', status: 'ok', checks: {} };

/** A transport that records the decoded requests it was asked to send and answers with a script. */
class ScriptedTransport implements RpcTransportClient {
  readonly sent: { subject: string; frame: RequestFrame; timeoutMs: number }[] = [];
  closed = false;
  constructor(private readonly answer: () => Promise<Uint8Array>) {}
  request(subject: string, frame: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.sent.push({ subject, frame: decodeRequest(frame), timeoutMs });
    return this.answer();
  }
  close(): void {
    this.closed = true;
  }
}

const never = () => new Promise<Uint8Array>(() => undefined);

async function errorOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('RpcClient', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(() => {
    context.disable();
  });

  it('sends the encoded payload on the subject and returns the response', async () => {
    const transport = new ScriptedTransport(async () => encodeReply({ ok: REPORT }));
    const client = new RpcClient(transport, { timeoutMs: 1000 });
    await expect(client.send('iam.signing-key.rotate', {})).resolves.toEqual(REPORT);
    expect(transport.sent).toHaveLength(1);
    expect(transport.sent[0]).toMatchObject({ subject: 'iam.signing-key.rotate', frame: { d: {} }, timeoutMs: 1000 });
  });

  it('tries a retry-safe subject a second time when the first try gets no answer in its share of the deadline', async () => {
    let calls = 0;
    const transport = new ScriptedTransport(() => (++calls === 1 ? never() : Promise.resolve(encodeReply({ ok: REPORT }))));
    const client = new RpcClient(transport, { timeoutMs: 200 });
    await expect(client.send('kms.health', {})).resolves.toEqual(REPORT);
    const [first, second] = transport.sent;
    expect(first?.timeoutMs).toBe(100);
    expect(second?.timeoutMs).toBeGreaterThan(0);
    expect(second?.timeoutMs).toBeLessThanOrEqual(100);
    // Each try carries its own deadline: a replica that gets the first one late drops it.
    expect(Number(second?.frame.h[RpcHeaders.deadline])).toBeGreaterThan(Number(first?.frame.h[RpcHeaders.deadline]));
  });

  it('caps the first try of a retry-safe subject at FIRST_TRY_MAX_MS, and reports the whole deadline when both tries fail', async () => {
    const transport = new ScriptedTransport(never);
    const client = new RpcClient(transport, { timeoutMs: 60_000 });
    const error = await errorOf(client.send('storage.object.get', { instanceGuid: 'i', key: 'k' }, { timeoutMs: 2 * FIRST_TRY_MAX_MS + 200 }));
    expect(error.message).toBe(`The storage service did not answer within ${2 * FIRST_TRY_MAX_MS + 200} ms`);
    expect(transport.sent.map((sent) => sent.timeoutMs)).toEqual([FIRST_TRY_MAX_MS, expect.any(Number)]);
  }, 10_000);

  it('sends everything else once: a create that got no answer may have been done', async () => {
    const transport = new ScriptedTransport(never);
    const client = new RpcClient(transport, { timeoutMs: 100 });
    const error = await errorOf(client.send('iam.signing-key.rotate', {}));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(transport.sent).toHaveLength(1);
  });

  it('sends a retry-safe call again when the connection dropped with it in flight, a create never', async () => {
    let calls = 0;
    const dropped = () => Promise.reject(new RpcTransportError('disconnected', 'the NATS connection dropped'));
    const transport = new ScriptedTransport(() => (++calls === 1 ? dropped() : Promise.resolve(encodeReply({ ok: REPORT }))));
    const client = new RpcClient(transport, { timeoutMs: 1000 });
    await expect(client.send('kms.health', {})).resolves.toEqual(REPORT);
    expect(transport.sent).toHaveLength(2);

    const creates = new ScriptedTransport(dropped);
    const error = await errorOf(new RpcClient(creates, { timeoutMs: 1000 }).send('iam.signing-key.rotate', {}));
    expect([error.code, error.message]).toEqual(['SERVICE_UNAVAILABLE', 'The iam service cannot be reached']);
    expect(creates.sent).toHaveLength(1);
  });

  it('does not try again when nobody serves the subject', async () => {
    const transport = new ScriptedTransport(() => Promise.reject(new RpcTransportError('unreachable', 'no responders')));
    const client = new RpcClient(transport, { timeoutMs: 1000 });
    expect((await errorOf(client.send('kms.health', {}))).message).toBe('The kms service cannot be reached');
    expect(transport.sent).toHaveLength(1);
  });

  it('puts the caller (as JSON), the request id and the deadline in the headers; no caller or id when absent', async () => {
    const transport = new ScriptedTransport(async () => encodeReply({ ok: REPORT }));
    const client = new RpcClient(transport, { timeoutMs: 1000 });
    const caller = { iamId: 'iam-ServiceId-1', accountId: 'acc', subType: 'service_id' } as const;
    const before = Date.now();
    await client.send('iam.signing-key.rotate', {}, { caller, requestId: 'req-1' });
    await client.send('iam.signing-key.rotate', {});
    const [withCaller, without] = transport.sent.map(({ frame }) => frame.h);
    expect(withCaller).toMatchObject({ [RpcHeaders.caller]: JSON.stringify(caller), [RpcHeaders.requestId]: 'req-1' });
    expect(Object.keys(without ?? {})).toEqual([RpcHeaders.deadline]);
    const deadline = Number(without?.[RpcHeaders.deadline]);
    expect(deadline).toBeGreaterThanOrEqual(before + 1000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('refuses to send a string that is not well-formed Unicode, naming its field (it has no UTF-8 form)', async () => {
    const transport = new ScriptedTransport(async () => encodeReply({ ok: REPORT }));
    const client = new RpcClient(transport, { timeoutMs: 1000 });
    const request = { context: { versionId: 'v\uD800' }, labels: ['ok', '\uDC00x'] } as unknown as Record<string, never>;
    const error = await errorOf(client.send('kms.health', request));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([{ field: 'context.versionId', message: 'must be well-formed Unicode (no lone surrogates)' }]);
    const label = await errorOf(client.send('kms.health', { labels: ['ok', '\uDC00x'] } as unknown as Record<string, never>));
    expect(label.fields?.[0]?.field).toBe('labels.1');
    // A well-formed pair is fine.
    await expect(client.send('kms.health', { name: 'emoji \uD83D\uDE00' } as unknown as Record<string, never>)).resolves.toEqual(REPORT);
    expect(transport.sent).toHaveLength(1);
  });

  it('rebuilds the domain error a service answered with', async () => {
    const client = new RpcClient(new ScriptedTransport(async () => encodeReply({ err: { code: 'NOT_FOUND', message: 'Key k1 was not found' } })), {
      timeoutMs: 1000,
    });
    const error = await errorOf(client.send('kms.health', {}));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('Key k1 was not found');
  });

  it('turns a reply that is not a reply frame into INTERNAL naming the service', async () => {
    const client = new RpcClient(new ScriptedTransport(async () => new TextEncoder().encode('{"status":"error"}')), { timeoutMs: 1000 });
    const error = await errorOf(client.send('kms.health', {}));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('The kms service answered something that is not a reply');
  });

  it.each([
    ['an unreachable transport', new RpcTransportError('unreachable', 'connect ECONNREFUSED 10.0.0.7:4222')],
    ['any other Error', new Error('connection closed')],
    ['a rejection with a string (what a broker client may reject with on disconnect)', 'disconnected'],
  ])('turns %s into SERVICE_UNAVAILABLE without its details', async (_, reason) => {
    const client = new RpcClient(new ScriptedTransport(() => Promise.reject(reason)), { timeoutMs: 1000 });
    const error = await errorOf(client.send('crypto.health', {}));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toBe('The crypto service cannot be reached');
  });

  it('answers SERVICE_UNAVAILABLE at the deadline, the call option winning over the default', async () => {
    const client = new RpcClient(new ScriptedTransport(never), { timeoutMs: 60_000 });
    const error = await errorOf(client.send('storage.health', {}, { timeoutMs: 5 }));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toBe('The storage service did not answer within 5 ms');
  });

  it('uses the default deadline when the call sets none', async () => {
    const client = new RpcClient(new ScriptedTransport(never), { timeoutMs: 5 });
    const error = await errorOf(client.send('storage.health', {}));
    expect(error.message).toBe('The storage service did not answer within 5 ms');
  });

  it('gives a call made while handling a request what remains of its deadline, minus the hop margin', async () => {
    const transport = new ScriptedTransport(async () => encodeReply({ ok: REPORT }));
    const client = new RpcClient(transport, { timeoutMs: 60_000 });
    const deadline = Date.now() + 400;
    await context.with(withDeadline(context.active(), deadline), () => client.send('kms.health', {}));
    const [sent] = transport.sent;
    expect(sent?.timeoutMs).toBeLessThanOrEqual(400 - HOP_MARGIN_MS);
    expect(sent?.timeoutMs).toBeGreaterThan(0);
    expect(Number(sent?.frame.h[RpcHeaders.deadline])).toBeLessThanOrEqual(deadline - HOP_MARGIN_MS);
  });

  it('does not call at all when the request being handled has no time left', async () => {
    const transport = new ScriptedTransport(async () => encodeReply({ ok: REPORT }));
    const client = new RpcClient(transport, { timeoutMs: 60_000 });
    const error = await errorOf(context.with(withDeadline(context.active(), Date.now() + HOP_MARGIN_MS - 1), () => client.send('kms.health', {})));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toBe("No time was left to call the kms service before the request's deadline");
    expect(transport.sent).toEqual([]);
  });
});
