import { IamWire } from '@sealbox/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessToken, adminAccessToken, API_KEY_GRANT, bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { startExtraGateway, type ExtraGateway } from './harness/gateways.js';
import { errorBody, poll, request, type JsonResponse } from './harness/http.js';
import { adminSession, createAccessPolicy, createAccountOverHttp, createApiKey, createServiceId, type AdminSession } from './harness/iam.js';

/**
 * Revocation reaches every gateway replica within a second: two gateways of the distributed stack
 * (the run's own and a second one started here) both accept a token, the credential behind it is
 * revoked through one of them, and both refuse the token (401) within 20 polls 50 ms apart. The same
 * for a policy deleted and created again (the decision caches, whose TTL is 5 s). A gateway that
 * starts after a revocation refuses the token at once (it loads the revocations before answering).
 */

const stack = stackInfo();
const deadlineMs = stack.rpcTimeoutMs + 5_000;
/** At most 20 polls 50 ms apart: a change must show within about a second. */
const WITHIN_A_SECOND = { intervalMs: 50, maxPolls: 20 } as const;

let second: ExtraGateway;
let admin: AdminSession;

const gateways = () => [stack.gatewayUrl, second.url];
const call = (url: string, method: string, path: string, token: string, body?: unknown): Promise<JsonResponse> =>
  request(`${url}${path}`, { method, headers: bearer(token), ...(body === undefined ? {} : { body }), deadlineMs });
/** An authenticated route every identity may call (its own API keys). */
const probe = (url: string, token: string) => call(url, 'GET', '/v1/apikeys?pagesize=1', token);
const statuses = (token: string, path = '/v1/apikeys?pagesize=1') =>
  Promise.all(gateways().map(async (url) => (await call(url, 'GET', path, token)).status));

/** Poll both gateways until `token` answers `status` at both; fails unless it happens within a second. */
async function atBothWithinASecond(token: string, status: number, path?: string): Promise<number> {
  const started = performance.now();
  const { value } = await poll(() => statuses(token, path), (found) => found.every((code) => code === status), WITHIN_A_SECOND);
  expect(value).toEqual([status, status]);
  return Math.round(performance.now() - started);
}

async function expectRevokedEverywhere(token: string): Promise<number> {
  const elapsed = await atBothWithinASecond(token, 401);
  for (const url of gateways()) {
    const response = await probe(url, token);
    expect(errorBody(response).errors[0]).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('revoked') });
  }
  return elapsed;
}

async function exchange(apikey: string): Promise<IamWire.TokenResponse> {
  const response = await request(`${stack.gatewayUrl}/identity/token`, { method: 'POST', form: { grant_type: API_KEY_GRANT, apikey }, deadlineMs });
  expect(response.status).toBe(200);
  return IamWire.TokenResponse.parse(response.body);
}

const refresh = (refreshToken: string) =>
  request(`${second.url}/identity/token`, { method: 'POST', form: { grant_type: 'refresh_token', refresh_token: refreshToken }, deadlineMs });

/** A service ID of the admin's account with one API key, and a token of that key accepted by both gateways. */
async function serviceIdWithToken(name: string) {
  const serviceId = await createServiceId(admin, name);
  const key = await createApiKey(admin, serviceId.iam_id, `${name}-key`);
  const token = await accessToken(stack, key.apikey);
  expect(await statuses(token)).toEqual([200, 200]);
  return { serviceId, key, token };
}

describe('revocation and policy changes reach two gateway replicas within a second (distributed stack)', () => {
  beforeAll(async () => {
    second = await startExtraGateway(stack, 'gateway-2');
    const operator = await adminAccessToken(stack);
    const account = await createAccountOverHttp(stack, operator, `revocation ${stack.runId}`);
    admin = await adminSession(stack, account.apikey);
  });

  afterAll(async () => {
    await second?.stop();
  });

  it('deleting an API key: its tokens are refused at both gateways; the key no longer signs in', async ({ annotate }) => {
    const { key, token } = await serviceIdWithToken('deleted-key');
    const other = await serviceIdWithToken('bystander');
    expect((await call(second.url, 'DELETE', `/v1/apikeys/${key.id}`, admin.token)).status).toBe(204);
    await annotate(`refused at both gateways ${await expectRevokedEverywhere(token)} ms after the 204`);
    expect(await statuses(other.token)).toEqual([200, 200]);
    const signIn = await request(`${stack.gatewayUrl}/identity/token`, { method: 'POST', form: { grant_type: API_KEY_GRANT, apikey: key.apikey }, deadlineMs });
    expect(signIn.status).toBe(400);
    expect(errorBody(signIn).errors[0]?.code).toBe('INVALID_GRANT');
  });

  it('deleting a service ID: the tokens of every one of its keys are refused at both gateways', async ({ annotate }) => {
    const { serviceId, token } = await serviceIdWithToken('deleted-service-id');
    const secondKey = await createApiKey(admin, serviceId.iam_id, 'second-key');
    const secondToken = await accessToken(stack, secondKey.apikey);
    expect((await call(stack.gatewayUrl, 'DELETE', `/v1/serviceids/${serviceId.id}`, admin.token)).status).toBe(204);
    await annotate(`refused at both gateways ${await expectRevokedEverywhere(token)} ms after the 204`);
    await expectRevokedEverywhere(secondToken);
  });

  it('removing a user: its tokens are refused at both gateways', async ({ annotate }) => {
    const invited = await call(stack.gatewayUrl, 'POST', `/v2/accounts/${admin.accountId}/users`, admin.token, {
      users: [{ email: `user-${stack.runId}@example.com` }],
    });
    expect(invited.status).toBe(202);
    const [user] = IamWire.InvitedUserList.parse(invited.body).resources;
    if (!user) throw new Error('no user invited');
    const token = await accessToken(stack, user.apikey);
    expect(await statuses(token)).toEqual([200, 200]);
    expect((await call(second.url, 'DELETE', `/v2/accounts/${admin.accountId}/users/${user.id}`, admin.token)).status).toBe(204);
    await annotate(`refused at both gateways ${await expectRevokedEverywhere(token)} ms after the 204`);
  });

  it('a refresh token presented twice: every access token of its chain is refused at both gateways, other sign-ins work', async ({ annotate }) => {
    const { key } = await serviceIdWithToken('replayed');
    const session = await exchange(key.apikey);
    const otherSession = await exchange(key.apikey);
    const refreshed = await refresh(session.refresh_token);
    expect(refreshed.status).toBe(200);
    const refreshedToken = IamWire.TokenResponse.parse(refreshed.body).access_token;
    expect(await statuses(refreshedToken)).toEqual([200, 200]);

    const replay = await refresh(session.refresh_token);
    expect(replay.status).toBe(400);
    expect(errorBody(replay).errors[0]?.code).toBe('INVALID_GRANT');
    await annotate(`refused at both gateways ${await expectRevokedEverywhere(refreshedToken)} ms after the replay`);
    await expectRevokedEverywhere(session.access_token);
    expect(await statuses(otherSession.access_token)).toEqual([200, 200]);
  });

  it('a policy deleted, then created again, reaches the decision caches of both gateways within a second', async ({ annotate }) => {
    const { serviceId, token } = await serviceIdWithToken('policy-holder');
    const policy = await createAccessPolicy(admin, serviceId.iam_id, 'Viewer', { serviceName: 'iam-access-management' });
    // The grant shows (once any earlier denial left the 5 s cache), then both gateways cache the answer.
    await expect.poll(() => statuses(token, '/v2/roles'), { timeout: 15_000, interval: 250 }).toEqual([200, 200]);

    expect((await call(second.url, 'DELETE', `/v1/policies/${policy.id}`, admin.token)).status).toBe(204);
    const denied = await atBothWithinASecond(token, 403, '/v2/roles');
    await createAccessPolicy(admin, serviceId.iam_id, 'Viewer', { serviceName: 'iam-access-management' });
    const granted = await atBothWithinASecond(token, 200, '/v2/roles');
    await annotate(`denied at both gateways ${denied} ms after the delete, allowed again ${granted} ms after the create`);
  });

  it('a gateway started after a revocation refuses the token from its first request', async () => {
    const { key, token } = await serviceIdWithToken('before-start');
    expect((await call(stack.gatewayUrl, 'DELETE', `/v1/apikeys/${key.id}`, admin.token)).status).toBe(204);
    await expectRevokedEverywhere(token);
    const late = await startExtraGateway(stack, 'gateway-3');
    try {
      const response = await probe(late.url, token);
      expect(response.status).toBe(401);
      expect(errorBody(response).errors[0]?.code).toBe('UNAUTHORIZED');
    } finally {
      await late.stop();
    }
  });
});
