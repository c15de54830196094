/**
 * Idempotency-Key on the distributed stack: a create whose answer was lost after the secrets service
 * committed it (the gateway that sent it died, NATS stopped on the way back) is answered by its
 * retry with the first attempt's result, because the service recorded the key with the secret.
 * The lost answer is made exactly: the first attempt is the very request the gateway sends the
 * secrets service for that HTTP request (same headers), sent over NATS by the test, whose answer
 * then never reaches the client.
 */
import { RpcHeaders, SecretsWire as W } from '@sealbox/contracts';
import { requestOverNats } from '@sealbox/platform';
import type { NatsConnection } from '@nats-io/transport-node';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackInfo } from './harness/context.js';
import { adminSession, createAccountOverNats, decodeJwt, type AdminSession } from './harness/iam.js';
import { connectNats } from './harness/infra.js';
import { NatsCaller } from './harness/kms.js';
import { provisionSecretsInstance, type SecretsInstance } from './harness/secrets.js';

const stack = stackInfo();
const tag = `idem-${stack.runId}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('Idempotency-Key: a retry after a lost answer', () => {
  let nats: NatsCaller;
  let raw: NatsConnection;
  let admin: AdminSession;
  let instance: SecretsInstance;

  beforeAll(async () => {
    nats = await NatsCaller.open(stack);
    raw = await connectNats(stack.nats);
    admin = await adminSession(stack, (await createAccountOverNats(stack, `${tag}-account`)).apikey);
    instance = await provisionSecretsInstance(stack, nats, admin, tag);
  });
  afterAll(async () => {
    await raw?.close();
    await nats?.close();
  });

  const secretsPath = () => `/secrets-manager/${instance.guid}/api/v2/secrets`;

  async function post(path: string, body: object, key?: string) {
    const response = await fetch(`${stack.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as Record<string, unknown> };
  }

  /** What the gateway sends the secrets service for `POST path` with `body` and `key` from the admin (scoped key, fingerprint, caller). */
  function headersOf(path: string, body: object, key: string): Record<string, string> {
    const claims = decodeJwt(admin.token).claims;
    return {
      [RpcHeaders.caller]: JSON.stringify({ iamId: claims.iam_id, accountId: admin.accountId, subType: 'user' }),
      [RpcHeaders.idempotencyKey]: sha256(`${claims.iam_id}\n${key}`),
      [RpcHeaders.idempotencyFingerprint]: sha256(`POST ${path}\n${JSON.stringify(body)}`),
    };
  }

  it('answers a create committed but never answered with that secret (201, Idempotent-Replayed), not 409', async () => {
    const key = randomUUID();
    const body = { secret_type: 'arbitrary', name: `${tag}-lost-${randomBytes(3).toString('hex')}`, payload: randomBytes(12).toString('base64url') };
    const first = await requestOverNats(
      raw,
      'secrets.secret.create',
      { instanceGuid: instance.guid, secret: body as unknown as W.SecretPrototype },
      stack.rpcTimeoutMs,
      headersOf(secretsPath(), body, key),
    );
    // The client never saw `first`: it retries with its key.
    const retry = await post(secretsPath(), body, key);
    expect(retry.status).toBe(201);
    expect(retry.replayed).toBe('true');
    expect(retry.body).toMatchObject({ id: first.id, name: body.name, payload: body.payload });
    // Without the key, as IBM answers: the name is taken.
    const unkeyed = await post(secretsPath(), body);
    expect(unkeyed.status).toBe(409);
    expect((unkeyed.body['errors'] as { code: string }[])[0]?.code).toBe('CONFLICT');
  });

  it('answers a new version committed but never answered with that version', async () => {
    const secret = await post(secretsPath(), { secret_type: 'arbitrary', name: `${tag}-rotated`, payload: 'v1' });
    expect(secret.status).toBe(201);
    const path = `${secretsPath()}/${String(secret.body['id'])}/versions`;
    const key = randomUUID();
    const body = { payload: 'v2' };
    const first = await requestOverNats(
      raw,
      'secrets.version.create',
      { instanceGuid: instance.guid, secretId: String(secret.body['id']), version: body },
      stack.rpcTimeoutMs,
      headersOf(path, body, key),
    );
    const retry = await post(path, body, key);
    expect(retry.status).toBe(201);
    expect(retry.replayed).toBe('true');
    expect(retry.body).toMatchObject({ id: first.id, payload: 'v2' });
    const metadata = await fetch(`${stack.gatewayUrl}${secretsPath()}/${String(secret.body['id'])}/metadata`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(((await metadata.json()) as { versions_total: number }).versions_total).toBe(2);
  });

  it('refuses the same key with another body: 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const key = randomUUID();
    const name = `${tag}-reused-${randomBytes(3).toString('hex')}`;
    expect((await post(secretsPath(), { secret_type: 'arbitrary', name, payload: 'a' }, key)).status).toBe(201);
    const reused = await post(secretsPath(), { secret_type: 'arbitrary', name, payload: 'b' }, key);
    expect(reused.status).toBe(422);
    expect((reused.body['errors'] as { code: string }[])[0]?.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
