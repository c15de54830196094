import { describe, expect, it } from 'vitest';
import { accessToken, bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { errorBody, request } from './harness/http.js';
import { adminSession, createAccessPolicy, createAccountOverNats, createApiKey, createServiceId, decodeJwt } from './harness/iam.js';

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
});
