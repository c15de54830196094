import { KmsWire, roleCrn, type ResponseOf } from '@sealbox/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { poll, request } from './harness/http.js';
import { adminSession, createAccountOverNats, type AdminSession } from './harness/iam.js';
import { createKmsInstance, flipBit, keyCreateBody, NatsCaller, type NatsReply } from './harness/kms.js';
import { newTraceContext, waitForTrace, type SpanRecord } from './harness/spans.js';

/**
 * Envelope encryption over the real stack: `crypto.envelope.seal/open` sent over NATS as a Secrets
 * Manager instance would (raw Nest-format requests), crypto wrapping through kms (SoftHSM2), kms
 * checking the IAM service-to-service authorization on every call, and the DEK cache of crypto
 * purged by kms's key events (outbox → JetStream → crypto) — measured in polls, not in wall-clock.
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const hopDeadlineMs = stack.rpcTimeoutMs + 2_000;
const tag = `env-${stack.runId}`;

/** The bound of the issue: a disabled key stops a cached DEK within 1 s = 10 polls 100 ms apart. */
const PURGE_POLL_INTERVAL_MS = 100;
const PURGE_MAX_POLLS = 10;

type Open = NatsReply<'crypto.envelope.open'>;
const codeOf = (reply: { readonly ok: boolean; readonly error?: { readonly code: string } }) => (reply.ok ? 'OK' : reply.error?.code);

describe('envelope encryption over the distributed stack', () => {
  let nats: NatsCaller;
  let admin: AdminSession;
  let instanceId = '';
  let keyId = '';
  /** The Secrets Manager instance the envelopes are sealed for (invented: only its id matters to IAM). */
  const serviceInstance = randomUUID();
  const context = { instanceCrn: `crn:v1:bluemix:public:secrets-manager:us-south:a/x:${serviceInstance}::`, secretId: randomUUID(), versionId: randomUUID() };
  const payload = randomBytes(300);
  let authorizationId = '';
  let envelope = '';

  const source = (instance = serviceInstance) => ({ accountId: admin.accountId, serviceName: 'secrets-manager', serviceInstance: instance });
  const key = () => ({ instanceId, keyId });
  const seal = (plaintext: Buffer = payload, sourceInstance = serviceInstance) =>
    nats.call('crypto.envelope.seal', { source: source(sourceInstance), key: key(), context, plaintext });
  /** Envelopes are kept as base64 text here (easy to edit); they cross the wire as bytes. */
  const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('base64');
  const open = (value: string, options: { readonly context?: typeof context; readonly traceparent?: string } = {}): Promise<Open> =>
    nats.call(
      'crypto.envelope.open',
      { source: source(), key: key(), context: options.context ?? context, envelope: Buffer.from(value, 'base64') },
      options.traceparent ? { traceparent: options.traceparent } : {},
    );

  function expectOpened(reply: Open, expected: Buffer = payload): ResponseOf<'crypto.envelope.open'> {
    if (!reply.ok) throw new Error(`expected the envelope to open, got ${reply.error.code}: ${reply.error.message}`);
    expect(Buffer.from(reply.value.plaintext).equals(expected)).toBe(true);
    return reply.value;
  }

  async function keyAction(action: 'disable' | 'enable' | 'rotate'): Promise<void> {
    const response = await request(`${gateway}/kms/api/v2/keys/${keyId}/actions/${action}`, {
      method: 'POST',
      headers: { ...bearer(admin.token), 'bluemix-instance': instanceId },
      deadlineMs: hopDeadlineMs,
    });
    expect(response.status, `${action}: ${JSON.stringify(response.body)}`).toBe(204);
  }

  /**
   * Open with a fresh trace and tell whether crypto asked kms (a `kms.key.unwrap` span in the trace)
   * or served the DEK from its cache. The crypto span ends after kms answered, and spans are written
   * as they end, so once crypto's span is there any kms span of the trace is too.
   */
  async function openTraced(value: string): Promise<{ reply: Open; askedKms: boolean }> {
    const trace = newTraceContext();
    const reply = await open(value, { traceparent: trace.traceparent });
    const spans = await waitForTrace(stack.spanDir, trace.traceId, (all) => all.some(isCryptoOpen));
    expect(spans.some(isCryptoOpen), 'the crypto.envelope.open span of the trace').toBe(true);
    return { reply, askedKms: spans.some((span) => span.service === 'kms' && span.name.startsWith('kms.key.unwrap')) };
  }
  const isCryptoOpen = (span: SpanRecord) => span.service === 'crypto' && span.name === 'crypto.envelope.open process';

  /** Open until one is served from the DEK cache (an unrelated purge may drop a fill); fails if none is. */
  async function openFromCache(value: string): Promise<void> {
    const { value: last } = await poll(() => openTraced(value), (result) => result.reply.ok && !result.askedKms, { intervalMs: 50, maxPolls: 5 });
    expectOpened(last.reply);
    expect(last.askedKms, 'an open served from the DEK cache (no kms.key.unwrap in its trace)').toBe(false);
  }

  beforeAll(async () => {
    nats = await NatsCaller.open(stack);
    const account = await createAccountOverNats(stack, `${tag}-account`);
    admin = await adminSession(stack, account.apikey);
    instanceId = (await createKmsInstance(nats, admin.accountId, 'kms')).instanceId;
    const created = await request(`${gateway}/kms/api/v2/keys`, {
      method: 'POST',
      headers: { ...bearer(admin.token), 'bluemix-instance': instanceId },
      body: JSON.parse(keyCreateBody({ name: `${tag}-root` }).toString('utf8')),
      deadlineMs: hopDeadlineMs,
    });
    expect(created.status).toBe(201);
    keyId = KmsWire.KeyCollection.parse(created.body).resources[0]?.id ?? '';
  });

  afterAll(async () => {
    await nats?.close();
  });

  it('refuses to seal without an IAM authorization from the Secrets Manager instance to the kms instance: FORBIDDEN', async () => {
    const reply = await seal();
    expect(codeOf(reply)).toBe('FORBIDDEN');
  });

  it('seals and opens (round trip) once the authorization policy exists; a second open is served from the DEK cache', async () => {
    const created = await request<{ id: string }>(`${gateway}/v1/policies`, {
      method: 'POST',
      headers: bearer(admin.token),
      body: {
        type: 'authorization',
        subjects: [
          {
            attributes: [
              { name: 'accountId', value: admin.accountId },
              { name: 'serviceName', value: 'secrets-manager' },
              { name: 'serviceInstance', value: serviceInstance },
            ],
          },
        ],
        roles: [{ role_id: roleCrn('Reader') }],
        resources: [
          {
            attributes: [
              { name: 'accountId', value: admin.accountId },
              { name: 'serviceName', value: 'kms' },
              { name: 'serviceInstance', value: instanceId },
            ],
          },
        ],
      },
      deadlineMs: hopDeadlineMs,
    });
    expect(created.status).toBe(201);
    authorizationId = created.body.id;

    // kms may hold the denial for up to 5 s, until the policy event clears it.
    const { value: sealed } = await poll(() => seal(), (reply) => reply.ok, { intervalMs: 100, maxPolls: 80 });
    if (!sealed.ok) throw new Error(`seal still refused: ${sealed.error.code} ${sealed.error.message}`);
    envelope = text(sealed.value.envelope);
    const bytes = Buffer.from(envelope, 'base64');
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('SBX\x01');
    expect(bytes.includes(payload)).toBe(false);
    expect(bytes.length).toBe(67 + bytes.readUInt16BE(4) + (bytes[6 + bytes.readUInt16BE(4)] ?? 0) + payload.length);

    const first = await openTraced(envelope);
    expectOpened(first.reply);
    expect(first.askedKms, 'the first open unwraps the DEK through kms').toBe(true);
    await openFromCache(envelope);

    // The authorization names one Secrets Manager instance: another one is still refused.
    expect(codeOf(await seal(payload, randomUUID()))).toBe('FORBIDDEN');
    // Empty payloads seal too.
    const empty = await seal(Buffer.alloc(0));
    if (!empty.ok) throw new Error(empty.error.code);
    expectOpened(await open(text(empty.value.envelope)), Buffer.alloc(0));
  });

  it('refuses an envelope under a swapped or altered context with INTEGRITY_FAILED, and every flipped bit with ENVELOPE_INVALID or INTEGRITY_FAILED', async () => {
    expect(envelope).not.toBe('');
    const swapped = { ...context, secretId: context.versionId, versionId: context.secretId };
    const others = [swapped, { ...context, versionId: randomUUID() }, { ...context, instanceCrn: `${context.instanceCrn}x` }];
    for (const other of others) {
      expect(codeOf(await open(envelope, { context: other })), JSON.stringify(other)).toBe('INTEGRITY_FAILED');
    }

    const length = Buffer.from(envelope, 'base64').length;
    const outcomes = new Map<string, number>();
    for (let index = 0; index < length; index++) {
      const code = codeOf(await open(flipBit(envelope, index)));
      outcomes.set(code ?? 'no code', (outcomes.get(code ?? 'no code') ?? 0) + 1);
    }
    expect([...outcomes.keys()].sort()).toEqual(expect.arrayContaining(['INTEGRITY_FAILED']));
    expect([...outcomes.keys()].filter((code) => code !== 'ENVELOPE_INVALID' && code !== 'INTEGRITY_FAILED')).toEqual([]);
    expect([...outcomes.values()].reduce((sum, count) => sum + count, 0)).toBe(length);

    // The untouched envelope still opens.
    expectOpened(await open(envelope));
  });

  it(`stops serving a cached DEK once the key is disabled: KEY_DISABLED within ${PURGE_MAX_POLLS} opens ${PURGE_POLL_INTERVAL_MS} ms apart (kms outbox → NATS → crypto cache purge); enabled, it opens again`, async () => {
    expect(envelope).not.toBe('');
    // The DEK is in crypto's cache now: without the event, opens would keep succeeding for the TTL (60 s).
    await openFromCache(envelope);

    await keyAction('disable');
    try {
      const { value, polls } = await poll(() => open(envelope), (reply) => !reply.ok, {
        intervalMs: PURGE_POLL_INTERVAL_MS,
        maxPolls: PURGE_MAX_POLLS,
      });
      // poll() stops at PURGE_MAX_POLLS: still OK then means the cached DEK outlived the 1 s bound.
      expect(codeOf(value), `after ${polls} of at most ${PURGE_MAX_POLLS} polls`).toBe('KEY_DISABLED');
      // And it stays refused: the purge was no single lucky miss.
      expect(codeOf(await open(envelope))).toBe('KEY_DISABLED');
      expect(codeOf(await seal())).toBe('KEY_DISABLED');
    } finally {
      // Whatever happened above, the next tests need the key enabled.
      await keyAction('enable');
    }
    expectOpened(await open(envelope));
    const sealed = await seal();
    expect(codeOf(sealed)).toBe('OK');
  });

  it('after a rotation, an envelope of the old key version opens and comes back rewrapped under the new one', async () => {
    const sealed = await seal();
    if (!sealed.ok) throw new Error(sealed.error.code);
    await keyAction('rotate');

    // Never opened before, so not in the cache: kms unwraps it with the old version and rewraps it.
    const value = await open(text(sealed.value.envelope));
    const opened = expectOpened(value);
    const rewrapped = opened.rewrapped;
    expect(rewrapped, 'the open after a rotation carries the rewrapped envelope').toBeDefined();
    expect(rewrapped?.keyVersion.id).not.toBe(sealed.value.keyVersion.id);
    const again = expectOpened(await open(text(rewrapped?.envelope)));
    expect(again.rewrapped).toBeUndefined();
  });

  it('refuses again (FORBIDDEN) once the authorization policy is deleted, cached DEK or not', async () => {
    expect(authorizationId).not.toBe('');
    await openFromCache(envelope);
    const deleted = await request(`${gateway}/v1/policies/${authorizationId}`, { method: 'DELETE', headers: bearer(admin.token), deadlineMs: hopDeadlineMs });
    expect(deleted.status).toBe(204);

    const { value } = await poll(() => open(envelope), (reply) => !reply.ok, { intervalMs: 100, maxPolls: 80 });
    expect(codeOf(value)).toBe('FORBIDDEN');
    expect(codeOf(await seal())).toBe('FORBIDDEN');
  });
});
