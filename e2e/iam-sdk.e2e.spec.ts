import IamIdentityV1 from '@ibm-cloud/platform-services/iam-identity/v1.js';
import IamPolicyManagementV1 from '@ibm-cloud/platform-services/iam-policy-management/v1.js';
import { ActionRoles, Actions, PlatformRoles, roleCrn, ServiceRoles, type RoleName } from '@sealbox/contracts';
import { IamAuthenticator, IamTokenManager } from 'ibm-cloud-sdk-core';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { errorBody, poll, request } from './harness/http.js';
import { decodeJwt, sdkFailure, sdkStatus } from './harness/iam.js';

/**
 * IAM through the official IBM SDKs, unchanged: `IamAuthenticator` (ibm-cloud-sdk-core 5.9.1),
 * `IamIdentityV1` and `IamPolicyManagementV1` (@ibm-cloud/platform-services 0.83.1), with only their
 * `url` / `serviceUrl` pointed at the gateway. Errors are read from `err.status` and `err.result`
 * (the parsed IBM error body): the SDK rewrites the message of 401/403 answers.
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const adminKey = readFileSync(stack.adminKeyFile, 'utf8').trim();
const hopDeadlineMs = stack.rpcTimeoutMs + 2_000;
/** Names of everything this file creates, so a failure can be traced to its run and file. */
const tag = `sdk-${stack.runId}`;

/** The bearer token an authenticator puts on a request (its public `authenticate`). */
async function bearerOf(authenticator: IamAuthenticator): Promise<string> {
  // The SDK replaces `headers` with an extended copy, so read it back from the options object.
  const options: { headers: Record<string, string | number | string[] | undefined> } = { headers: {} };
  await authenticator.authenticate(options);
  const value = String(options.headers['Authorization'] ?? '');
  expect(value).toMatch(/^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  return value.slice('Bearer '.length);
}

const identityClient = (authenticator: IamAuthenticator) => new IamIdentityV1({ authenticator, serviceUrl: gateway });
const policyClient = (authenticator: IamAuthenticator) => new IamPolicyManagementV1({ authenticator, serviceUrl: gateway });

const accessPolicy = (accountId: string, iamId: string, role: RoleName, resource: Record<string, string>) => ({
  type: 'access',
  subjects: [{ attributes: [{ name: 'iam_id', value: iamId }] }],
  roles: [{ role_id: roleCrn(role) }],
  resources: [{ attributes: [{ name: 'accountId', value: accountId }, ...Object.entries(resource).map(([name, value]) => ({ name, value }))] }],
});

/** A protected route the admin may use, answered by iam: proves a token works end to end. */
const rolesWith = (token: string) => request(`${gateway}/v2/roles`, { headers: bearer(token), deadlineMs: hopDeadlineMs });

describe('IAM through the official IBM SDKs, pointed at the gateway', () => {
  const adminAuth = new IamAuthenticator({ apikey: adminKey, url: gateway });
  const identity = identityClient(adminAuth);
  const policies = policyClient(adminAuth);
  let accountId = '';
  /** Service IDs this file created; deleted at the end (with their keys and policies). */
  const createdServiceIds: string[] = [];

  beforeAll(async () => {
    accountId = decodeJwt(await bearerOf(adminAuth)).claims.account.bss;
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    for (const id of createdServiceIds) {
      await identity.deleteServiceId({ id }).catch(() => undefined);
    }
  });

  async function newServiceId(name: string): Promise<IamIdentityV1.ServiceId> {
    const response = await identity.createServiceId({ accountId, name: `${tag}-${name}`, description: 'made by iam-sdk.e2e' });
    expect(response.status).toBe(201);
    createdServiceIds.push(response.result.id ?? '');
    return response.result;
  }

  describe('IamAuthenticator', () => {
    it('obtains an ES256 access token of one hour (exp - iat = 3600) whose kid is in the JWKS', async () => {
      const token = await bearerOf(new IamAuthenticator({ apikey: adminKey, url: gateway }));

      const { header, claims } = decodeJwt(token);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
      expect(claims.exp - claims.iat).toBe(3600);
      expect(claims.iam_id).toMatch(/^IBMid-/);
      expect(claims.sub_type).toBe('user');
      expect(claims.account.bss).toMatch(/^[0-9a-f]{32}$/);
      const jwks = await request<{ keys: { kid: string }[] }>(`${gateway}/identity/keys`, { deadlineMs: hopDeadlineMs });
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys.map((key) => key.kid)).toContain(header['kid']);
      expect((await rolesWith(token)).status).toBe(200);
    });

    it('refreshes in the background once 80% of the lifetime has passed (its clock is moved, nothing sleeps)', async () => {
      const authenticator = new IamAuthenticator({ apikey: adminKey, url: gateway });
      const first = await bearerOf(authenticator);
      const { iat, exp } = decodeJwt(first).claims;

      // Only Date is faked (the SDK's clock); timers and sockets stay real.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime((iat + 0.85 * (exp - iat)) * 1000);
      // Still valid: the SDK hands out the stored token and asks for a new one behind it.
      expect(await bearerOf(authenticator)).toBe(first);
      const { value: refreshed } = await poll(() => bearerOf(authenticator), (token) => token !== first, {
        intervalMs: 50,
        maxPolls: 100,
      });
      vi.useRealTimers();

      expect(refreshed).not.toBe(first);
      const claims = decodeJwt(refreshed).claims;
      expect(claims.exp - claims.iat).toBe(3600);
      expect(claims.jti).not.toBe(decodeJwt(first).claims.jti);
      expect(claims.iam_id).toBe(decodeJwt(first).claims.iam_id);
      expect((await rolesWith(refreshed)).status).toBe(200);
    });

    it('requests a new token before the next call once the stored one has expired', async () => {
      const authenticator = new IamAuthenticator({ apikey: adminKey, url: gateway });
      const first = await bearerOf(authenticator);

      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(decodeJwt(first).claims.exp * 1000);
      const second = await bearerOf(authenticator);
      vi.useRealTimers();

      expect(second).not.toBe(first);
      expect(decodeJwt(second).claims.exp - decodeJwt(second).claims.iat).toBe(3600);
      expect((await rolesWith(second)).status).toBe(200);
    });

    it("exchanges the SDK's refresh token once (grant_type=refresh_token over raw HTTP); a replay is refused and revokes the chain", async () => {
      // The SDK stores the refresh token but always re-exchanges the API key, so the refresh grant is
      // sent by hand, with the refresh token the SDK's own IamTokenManager received. A service ID's
      // key is used: a replay revokes every refresh token of its chain (this sign-in) and its access tokens.
      const serviceId = await newServiceId('refresh');
      const created = await identity.createApiKey({ name: `${tag}-refresh`, iamId: serviceId.iam_id, accountId });
      const manager = new IamTokenManager({ apikey: created.result.apikey ?? '', url: gateway });
      const original = String(await manager.getToken());
      const refreshToken = manager.getRefreshToken();
      expect(refreshToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);

      const refresh = (value: string) =>
        request<{ access_token: string; refresh_token: string; token_type: string; expires_in: number; expiration: number }>(
          `${gateway}/identity/token`,
          { method: 'POST', form: { grant_type: 'refresh_token', refresh_token: value }, deadlineMs: hopDeadlineMs },
        );
      const renewed = await refresh(refreshToken);

      expect(renewed.status).toBe(200);
      expect(renewed.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      expect(renewed.body.refresh_token).not.toBe(refreshToken);
      const claims = decodeJwt(renewed.body.access_token).claims;
      expect(claims.exp - claims.iat).toBe(3600);
      expect(renewed.body.expiration).toBe(claims.exp);
      expect(claims.iam_id).toBe(serviceId.iam_id);
      expect(claims.sub_type).toBe('ServiceId');
      expect(claims.jti).not.toBe(decodeJwt(original).claims.jti);

      const replay = await refresh(refreshToken);
      expect(replay.status).toBe(400);
      expect(errorBody(replay).errors[0]?.code).toBe('INVALID_GRANT');
      // The replay revoked the refresh token issued by the first refresh too.
      const revoked = await refresh(renewed.body.refresh_token);
      expect(revoked.status).toBe(400);
      expect(errorBody(revoked).errors[0]?.code).toBe('INVALID_GRANT');
      // And the access tokens of the chain: refused at the gateway once the revocation arrives.
      await expect.poll(async () => (await rolesWith(renewed.body.access_token)).status, { timeout: 5_000, interval: 100 }).toBe(401);
    });

    it('is refused a token for an unknown API key: 400 INVALID_GRANT from the token endpoint', async () => {
      const failure = await sdkFailure(bearerOf(new IamAuthenticator({ apikey: `unknown-${randomUUID()}`, url: gateway })));
      expect(failure).toEqual({ status: 400, code: 'INVALID_GRANT' });
    });
  });

  describe('IamIdentityV1', () => {
    it('creates a service ID and lists it (pagesize/pagetoken until next is absent)', async () => {
      const serviceId = await newServiceId('listed');
      expect(serviceId.id).toMatch(/^ServiceId-/);
      expect(serviceId.iam_id).toBe(`iam-${serviceId.id}`);
      expect(serviceId.account_id).toBe(accountId);

      const seen: string[] = [];
      let pagetoken: string | undefined;
      for (let page = 0; page < 100; page++) {
        const response = await identity.listServiceIds({ accountId, pagesize: 2, ...(pagetoken ? { pagetoken } : {}) });
        expect(response.status).toBe(200);
        seen.push(...response.result.serviceids.map((item) => item.id ?? ''));
        const next = response.result.next;
        if (!next) break;
        pagetoken = new URL(next, gateway).searchParams.get('pagetoken') ?? undefined;
        expect(pagetoken).toBeDefined();
      }
      expect(seen).toContain(serviceId.id);
      expect(new Set(seen).size).toBe(seen.length);
      const got = await identity.getServiceId({ id: serviceId.id ?? '' });
      expect(got.result).toMatchObject({ id: serviceId.id, name: `${tag}-listed` });
    });

    it('runs the API key lifecycle: create (value once), page, get, details, If-Match update, lock, unlock, delete', async () => {
      const serviceId = await newServiceId('keys');
      const iamId = serviceId.iam_id;

      const created = await identity.createApiKey({ name: `${tag}-key-0`, iamId, accountId, description: 'first' });
      expect(created.status).toBe(201);
      const key = created.result;
      const value = key.apikey ?? '';
      expect(value.length).toBeGreaterThanOrEqual(32);
      expect(key).toMatchObject({ iam_id: iamId, account_id: accountId, locked: false });
      const id = key.id ?? '';
      for (const n of [1, 2]) {
        expect((await identity.createApiKey({ name: `${tag}-key-${n}`, iamId })).status).toBe(201);
      }

      // The value is shown once: never again by get, list or details.
      const got = await identity.getApiKey({ id });
      expect(got.status).toBe(200);
      expect(got.result.apikey).toBeUndefined();
      expect(got.headers['etag']).toBe(got.result.entity_tag);

      // IamIdentityV1 0.83.1 has no ApiKeysPager: page by hand with pagesize/pagetoken.
      const pages: string[][] = [];
      let pagetoken: string | undefined;
      for (let page = 0; page < 10; page++) {
        const listed = await identity.listApiKeys({ accountId, iamId, pagesize: 1, ...(pagetoken ? { pagetoken } : {}) });
        expect(listed.status).toBe(200);
        pages.push(listed.result.apikeys.map((item) => item.id ?? ''));
        for (const item of listed.result.apikeys) expect(item.apikey).toBeUndefined();
        if (!listed.result.next) break;
        pagetoken = new URL(listed.result.next, gateway).searchParams.get('pagetoken') ?? undefined;
      }
      expect(pages.map((page) => page.length)).toEqual([1, 1, 1]);
      expect(new Set(pages.flat()).size).toBe(3);
      expect(pages.flat()).toContain(id);

      const details = await identity.getApiKeysDetails({ iamApiKey: value });
      expect(details.status).toBe(200);
      expect(details.result).toMatchObject({ id, iam_id: iamId });
      expect(details.result.apikey).toBeUndefined();

      const tagBefore = got.result.entity_tag ?? '';
      const updated = await identity.updateApiKey({ id, ifMatch: tagBefore, name: `${tag}-renamed`, description: 'renamed' });
      expect(updated.status).toBe(200);
      expect(updated.result).toMatchObject({ id, name: `${tag}-renamed`, description: 'renamed' });
      expect(updated.result.entity_tag).not.toBe(tagBefore);

      const stale = await sdkFailure(identity.updateApiKey({ id, ifMatch: tagBefore, name: `${tag}-stale` }));
      expect(stale).toEqual({ status: 412, code: 'PRECONDITION_FAILED' });

      expect((await identity.lockApiKey({ id })).status).toBe(204);
      const locked = await identity.getApiKey({ id });
      expect(locked.result.locked).toBe(true);
      const current = locked.result.entity_tag ?? '';
      expect(await sdkFailure(identity.updateApiKey({ id, ifMatch: current, name: `${tag}-locked` }))).toEqual({
        status: 409,
        code: 'CONFLICT',
      });
      expect(await sdkFailure(identity.deleteApiKey({ id }))).toEqual({ status: 409, code: 'CONFLICT' });
      // A locked key is protected from change, not from use (as in IBM Cloud).
      expect(decodeJwt(await bearerOf(new IamAuthenticator({ apikey: value, url: gateway }))).claims.iam_id).toBe(iamId);

      expect((await identity.unlockApiKey({ id })).status).toBe(204);
      expect((await identity.getApiKey({ id })).result.locked).toBe(false);
      expect((await identity.deleteApiKey({ id })).status).toBe(204);
      expect(await sdkFailure(identity.getApiKey({ id }))).toEqual({ status: 404, code: 'NOT_FOUND' });
      // The deleted key no longer signs in.
      expect(await sdkFailure(bearerOf(new IamAuthenticator({ apikey: value, url: gateway })))).toEqual({
        status: 400,
        code: 'INVALID_GRANT',
      });

      expect((await identity.deleteServiceId({ id: serviceId.id ?? '' })).status).toBe(204);
      expect(await sdkFailure(identity.getServiceId({ id: serviceId.id ?? '' }))).toEqual({ status: 404, code: 'NOT_FOUND' });
    });
  });

  describe('IamPolicyManagementV1', () => {
    it('runs the access policy lifecycle: create, list with PoliciesPager (terminates), get with ETag, If-Match replace, delete', async () => {
      const serviceId = await newServiceId('policies');
      const iamId = serviceId.iam_id;
      const reader = accessPolicy(accountId, iamId, 'Reader', { serviceName: 'secrets-manager' });

      const created = await policies.createPolicy(reader);
      expect(created.status).toBe(201);
      const policyId = created.result.id ?? '';
      expect(created.result).toMatchObject({ type: 'access', roles: [{ role_id: roleCrn('Reader') }], state: 'active' });
      expect(created.result.subjects).toEqual(reader.subjects);
      // Two more, so a page size of 1 takes three pages.
      for (const service of ['kms', 'hs-crypto']) {
        expect((await policies.createPolicy(accessPolicy(accountId, iamId, 'Reader', { serviceName: service }))).status).toBe(201);
      }

      const pager = new IamPolicyManagementV1.PoliciesPager(policies, { accountId, iamId, limit: 1 });
      const pages: string[][] = [];
      while (pager.hasNext()) {
        pages.push((await pager.getNext()).map((policy) => policy.id ?? ''));
        if (pages.length > 10) throw new Error('PoliciesPager does not terminate');
      }
      expect(pages.map((page) => page.length)).toEqual([1, 1, 1]);
      expect(new Set(pages.flat()).size).toBe(3);
      expect(pages.flat()).toContain(policyId);
      const all = await new IamPolicyManagementV1.PoliciesPager(policies, { accountId, iamId, limit: 2 }).getAll();
      expect(all.map((policy) => policy.id).sort()).toEqual(pages.flat().sort());

      const got = await policies.getPolicy({ policyId });
      expect(got.status).toBe(200);
      const etag = String(got.headers['etag'] ?? '');
      expect(etag).not.toBe('');

      const writer = accessPolicy(accountId, iamId, 'Writer', { serviceName: 'secrets-manager' });
      const replaced = await policies.replacePolicy({ policyId, ifMatch: etag, ...writer });
      expect(replaced.status).toBe(200);
      expect(replaced.result).toMatchObject({ id: policyId, roles: [{ role_id: roleCrn('Writer') }] });
      expect(String(replaced.headers['etag'] ?? '')).not.toBe(etag);
      expect((await policies.getPolicy({ policyId })).result.roles).toMatchObject([{ role_id: roleCrn('Writer') }]);

      const stale = await sdkFailure(policies.replacePolicy({ policyId, ifMatch: etag, ...reader }));
      expect(stale).toEqual({ status: 412, code: 'PRECONDITION_FAILED' });

      expect((await policies.deletePolicy({ policyId })).status).toBe(204);
      expect(await sdkFailure(policies.getPolicy({ policyId }))).toEqual({ status: 404, code: 'NOT_FOUND' });
    });

    it('creates and deletes an authorization policy (secrets-manager → one kms instance, Reader); a caller without Administrator on the target gets 403', async () => {
      const kmsInstance = randomUUID();
      const authorization = {
        type: 'authorization',
        subjects: [{ attributes: [{ name: 'accountId', value: accountId }, { name: 'serviceName', value: 'secrets-manager' }] }],
        roles: [{ role_id: roleCrn('Reader') }],
        resources: [
          {
            attributes: [
              { name: 'accountId', value: accountId },
              { name: 'serviceName', value: 'kms' },
              { name: 'serviceInstance', value: kmsInstance },
            ],
          },
        ],
      };

      const created = await policies.createPolicy(authorization);
      expect(created.status).toBe(201);
      const policyId = created.result.id ?? '';
      expect(created.result).toMatchObject({ type: 'authorization', roles: [{ role_id: roleCrn('Reader') }] });
      const listed = await policies.listPolicies({ accountId, type: 'authorization', limit: 100 });
      expect(listed.result.policies.map((policy) => policy.id)).toContain(policyId);
      expect(listed.result.policies.every((policy) => policy.type === 'authorization')).toBe(true);

      // A service ID holding Viewer on iam-access-management (it may read policies) but nothing on the kms instance.
      const serviceId = await newServiceId('not-kms-admin');
      expect((await policies.createPolicy(accessPolicy(accountId, serviceId.iam_id, 'Viewer', { serviceName: 'iam-access-management' }))).status).toBe(201);
      const key = await identity.createApiKey({ name: `${tag}-not-kms-admin`, iamId: serviceId.iam_id });
      const asServiceId = policyClient(new IamAuthenticator({ apikey: key.result.apikey ?? '', url: gateway }));
      expect(await sdkFailure(asServiceId.createPolicy(authorization))).toEqual({ status: 403, code: 'FORBIDDEN' });
      expect(await sdkFailure(asServiceId.deletePolicy({ policyId }))).toEqual({ status: 403, code: 'FORBIDDEN' });

      expect((await policies.deletePolicy({ policyId })).status).toBe(204);
      expect(await sdkFailure(policies.getPolicy({ policyId }))).toEqual({ status: 404, code: 'NOT_FOUND' });
    });

    it('lists the roles: the four platform roles and the four service roles, with the actions of the one action table', async () => {
      const roles = await policies.listRoles({});

      expect(roles.status).toBe(200);
      expect(roles.result.custom_roles).toEqual([]);
      expect(roles.result.system_roles.map((role) => role.display_name)).toEqual([...PlatformRoles]);
      expect(roles.result.service_roles.map((role) => role.display_name)).toEqual([...ServiceRoles]);
      for (const role of [...roles.result.system_roles, ...roles.result.service_roles]) {
        const name = role.display_name as RoleName;
        expect(role.crn).toBe(roleCrn(name));
        const granted = Actions.filter((action) => (ActionRoles[action] as readonly RoleName[]).includes(name));
        expect([...role.actions].sort()).toEqual([...granted].sort());
      }
      const kmsOnly = await policies.listRoles({ serviceName: 'kms' });
      expect(kmsOnly.result.service_roles.flatMap((role) => role.actions).every((action) => action.startsWith('kms.'))).toBe(true);
    });
  });

  it("lets a service ID's API key, exchanged by the SDK, use a route its policy allows, and only while the policy exists", async () => {
    const serviceId = await newServiceId('caller');
    const key = await identity.createApiKey({ name: `${tag}-caller`, iamId: serviceId.iam_id });
    const authenticator = new IamAuthenticator({ apikey: key.result.apikey ?? '', url: gateway });
    const asServiceId = policyClient(authenticator);
    const claims = decodeJwt(await bearerOf(authenticator)).claims;
    expect(claims).toMatchObject({ iam_id: serviceId.iam_id, sub_type: 'ServiceId', account: { bss: accountId } });

    // No policy yet: GET /v2/roles needs iam-access-management.role.list.
    expect(await sdkFailure(asServiceId.listRoles({}))).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(await sdkFailure(asServiceId.listPolicies({ accountId }))).toEqual({ status: 403, code: 'FORBIDDEN' });

    const viewer = await policies.createPolicy(accessPolicy(accountId, serviceId.iam_id, 'Viewer', { serviceName: 'iam-access-management' }));
    expect(viewer.status).toBe(201);
    // The gateway may still hold the cached denial until the policy event clears it (TTL 5 s at worst).
    const listRoles = () => sdkStatus(asServiceId.listRoles({}));
    const allowed = await poll(listRoles, (status) => status === 200, { intervalMs: 100, maxPolls: 80 });
    expect(allowed.value).toBe(200);
    const own = await asServiceId.listPolicies({ accountId, iamId: serviceId.iam_id });
    expect(own.status).toBe(200);
    expect(own.result.policies.map((policy) => policy.id)).toEqual([viewer.result.id]);
    // Viewer on iam-access-management is not Administrator: it cannot grant itself more.
    const escalation = accessPolicy(accountId, serviceId.iam_id, 'Manager', { serviceName: 'secrets-manager' });
    expect(await sdkFailure(asServiceId.createPolicy(escalation))).toEqual({ status: 403, code: 'FORBIDDEN' });

    expect((await policies.deletePolicy({ policyId: viewer.result.id ?? '' })).status).toBe(204);
    const revoked = await poll(listRoles, (status) => status === 403, { intervalMs: 100, maxPolls: 80 });
    expect(revoked.value).toBe(403);
  });
});
