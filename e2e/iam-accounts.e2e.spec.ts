import IamIdentityV1 from '@ibm-cloud/platform-services/iam-identity/v1.js';
import UserManagementV1 from '@ibm-cloud/platform-services/user-management/v1.js';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessToken, adminAccessToken, bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { errorBody, request } from './harness/http.js';
import { createAccountOverHttp, createApiKey, createServiceId, sdkFailure, type AdminSession } from './harness/iam.js';

/**
 * Accounts for several tenants, over HTTP: a platform operator (the first-start administrator)
 * creates them with `POST /v1/accounts`; nobody else can. Each account's administrator sets who may
 * create API keys (IBM `getAccountSettings`/`updateAccountSettings` through the official
 * `IamIdentityV1`) and manages its users (`UserManagementV1`: invite, remove). Every error a caller
 * can cause is a 4xx with its code.
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const deadlineMs = stack.rpcTimeoutMs + 5_000;
const tag = `accounts-${stack.runId}`;

const post = (path: string, token: string, body: unknown) => request(`${gateway}${path}`, { method: 'POST', headers: bearer(token), body, deadlineMs });

describe('accounts, account settings and users over HTTP (distributed stack)', () => {
  let operatorToken = '';
  let tenant: { accountId: string; adminIamId: string; apikey: string };
  let identity: IamIdentityV1;
  let users: UserManagementV1;

  beforeAll(async () => {
    operatorToken = await adminAccessToken(stack);
    const created = await createAccountOverHttp(stack, operatorToken, `${tag}-tenant`);
    tenant = { accountId: created.account_id, adminIamId: created.admin_iam_id, apikey: created.apikey };
    const authenticator = new IamAuthenticator({ apikey: created.apikey, url: gateway });
    identity = new IamIdentityV1({ authenticator, serviceUrl: gateway });
    users = new UserManagementV1({ authenticator, serviceUrl: gateway });
  });

  it("the operator's new account works at once: its administrator signs in and lists the operator's account nowhere", async () => {
    const token = await accessToken(stack, tenant.apikey);
    const keys = await request<{ apikeys: { account_id: string }[] }>(`${gateway}/v1/apikeys`, { headers: bearer(token), deadlineMs });
    expect(keys.status).toBe(200);
    expect(keys.body.apikeys.map((key) => key.account_id)).toEqual([tenant.accountId]);
    const listed = await request<{ accounts: { account_id: string }[] }>(`${gateway}/v1/accounts?pagesize=100`, { headers: bearer(operatorToken), deadlineMs });
    expect(listed.status).toBe(200);
    expect(listed.body.accounts.map((account) => account.account_id)).toContain(tenant.accountId);
  });

  it('refuses account creation to anyone but a platform operator (403 FORBIDDEN) and a body without a name (400)', async () => {
    const tenantToken = await accessToken(stack, tenant.apikey);
    for (const [path, status] of [
      ['/v1/accounts', 403],
      ['/v1/accounts?pagesize=1', 403],
    ] as const) {
      const response = path.includes('?')
        ? await request(`${gateway}${path}`, { headers: bearer(tenantToken), deadlineMs })
        : await post(path, tenantToken, { name: 'not mine to make' });
      expect(response.status, path).toBe(status);
      expect(errorBody(response).errors[0], path).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('platform operator') });
    }
    const invalid = await post('/v1/accounts', operatorToken, { title: 'no name' });
    expect(invalid.status).toBe(400);
    expect(errorBody(invalid).errors[0]).toMatchObject({ code: 'VALIDATION_FAILED', target: { name: 'name' } });
  });

  it('account settings through IamIdentityV1: restricted API key creation by default, changed with If-Match; bad input is a 4xx with its code', async () => {
    const read = await identity.getAccountSettings({ accountId: tenant.accountId });
    expect(read.status).toBe(200);
    expect(read.result).toMatchObject({ account_id: tenant.accountId, restrict_create_platform_apikey: 'NOT_SET', restrict_create_service_id: 'RESTRICTED' });
    const etag = read.headers['etag'] as string;
    expect(etag).toBe(read.result.entity_tag);

    const updated = await identity.updateAccountSettings({ accountId: tenant.accountId, ifMatch: etag, restrictCreatePlatformApikey: 'NOT_RESTRICTED' });
    expect(updated.result).toMatchObject({ restrict_create_platform_apikey: 'NOT_RESTRICTED', entity_tag: String(Number(etag) + 1) });

    expect(await sdkFailure(identity.updateAccountSettings({ accountId: tenant.accountId, ifMatch: etag, restrictCreatePlatformApikey: 'RESTRICTED' }))).toEqual({
      status: 412,
      code: 'PRECONDITION_FAILED',
    });
    expect(await sdkFailure(identity.updateAccountSettings({ accountId: tenant.accountId, ifMatch: '*', mfa: 'TOTP' }))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await sdkFailure(identity.updateAccountSettings({ accountId: tenant.accountId, ifMatch: '*', restrictCreateServiceId: 'NOT_RESTRICTED' }))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    // Another account's settings do not exist for this caller.
    const platform = await createAccountOverHttp(stack, operatorToken, `${tag}-other`);
    expect(await sdkFailure(identity.getAccountSettings({ accountId: platform.account_id }))).toEqual({ status: 404, code: 'NOT_FOUND' });
    await identity.updateAccountSettings({ accountId: tenant.accountId, ifMatch: '*', restrictCreatePlatformApikey: 'NOT_SET' });
  });

  it("users through UserManagementV1: invited with a first API key, removed with their tokens; the owner stays (409)", async () => {
    const invited = await users.inviteUsers({ accountId: tenant.accountId, users: [{ email: `${tag}@example.com`, account_role: 'Member' }] });
    expect(invited.status).toBe(202);
    const [user] = (invited.result as { resources: { id: string; email: string; apikey: string }[] }).resources;
    if (!user) throw new Error('no user invited');
    expect(user.email).toBe(`${tag}@example.com`);
    const userToken = await accessToken(stack, user.apikey);

    const listed = await users.listUsers({ accountId: tenant.accountId });
    expect(listed.result.resources?.map((profile) => profile.iam_id).sort()).toEqual([tenant.adminIamId, user.id].sort());

    // The user's own key needs a grant while the account restricts API key creation (the default).
    const own = await post('/v1/apikeys', userToken, { name: 'mine', iam_id: user.id });
    expect(own.status).toBe(403);
    expect(errorBody(own).errors[0]?.code).toBe('APIKEY_CREATION_RESTRICTED');

    expect(await sdkFailure(users.inviteUsers({ accountId: tenant.accountId, users: [{ email: `${tag}@example.com` }] }))).toEqual({ status: 409, code: 'CONFLICT' });
    expect(await sdkFailure(users.inviteUsers({ accountId: tenant.accountId, users: [{ email: 'x@example.com' }], accessGroups: ['g1'] }))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(await sdkFailure(users.removeUser({ accountId: tenant.accountId, iamId: tenant.adminIamId }))).toEqual({ status: 409, code: 'CONFLICT' });

    expect((await users.removeUser({ accountId: tenant.accountId, iamId: user.id })).status).toBe(204);
    // Revocation reaches every gateway within a second (an event after iam's commit): poll that long.
    const refused = async () => request(`${gateway}/v1/apikeys`, { headers: bearer(userToken), deadlineMs });
    await expect.poll(async () => (await refused()).status, { timeout: 1_500, interval: 100 }).toBe(401);
    const after = await refused();
    expect(after.status).toBe(401);
    expect(errorBody(after).errors[0]?.code).toBe('UNAUTHORIZED');
    expect(await sdkFailure(users.removeUser({ accountId: tenant.accountId, iamId: user.id }))).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it('a service ID may create keys for itself only with a grant on itself', async () => {
    const session: AdminSession = { stack, accountId: tenant.accountId, token: await accessToken(stack, tenant.apikey) };
    const robot = await createServiceId(session, `${tag}-robot`);
    const key = await createApiKey(session, robot.iam_id, `${tag}-robot-key`);
    const robotToken = await accessToken(stack, key.apikey);
    const refused = await post('/v1/apikeys', robotToken, { name: 'self', iam_id: robot.iam_id });
    expect(refused.status).toBe(403);
    expect(errorBody(refused).errors[0]?.code).toBe('APIKEY_CREATION_RESTRICTED');
  });
});
