import { describe, expect, it } from 'vitest';
import { accessToken, bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { errorBody, request } from './harness/http.js';
import { adminSession, createAccessPolicy, createAccountOverNats, createApiKey, createServiceId, decodeJwt } from './harness/iam.js';
import { eventsNamed } from './harness/lifecycle.js';

/**
 * Regression: a service ID with Operator on iam-identity could create an API key for the account
 * administrator, exchange it and act as the administrator. A user's keys are the user's alone.
 */
describe('IAM privilege escalation through API keys', () => {
  it("refuses an iam-identity Operator creating, locking or deleting another user's API keys (403), while service ID keys stay manageable", async () => {
    const stack = stackInfo();
    const account = await createAccountOverNats(stack, 'escalation');
    const admin = await adminSession(stack, account.apikey);
    const adminIamId = decodeJwt(admin.token).claims.iam_id;

    const operator = await createServiceId(admin, 'operator');
    await createAccessPolicy(admin, operator.iam_id, 'Operator', { serviceName: 'iam-identity' });
    const operatorKey = await createApiKey(admin, operator.iam_id, 'operator key');
    const operatorToken = await accessToken(stack, operatorKey.apikey);
    const headers = bearer(operatorToken);
    const deadlineMs = stack.rpcTimeoutMs + 5000;

    // The decision cache may hold the pre-policy answer briefly: poll until the grant shows.
    const target = await createServiceId(admin, 'target');
    await expect
      .poll(async () => (await request(`${stack.gatewayUrl}/v1/apikeys`, { method: 'POST', headers, body: { name: 'ok', iam_id: target.iam_id }, deadlineMs })).status, {
        timeout: 15_000,
        interval: 500,
      })
      .toBe(201);

    const mint = await request(`${stack.gatewayUrl}/v1/apikeys`, { method: 'POST', headers, body: { name: 'stolen', iam_id: adminIamId }, deadlineMs });
    expect(mint.status).toBe(403);
    expect(errorBody(mint).errors[0]?.code).toBe('FORBIDDEN');

    const adminKeyId = account.apikey_id;
    for (const [method, path] of [
      ['DELETE', `/v1/apikeys/${adminKeyId}`],
      ['POST', `/v1/apikeys/${adminKeyId}/lock`],
    ] as const) {
      const response = await request(`${stack.gatewayUrl}${path}`, { method, headers, deadlineMs });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(errorBody(response).errors[0]?.code).toBe('FORBIDDEN');
    }
    // The administrator's key still works.
    expect(decodeJwt(await accessToken(stack, account.apikey)).claims.iam_id).toBe(adminIamId);
  });

  it('refuses a service ID with only Reader on one instance an API key for itself: 403 APIKEY_CREATION_RESTRICTED; every creation names its creator', async () => {
    const stack = stackInfo();
    const deadlineMs = stack.rpcTimeoutMs + 5000;
    const account = await createAccountOverNats(stack, 'self-minting');
    const admin = await adminSession(stack, account.apikey);
    const reader = await createServiceId(admin, 'reader');
    await createAccessPolicy(admin, reader.iam_id, 'Reader', { serviceName: 'secrets-manager', serviceInstance: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f' });
    const readerKey = await createApiKey(admin, reader.iam_id, 'reader key');
    const headers = bearer(await accessToken(stack, readerKey.apikey));

    const mint = await request(`${stack.gatewayUrl}/v1/apikeys`, { method: 'POST', headers, body: { name: 'forever', iam_id: reader.iam_id }, deadlineMs });
    expect(mint.status).toBe(403);
    expect(errorBody(mint).errors[0]).toMatchObject({ code: 'APIKEY_CREATION_RESTRICTED', message: expect.stringContaining('iam-identity.apikey.create') });
    const list = await request<{ apikeys: { id: string }[] }>(`${stack.gatewayUrl}/v1/apikeys?iam_id=${reader.iam_id}`, { headers, deadlineMs });
    expect(list.body.apikeys.map((key) => key.id)).toEqual([readerKey.id]);

    // The administrator's creation of its key is on the event stream, naming the administrator.
    await expect
      .poll(async () => (await eventsNamed(stack.nats, 'iam.apikey.created')).find((data) => data['apikeyId'] === readerKey.id), { timeout: 10_000, interval: 250 })
      .toEqual({ accountId: admin.accountId, apikeyId: readerKey.id, iamId: reader.iam_id, name: 'reader key', createdBy: decodeJwt(admin.token).claims.iam_id });
  });
});
