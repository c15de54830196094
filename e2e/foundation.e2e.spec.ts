import { SpanKind } from '@opentelemetry/api';
import { ServiceNames, type ServiceName } from '@sealbox/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adminAccessToken, bearer } from './harness/auth.js';
import { ensureStackRunning, restartApp, stackInfo, stopStackApp } from './harness/context.js';
import { errorBody, poll, readyz, request } from './harness/http.js';
import { newTraceContext, waitForTrace, type SpanRecord } from './harness/spans.js';

const stack = stackInfo();
const version = (JSON.parse(readFileSync(join(stack.root, 'package.json'), 'utf8')) as { version: string }).version;
/** A request through one RPC hop must end, answer or error, within the RPC timeout plus some slack. */
const hopDeadlineMs = stack.rpcTimeoutMs + 2_000;

interface ReadinessBody {
  readonly status: string;
  readonly services: Record<string, { readonly ok: boolean; readonly version?: string; readonly replica?: string }>;
}

const consumerOf = (spans: readonly SpanRecord[], service: string, subject: string) =>
  spans.find((span) => span.service === service && span.kind === SpanKind.CONSUMER && span.name === `${subject} process`);

const serverSpanOf = (spans: readonly SpanRecord[], parentSpanId: string) =>
  spans.find((span) => span.service === 'gateway' && span.kind === SpanKind.SERVER && span.parentSpanId === parentSpanId);

describe('the distributed stack (seven processes over NATS, PostgreSQL, s3rver and SoftHSM2)', () => {
  // A test that stops a service restarts it itself; this only keeps a failed one from breaking the next.
  afterEach(() => ensureStackRunning(stack));

  it('is ready: /readyz lists all six services ok, with the release version (to an administrator; the public only learns "ready")', async () => {
    const anonymous = await readyz(stack.gatewayUrl);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: 'ready' });

    const response = await readyz(stack.gatewayUrl, { headers: bearer(await adminAccessToken(stack)) });
    expect(response.status).toBe(200);
    const body = response.body as ReadinessBody;
    expect(body.status).toBe('ready');
    expect(Object.keys(body.services).sort()).toEqual([...ServiceNames].sort());
    for (const service of ServiceNames) {
      expect(body.services[service], service).toMatchObject({ ok: true, version });
    }
  });

  it('traces one /readyz request as ONE trace through the gateway and every service', async () => {
    const parent = newTraceContext();

    const response = await readyz(stack.gatewayUrl, { headers: { traceparent: parent.traceparent } });
    expect(response.status).toBe(200);

    const spans = await waitForTrace(
      stack.spanDir,
      parent.traceId,
      (found) =>
        serverSpanOf(found, parent.spanId) !== undefined &&
        ServiceNames.every((service) => consumerOf(found, service, `${service}.health`) !== undefined),
    );
    const server = serverSpanOf(spans, parent.spanId);
    expect(server, 'the gateway SERVER span continuing the traceparent').toMatchObject({ name: 'GET /readyz' });
    for (const service of ServiceNames) {
      const consumer = consumerOf(spans, service, `${service}.health`);
      expect(consumer, `${service}.health process`).toBeDefined();
      // Service span <- gateway PRODUCER span <- the request's SERVER span: one tree, not six traces.
      const producer = spans.find((span) => span.spanId === consumer?.parentSpanId);
      expect(producer, `parent of ${service}.health process`).toMatchObject({
        service: 'gateway',
        kind: SpanKind.PRODUCER,
        name: `${service}.health send`,
        parentSpanId: server?.spanId,
      });
    }
  });

  it('routes a percent-encoded CRN (with %2F) to lifecycle: 404 NOT_FOUND from the service', async () => {
    const token = await adminAccessToken(stack);
    const parent = newTraceContext();

    const response = await request(`${stack.gatewayUrl}/v2/resource_instances/crn%3Av1%3Ax%2Fy`, {
      headers: { ...bearer(token), traceparent: parent.traceparent },
      deadlineMs: hopDeadlineMs,
    });

    expect(response.status).toBe(404);
    expect(errorBody(response).errors[0]?.code).toBe('NOT_FOUND');
    // The answer came from the lifecycle process, not from the gateway.
    const spans = await waitForTrace(stack.spanDir, parent.traceId, (found) =>
      Boolean(consumerOf(found, 'lifecycle', 'lifecycle.instance.get')),
    );
    expect(consumerOf(spans, 'lifecycle', 'lifecycle.instance.get')).toBeDefined();
  });

  it('reports a killed service in /readyz (503 naming it) within 2 s, and is ready again once it restarts', async () => {
    const killed: ServiceName = 'crypto';
    const admin = bearer(await adminAccessToken(stack));
    const before = (await readyz(stack.gatewayUrl, { headers: admin })).body as ReadinessBody;

    await stopStackApp(stack, killed, 'SIGKILL');
    // 2 s: at most 20 polls 100 ms apart, each of which must itself be answered within 2 s.
    const { value: notReady } = await poll(
      () => readyz(stack.gatewayUrl, { headers: admin, deadlineMs: 2_000 }),
      (response) => response.status !== 200,
      { intervalMs: 100, maxPolls: 20 },
    );

    expect(notReady.status).toBe(503);
    const error = errorBody(notReady).errors[0];
    expect(error?.code).toBe('SERVICE_UNAVAILABLE');
    expect(error?.message).toContain(killed);
    for (const other of ServiceNames.filter((service) => service !== killed)) {
      expect(error?.message).not.toMatch(new RegExp(`\\b${other}\\b`));
    }

    await restartApp(stack, killed);
    const ready = await readyz(stack.gatewayUrl, { headers: admin });
    expect(ready.status).toBe(200);
    const after = (ready.body as ReadinessBody).services[killed];
    expect(after?.ok).toBe(true);
    // A new process answers now.
    expect(after?.replica).not.toBe(before.services[killed]?.replica);
  });

  it('answers a request to a stopped service with 503 SERVICE_UNAVAILABLE within the RPC timeout, never a hang', async () => {
    const token = await adminAccessToken(stack);
    await stopStackApp(stack, 'lifecycle', 'SIGTERM');

    const response = await request(`${stack.gatewayUrl}/v2/resource_instances/some-id`, {
      headers: bearer(token),
      deadlineMs: hopDeadlineMs,
    });

    expect(response.status).toBe(503);
    const error = errorBody(response).errors[0];
    expect(error?.code).toBe('SERVICE_UNAVAILABLE');
    expect(error?.message).toContain('lifecycle');
    expect(errorBody(response).trace).toMatch(/^[0-9a-f]{32}$/);

    await restartApp(stack, 'lifecycle');
    const again = await request(`${stack.gatewayUrl}/v2/resource_instances/some-id`, {
      headers: bearer(token),
      deadlineMs: hopDeadlineMs,
    });
    expect(again.status).toBe(404);
    expect(errorBody(again).errors[0]?.code).toBe('NOT_FOUND');
  });
});
