import { connectNats } from './harness/infra.js';
import {
  PlatformRoles,
  rolesGranting,
  ServiceRoles,
  serviceOfAction,
  type Action,
  type IamServiceName,
  type RoleName,
} from '@sealbox/contracts';
import { requestOverNats } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessToken, adminAccessToken, bearer } from './harness/auth.js';
import { stackInfo } from './harness/context.js';
import { request, type JsonResponse } from './harness/http.js';
import {
  adminSession,
  createAccessPolicy,
  createAccountOverHttp,
  createApiKey,
  createServiceId,
  type AdminSession,
} from './harness/iam.js';
import { NatsCaller } from './harness/kms.js';
import { provisionSecretsInstance } from './harness/secrets.js';

/**
 * The authorization matrix: two accounts, created over HTTP by the platform operator (`POST
 * /v1/accounts` with the first-start administrator's token); in each one identity per role (each with ONE access policy
 * on the service the role is about), one identity without any policy and the account administrator;
 * every identity sends the HTTP request of every representative action at the gateway, against a
 * resource of its own account and one of the other account. The expected answer of every request is
 * computed from the one action table (`rolesGranting`) and the policy the identity holds, and every
 * answer is checked; then the counts: at least 200 requests, zero unauthorized successes.
 *
 * What "a resource of account X" is: each account gets Secrets Manager and Resource Controller instance
 * ids (and a secret id) that only its own policies name and that no instance has, plus a real Key
 * Protect instance and root key. A PERMITTED request passes the gateway and reaches the service, which
 * answers for itself (404 "Instance … was not found" — its own message — for the unknown instances, 201
 * for a Resource Controller create); a DENIED one is answered by the gateway (403, or 404 with the
 * gateway's message for reads of one item). IAM resources (service IDs, API keys, policies) are real.
 *
 * Cross-account rows. The gateway decides on the caller's policies in the caller's own account, and
 * the service then enforces that the instance belongs to the caller's account. So an account-A token
 * naming account B's instance gets the decision A's policies give for that instance id:
 * - an instance-scoped policy (the Secrets Manager identities hold theirs on their account's instance)
 *   does not name B's instance: denied by the gateway (403/404);
 * - a service-wide policy (Key Protect, Resource Controller) matches any instance id: the request
 *   reaches the service, which answers 404: the instance is not one of the caller's account.
 * What this matrix asserts for every cross-account row is the honest part that holds today and must
 * keep holding: no request on another account's resource succeeds (2xx), and no answer carries account
 * B data. IAM-owned resources of the other account (its service IDs, API keys, policies, its account id
 * in a list or create) are decided by iam itself and answer 403/404 to every caller, administrator
 * included. The role catalog (`GET /v2/roles`) belongs to no account: the same answer either way.
 */

const stack = stackInfo();
const gateway = stack.gatewayUrl;
const deadlineMs = stack.rpcTimeoutMs + 5_000;
/** Request pacing: well under the per-IP limit (200/s, burst 400), so a 429 can only be a bug. */
const PACE = { concurrency: 4, perSecond: 100 } as const;

// ---------- identities ----------

/** One access policy: a role on one service of the caller's account, optionally on one instance only. */
interface Grant {
  readonly role: RoleName;
  readonly serviceName: IamServiceName;
  readonly instanceScoped: boolean;
}

type Holding = { readonly kind: 'admin' } | { readonly kind: 'none' } | { readonly kind: 'grant'; readonly grant: Grant };

const serviceGrants = (serviceName: IamServiceName, instanceScoped: boolean): Grant[] =>
  ServiceRoles.map((role) => ({ role, serviceName, instanceScoped }));
const platformGrants = (serviceName: IamServiceName): Grant[] =>
  PlatformRoles.map((role) => ({ role, serviceName, instanceScoped: false }));

/** Service roles on Secrets Manager (one instance) and Key Protect (the service); platform roles on the three platform services. */
const GRANTS: readonly Grant[] = [
  ...serviceGrants('secrets-manager', true),
  ...serviceGrants('kms', false),
  ...platformGrants('resource-controller'),
  ...platformGrants('iam-identity'),
  ...platformGrants('iam-access-management'),
];

const HOLDINGS: readonly Holding[] = [
  { kind: 'admin' },
  { kind: 'none' },
  ...GRANTS.map((grant): Holding => ({ kind: 'grant', grant })),
];

const holdingLabel = (holding: Holding) =>
  holding.kind === 'grant'
    ? `${holding.grant.role}@${holding.grant.serviceName}${holding.grant.instanceScoped ? '/instance' : ''}`
    : holding.kind;

interface Account {
  readonly label: 'A' | 'B';
  readonly session: AdminSession;
  readonly adminIamId: string;
  /** The administrator's API key value (what `GET /v1/apikeys/details` is asked about). */
  readonly adminApikey: string;
  /** Prefix of the name of everything made in this account: found in an answer to the other account, it is a leak. */
  readonly marker: string;
  readonly smInstance: string;
  readonly secretId: string;
  readonly kmsInstance: string;
  readonly keyId: string;
  readonly resourceGroup: string;
  readonly rcInstance: string;
  /** IAM resources the matrix reads and uses: a service ID with an API key and a policy. */
  readonly target: { readonly serviceId: string; readonly iamId: string; readonly apikeyId: string; readonly policyId: string };
}

interface Caller {
  readonly account: Account;
  readonly holding: Holding;
  readonly token: string;
}

const accountId = (account: Account) => account.session.accountId;

/** Does the holding grant `action` on a resource named by `instance` (the caller's account decides)? */
function holds(caller: Caller, action: Action, instance: string | undefined): boolean {
  const { holding } = caller;
  if (holding.kind !== 'grant') return holding.kind === 'admin';
  const { grant } = holding;
  return (
    rolesGranting(action).includes(grant.role) &&
    grant.serviceName === serviceOfAction(action) &&
    (!grant.instanceScoped || instance === caller.account.smInstance)
  );
}

// ---------- actions ----------

interface Outcome {
  readonly status: number;
  readonly code?: string;
  /** The first error's message, where the same status and code come from the gateway or from the service. */
  readonly message?: RegExp;
}

const ok = (status: number): Outcome => ({ status });
/** The gateway's answer to a denied read of one item: the same 404 as a missing item, with the gateway's own message. */
const DENIED_READ: Outcome = { status: 404, code: 'NOT_FOUND', message: /^The requested resource was not found$/ };
/** The request passed the gateway and the service answered: the matrix's instances are ids no instance has. */
const SM_INSTANCE_UNKNOWN: Outcome = { status: 404, code: 'NOT_FOUND', message: /^Instance [0-9a-f-]{36} was not found/ };
const RC_INSTANCE_UNKNOWN: Outcome = { status: 404, code: 'NOT_FOUND', message: /^Resource instance [0-9a-f-]{36} was not found/ };
const FORBIDDEN: Outcome = { status: 403, code: 'FORBIDDEN' };
const APIKEY_CREATION_RESTRICTED: Outcome = { status: 403, code: 'APIKEY_CREATION_RESTRICTED' };
const NOT_FOUND: Outcome = { status: 404, code: 'NOT_FOUND' };
const UNAUTHORIZED: Outcome = { status: 401, code: 'UNAUTHORIZED' };

interface MatrixAction {
  readonly name: string;
  readonly action: Action;
  /**
   * `gateway`: the route declares the action and the gateway asks iam on the caller's account.
   * `iam`: the route needs an authenticated caller and iam decides on the item itself.
   */
  readonly decidedBy: 'gateway' | 'iam';
  /** The instance the request names (what an instance-scoped policy is compared with). */
  readonly instance?: (target: Account) => string;
  readonly permitted: Outcome;
  readonly denied: (caller: Caller) => Outcome;
  /**
   * The answer to any caller about the other account's item: iam-decided actions, and gateway-decided
   * ones whose route resolves the item in the caller's account first (Key Protect instances).
   */
  readonly otherAccount?: Outcome;
  /** False for what names no account: the role catalog, and a create that always lands in the caller's own account. */
  readonly accountOwned: boolean;
  readonly send: (headers: Record<string, string>, caller: Account, target: Account) => Promise<JsonResponse>;
}

const call = (method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<JsonResponse> =>
  request(`${gateway}${path}`, { method, headers, ...(body === undefined ? {} : { body }), deadlineMs });

const ACTIONS: readonly MatrixAction[] = [
  {
    name: 'SM create secret',
    action: 'secrets-manager.secret.create',
    decidedBy: 'gateway',
    instance: (target) => target.smInstance,
    permitted: SM_INSTANCE_UNKNOWN,
    denied: () => FORBIDDEN,
    accountOwned: true,
    send: (headers, caller, target) =>
      call('POST', `/secrets-manager/${target.smInstance}/api/v2/secrets`, headers, {
        secret_type: 'arbitrary',
        name: `${caller.marker}-secret`,
        payload: 'matrix',
      }),
  },
  {
    name: 'SM get secret',
    action: 'secrets-manager.secret.read',
    decidedBy: 'gateway',
    instance: (target) => target.smInstance,
    permitted: SM_INSTANCE_UNKNOWN,
    denied: () => DENIED_READ,
    accountOwned: true,
    send: (headers, _caller, target) => call('GET', `/secrets-manager/${target.smInstance}/api/v2/secrets/${target.secretId}`, headers),
  },
  {
    name: 'KMS wrap',
    action: 'kms.key.wrap',
    decidedBy: 'gateway',
    instance: (target) => target.kmsInstance,
    // A real instance and root key: a permitted wrap succeeds. Another account's instance does not
    // exist for the caller (the gateway resolves the instance in the caller's account): 404, like a denial.
    permitted: { status: 200 },
    denied: () => NOT_FOUND,
    otherAccount: NOT_FOUND,
    accountOwned: true,
    send: (headers, _caller, target) =>
      call(
        'POST',
        `/kms/api/v2/keys/${target.keyId}/actions/wrap`,
        { ...headers, 'bluemix-instance': target.kmsInstance, 'content-type': 'application/vnd.ibm.kms.key_action_wrap+json' },
        { plaintext: Buffer.from('matrix data key!').toString('base64') },
      ),
  },
  {
    name: 'RC create instance',
    action: 'resource-controller.instance.create',
    decidedBy: 'gateway',
    // A real instance, always in the caller's own account: the body names no account, so the "other
    // account" rows ask the same thing (a success naming the other account is still a mismatch).
    permitted: ok(201),
    denied: () => FORBIDDEN,
    accountOwned: false,
    send: (headers, caller) =>
      call('POST', '/v2/resource_instances', headers, {
        name: `${caller.marker}-instance`,
        target: 'us-south',
        resource_group: caller.resourceGroup,
        resource_plan_id: 'secrets-manager-standard',
      }),
  },
  {
    name: 'RC get instance',
    action: 'resource-controller.instance.read',
    decidedBy: 'gateway',
    permitted: RC_INSTANCE_UNKNOWN,
    denied: () => DENIED_READ,
    accountOwned: true,
    send: (headers, _caller, target) => call('GET', `/v2/resource_instances/${target.rcInstance}`, headers),
  },
  {
    name: 'IAM list roles',
    action: 'iam-access-management.role.list',
    decidedBy: 'gateway',
    permitted: ok(200),
    denied: () => FORBIDDEN,
    accountOwned: false,
    send: (headers, _caller, target) => call('GET', `/v2/roles?account_id=${accountId(target)}`, headers),
  },
  {
    name: 'IAM create service ID',
    action: 'iam-identity.serviceid.create',
    decidedBy: 'iam',
    permitted: ok(201),
    denied: () => FORBIDDEN,
    otherAccount: FORBIDDEN,
    accountOwned: true,
    send: (headers, caller, target) =>
      call('POST', '/v1/serviceids', headers, { account_id: accountId(target), name: `${caller.marker}-made-${randomUUID()}` }),
  },
  {
    name: 'IAM list policies',
    action: 'iam-access-management.policy.list',
    decidedBy: 'iam',
    permitted: ok(200),
    denied: () => FORBIDDEN,
    otherAccount: FORBIDDEN,
    accountOwned: true,
    send: (headers, _caller, target) => call('GET', `/v1/policies?account_id=${accountId(target)}`, headers),
  },
  {
    name: 'IAM create API key for a service ID',
    action: 'iam-identity.apikey.create',
    decidedBy: 'iam',
    permitted: ok(201),
    // A caller who may read the service ID's keys is told it may not create one; anyone else learns nothing.
    denied: (caller) => (holds(caller, 'iam-identity.apikey.read', undefined) ? APIKEY_CREATION_RESTRICTED : NOT_FOUND),
    otherAccount: NOT_FOUND,
    accountOwned: true,
    send: (headers, caller, target) => call('POST', '/v1/apikeys', headers, { name: `${caller.marker}-key`, iam_id: target.target.iamId }),
  },
  {
    name: 'IAM get service ID',
    action: 'iam-identity.serviceid.read',
    decidedBy: 'iam',
    permitted: ok(200),
    denied: () => NOT_FOUND,
    otherAccount: NOT_FOUND,
    accountOwned: true,
    send: (headers, _caller, target) => call('GET', `/v1/serviceids/${target.target.serviceId}`, headers),
  },
  {
    name: 'IAM get API key',
    action: 'iam-identity.apikey.read',
    decidedBy: 'iam',
    permitted: ok(200),
    denied: () => NOT_FOUND,
    otherAccount: NOT_FOUND,
    accountOwned: true,
    send: (headers, _caller, target) => call('GET', `/v1/apikeys/${target.target.apikeyId}`, headers),
  },
  {
    name: 'IAM get policy',
    action: 'iam-access-management.policy.read',
    decidedBy: 'iam',
    permitted: ok(200),
    denied: () => NOT_FOUND,
    otherAccount: NOT_FOUND,
    accountOwned: true,
    send: (headers, _caller, target) => call('GET', `/v1/policies/${target.target.policyId}`, headers),
  },
];

/** The one oracle: what the gateway must answer `caller` for `action` on a resource of `target`. */
function expectedOutcome(caller: Caller, action: MatrixAction, target: Account): { outcome: Outcome; permitted: boolean } {
  const own = caller.account === target;
  if (action.decidedBy === 'iam' && !own) return { outcome: action.otherAccount ?? NOT_FOUND, permitted: false };
  if (!own && action.otherAccount) return { outcome: action.otherAccount, permitted: false };
  const permitted = holds(caller, action.action, action.instance?.(target));
  return { outcome: permitted ? action.permitted : action.denied(caller), permitted };
}

// ---------- running ----------

/** Run `work` over `items` with a few workers, starting at most `perSecond` per second overall. */
async function runPaced<T, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
  options: { readonly concurrency: number; readonly perSecond: number },
): Promise<R[]> {
  const results: R[] = [];
  const interval = 1000 / options.perSecond;
  let next = 0;
  let slot = performance.now();
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      const startAt = Math.max(slot, performance.now());
      slot = startAt + interval;
      const wait = startAt - performance.now();
      if (wait > 0) await sleep(wait);
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return results;
}

/** A Key Protect-like instance of the account, made over NATS as lifecycle will (`kms.instance.create`). */
async function createKmsInstanceOverNats(accountIdOfInstance: string, instanceId: string): Promise<void> {
  const connection = await connectNats(stack.nats);
  try {
    const data = { accountId: accountIdOfInstance, instanceId, serviceName: 'kms' as const, region: 'us-south' };
    await requestOverNats(connection, 'kms.instance.create', data, stack.rpcTimeoutMs + 2_000).catch((error: unknown) => {
      throw new Error(`e2e: kms.instance.create failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  } finally {
    await connection.close();
  }
}

/** A generated root key, created by the account's administrator through the Key Protect API. */
async function createRootKey(session: AdminSession, instanceId: string, name: string): Promise<string> {
  const response = await request(`${stack.gatewayUrl}/kms/api/v2/keys`, {
    method: 'POST',
    headers: { ...bearer(session.token), 'bluemix-instance': instanceId, 'content-type': 'application/vnd.ibm.kms.key+json' },
    body: {
      metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
      resources: [{ type: 'application/vnd.ibm.kms.key+json', name, extractable: false }],
    },
    deadlineMs: stack.rpcTimeoutMs + 5_000,
  });
  const id = (response.body as { resources?: { id?: unknown }[] } | undefined)?.resources?.[0]?.id;
  if (response.status !== 201 || typeof id !== 'string') throw new Error(`e2e: create root key: ${response.status} ${JSON.stringify(response.body)}`);
  return id;
}

async function makeAccount(label: 'A' | 'B', operatorToken: string): Promise<{ account: Account; callers: Caller[] }> {
  const created = await createAccountOverHttp(stack, operatorToken, `matrix ${label} ${stack.runId}`);
  const session = await adminSession(stack, created.apikey);
  expect(session.accountId).toBe(created.account_id);
  const marker = `mx-${stack.runId}-${label}`;

  const targetId = await createServiceId(session, `${marker}-target`);
  const targetPolicy = await createAccessPolicy(session, targetId.iam_id, 'Reader', { serviceName: 'secrets-manager' });
  const targetKey = await createApiKey(session, targetId.iam_id, `${marker}-target-key`);
  const kmsInstance = randomUUID();
  await createKmsInstanceOverNats(session.accountId, kmsInstance);
  const keyId = await createRootKey(session, kmsInstance, `${marker}-root`);
  const account: Account = {
    label,
    session,
    adminIamId: created.admin_iam_id,
    adminApikey: created.apikey,
    marker,
    smInstance: randomUUID(),
    secretId: randomUUID(),
    kmsInstance,
    keyId,
    resourceGroup: randomUUID().replaceAll('-', ''),
    rcInstance: randomUUID(),
    target: { serviceId: targetId.id, iamId: targetId.iam_id, apikeyId: targetKey.id, policyId: targetPolicy.id },
  };

  const callers = await runPaced(
    HOLDINGS,
    async (holding): Promise<Caller> => {
      if (holding.kind === 'admin') return { account, holding, token: session.token };
      const name = `${marker}-${holdingLabel(holding).replaceAll(/[@/]/g, '-')}`;
      const serviceId = await createServiceId(session, name);
      if (holding.kind === 'grant') {
        const { role, serviceName, instanceScoped } = holding.grant;
        await createAccessPolicy(session, serviceId.iam_id, role, {
          serviceName,
          ...(instanceScoped ? { serviceInstance: account.smInstance } : {}),
        });
      }
      const key = await createApiKey(session, serviceId.iam_id, `${name}-key`);
      return { account, holding, token: await accessToken(stack, key.apikey) };
    },
    { concurrency: 3, perSecond: 50 },
  );
  return { account, callers };
}

interface Row {
  readonly who: string;
  readonly action: MatrixAction;
  readonly target: Account;
  readonly cross: boolean;
  readonly expected: Outcome;
  /** The caller's policies allow it (it passes the gateway / iam). */
  readonly permitted: boolean;
  /** Authentication is missing or broken: nothing but 401 is right. */
  readonly unauthenticated: boolean;
  /** The caller's account, for checking that an answer carries nothing of the other one. */
  readonly callerAccount: Account;
  readonly headers: Record<string, string>;
}

interface Result {
  readonly row: Row;
  readonly status: number;
  readonly code: string | undefined;
  readonly text: string;
}

const isSuccess = (status: number) => status >= 200 && status < 300;

function messageOf(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null || !('errors' in body) || !Array.isArray(body.errors)) return undefined;
    const first: unknown = body.errors[0];
    return typeof first === 'object' && first !== null && 'message' in first && typeof first.message === 'string' ? first.message : undefined;
  } catch {
    return undefined;
  }
}

/** The answer is `outcome`: status, code and (where given) message. */
function answers(result: Pick<Result, 'status' | 'code' | 'text'>, outcome: Outcome): boolean {
  return (
    result.status === outcome.status &&
    (outcome.code === undefined || result.code === outcome.code) &&
    (outcome.message === undefined || outcome.message.test(messageOf(result.text) ?? ''))
  );
}

function errorCodeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('errors' in body) || !Array.isArray(body.errors)) return undefined;
  const first: unknown = body.errors[0];
  return typeof first === 'object' && first !== null && 'code' in first && typeof first.code === 'string' ? first.code : undefined;
}

/** Why this answer is wrong, or undefined. */
function mismatch(result: Result, accounts: readonly Account[]): string | undefined {
  const { row, status, code, text } = result;
  const where = `${row.who} → ${row.action.name} on ${row.target.label}`;
  if (!answers(result, row.expected)) {
    return `${where}: expected ${row.expected.status} ${row.expected.code ?? ''} ${row.expected.message?.source ?? ''}, got ${status} ${code ?? ''} ${text.slice(0, 200)}`;
  }
  const other = accounts.find((account) => account !== row.callerAccount);
  if (other && (text.includes(other.marker) || text.includes(other.adminIamId))) return `${where}: the answer carries account ${other.label} data: ${text.slice(0, 300)}`;
  if (other && isSuccess(status) && text.includes(accountId(other))) return `${where}: a success names account ${other.label}: ${text.slice(0, 300)}`;
  return undefined;
}

describe('the authorization matrix (two accounts × every role × representative actions, distributed stack)', () => {
  let accounts: Account[] = [];
  let callers: Caller[] = [];

  beforeAll(async () => {
    const operatorToken = await adminAccessToken(stack);
    const made = [await makeAccount('A', operatorToken), await makeAccount('B', operatorToken)];
    accounts = made.map((entry) => entry.account);
    callers = made.flatMap((entry) => entry.callers);
  }, 240_000);

  it('answers every request as the action table and the caller’s one policy say: ≥ 200 requests, zero unauthorized successes', async ({ annotate }) => {
    const [a, b] = accounts as [Account, Account];
    expect(accountId(a)).not.toBe(accountId(b));
    expect(callers).toHaveLength(2 * HOLDINGS.length);

    const rows: Row[] = [];
    for (const caller of callers) {
      for (const action of ACTIONS) {
        for (const target of accounts) {
          const { outcome, permitted } = expectedOutcome(caller, action, target);
          rows.push({
            who: `${caller.account.label}:${holdingLabel(caller.holding)}`,
            action,
            target,
            cross: caller.account !== target,
            expected: outcome,
            permitted,
            unauthenticated: false,
            callerAccount: caller.account,
            headers: bearer(caller.token),
          });
        }
      }
    }
    // Unauthenticated and broken credentials, on every action and both accounts: 401 before anything else.
    const adminToken = a.session.token;
    const [head, payload, signature] = adminToken.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const broken: Record<string, Record<string, string>> = {
      'no Authorization': {},
      'not a JWT': { authorization: 'Bearer not-a-token' },
      'bad signature': { authorization: `Bearer ${head}.${payload}.${flipped}` },
    };
    for (const [who, headers] of Object.entries(broken)) {
      for (const action of ACTIONS) {
        for (const target of accounts) {
          rows.push({
            who,
            action,
            target,
            cross: false,
            expected: UNAUTHORIZED,
            permitted: false,
            unauthenticated: true,
            callerAccount: a,
            headers,
          });
        }
      }
    }

    const results = await runPaced(
      rows,
      async (row): Promise<Result> => {
        const response = await row.action.send(row.headers, row.callerAccount, row.target);
        return { row, status: response.status, code: errorCodeOf(response.body), text: JSON.stringify(response.body ?? null) };
      },
      PACE,
    );

    const mismatches = results.map((result) => mismatch(result, accounts)).filter((text): text is string => text !== undefined);
    expect(mismatches).toEqual([]);

    const count = (predicate: (result: Result) => boolean) => results.filter(predicate).length;
    // Past the checks: a success, or the answer a permitted caller gets (the service's own, not the gateway's).
    const passedChecks = (result: Result) => isSuccess(result.status) || answers(result, result.row.action.permitted);
    const unauthorizedSuccesses = count((result) => !result.row.permitted && passedChecks(result));
    const crossAccountSuccesses = count((result) => result.row.cross && result.row.action.accountOwned && isSuccess(result.status));
    const rateLimited = count((result) => result.status === 429);
    const permitted = count((result) => result.row.permitted);
    const denied = count((result) => !result.row.permitted && !result.row.unauthenticated);
    const crossReachedService = count((result) => result.row.cross && !isSuccess(result.status) && passedChecks(result));

    expect(results.length).toBeGreaterThanOrEqual(200);
    expect(unauthorizedSuccesses).toBe(0);
    expect(crossAccountSuccesses).toBe(0);
    expect(rateLimited).toBe(0);
    // Not vacuous: both sides of every decision occur, for every action.
    for (const action of ACTIONS) {
      const of = results.filter((result) => result.row.action === action && !result.row.unauthenticated);
      expect(of.some((result) => result.row.permitted && passedChecks(result)), `${action.name} permitted`).toBe(true);
      expect(of.some((result) => !result.row.permitted && !passedChecks(result)), `${action.name} denied`).toBe(true);
    }
    await annotate(
      `${results.length} requests: ${permitted} permitted, ${denied} denied, ${results.length - permitted - denied} unauthenticated; ` +
        `${crossReachedService} cross-account requests reached a service and were refused there (service-wide policies); ` +
        `unauthorized successes ${unauthorizedSuccesses}, cross-account successes ${crossAccountSuccesses}, rate limited ${rateLimited}`,
    );
  }, 180_000);

  it("sends every route of /openapi.json at the other account's real resources: zero cross-account successes, B unchanged", async ({ annotate }) => {
    const [a, b] = accounts as [Account, Account];
    const other = await otherAccountResources(b);
    const operations = await openApiOperations();
    expect(operations.length).toBeGreaterThanOrEqual(90);

    const results = await runPaced(
      operations,
      async (operation) => {
        const sent = crossAccountRequest(operation, other);
        const response = await request(`${gateway}${sent.path}`, {
          method: operation.method,
          headers: { ...bearer(a.session.token), ...sent.headers },
          ...(sent.body === undefined ? {} : { body: sent.body }),
          deadlineMs,
        }).catch((error: unknown) => ({ status: 0, body: String(error) }));
        return { operation, path: sent.path, status: response.status, text: JSON.stringify(response.body ?? null) };
      },
      PACE,
    );

    // A success is cross-account when it wrote while naming B, or when its answer carries anything of B
    // (a list's links repeating the `account_id` it was asked about are not B's data).
    const carriesB = (text: string) => {
      const own = text.replaceAll(`account_id=${other.accountId}`, '');
      return other.markers.some((marker) => own.includes(marker));
    };
    const violations = results
      .filter((result) => isSuccess(result.status))
      .filter((result) => (isWrite(result.operation) && !OWN_ACCOUNT_WRITES.has(key(result.operation))) || carriesB(result.text))
      .map((result) => `${result.operation.method} ${result.path}: ${result.status} ${result.text.slice(0, 200)}`);
    expect(violations).toEqual([]);
    expect(results.filter((result) => result.status === 0 || result.status >= 500).map((result) => `${result.operation.method} ${result.path}: ${result.status}`)).toEqual([]);
    expect(results.filter((result) => result.status === 429)).toEqual([]);

    // Nothing of B changed: B's administrator finds every resource as it was.
    await other.unchanged();
    const refused = results.filter((result) => result.status >= 400);
    const counts = new Map<number, number>();
    for (const result of results) counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
    const byStatus = [...counts].sort(([x], [y]) => x - y).map(([status, count]) => `${status}×${count}`);
    await annotate(
      `${results.length} operations of /openapi.json sent by A's administrator at B's resources: ${refused.length} refused, answers ${byStatus.join(', ')}; 0 cross-account successes`,
    );
  }, 180_000);
});

// ---------- every route, cross-account ----------

interface Operation {
  readonly method: string;
  /** The OpenAPI path template, e.g. `/secrets-manager/{instance}/api/v2/secrets/{id}`. */
  readonly template: string;
}

/** Open to anyone, naming no account (the docs pages and the web console are HTML and YAML, not JSON). */
const PUBLIC_PATHS = new Set(['/identity/token', '/identity/keys', '/healthz', '/readyz', '/', '/docs', '/openapi.json', '/openapi.yaml', '/console']);

async function openApiOperations(): Promise<Operation[]> {
  const document = await request<{ paths: Record<string, Record<string, unknown>> }>(`${gateway}/openapi.json`, { deadlineMs });
  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(document.body.paths)) {
    if (PUBLIC_PATHS.has(template)) continue;
    for (const method of Object.keys(methods)) {
      if (['get', 'post', 'put', 'patch', 'delete', 'head'].includes(method)) operations.push({ method: method.toUpperCase(), template });
    }
  }
  return operations;
}

const key = (operation: Operation) => `${operation.method} ${operation.template}`;
const isWrite = (operation: Operation) => !['GET', 'HEAD'].includes(operation.method);
/** Writes whose request cannot name another account: what they create is the caller's own. */
const OWN_ACCOUNT_WRITES = new Set(['POST /v2/resource_instances']);

/** Real resources of the other account (B), what identifies them in an answer, and the check that none changed. */
interface OtherAccount {
  readonly accountId: string;
  /** B's administrator's API key value. */
  readonly apikey: string;
  /** A service ID of B (the target of B's key and policy). */
  readonly targetIamId: string;
  /** An access policy in B's account, naming B's service ID. */
  readonly policy: unknown;
  readonly params: (template: string) => Record<string, string>;
  readonly kmsInstance: string;
  readonly markers: readonly string[];
  unchanged(): Promise<void>;
}

async function otherAccountResources(b: Account): Promise<OtherAccount> {
  const nats = await NatsCaller.open(stack);
  try {
    const sm = await provisionSecretsInstance(stack, nats, b.session, `${b.marker}-sweep`);
    const group = (await sm.sm.createSecretGroup({ name: `${b.marker}-group` })).result;
    const secret = (await sm.sm.createSecret({ secret_type: 'arbitrary', name: `${b.marker}-secret`, payload: `${b.marker}-payload` })).result;
    const secretVersion = (await sm.sm.listSecretVersions(secret.id)).result.versions[0]?.id ?? '';
    const invited = await request<{ resources: { id: string }[] }>(`${gateway}/v2/accounts/${accountId(b)}/users`, {
      method: 'POST',
      headers: bearer(b.session.token),
      body: { users: [{ email: `${b.marker}@example.com` }] },
      deadlineMs,
    });
    const userIamId = invited.body.resources[0]?.id ?? '';
    const instance = await request<{ guid?: string }>(`${gateway}/v2/resource_instances`, {
      method: 'POST',
      headers: bearer(b.session.token),
      body: { name: `${b.marker}-rc`, target: 'us-south', resource_group: b.resourceGroup, resource_plan_id: 'secrets-manager-standard' },
      deadlineMs,
    });
    const rcInstance = instance.body.guid ?? '';
    expect([invited.status, instance.status, userIamId === '' || rcInstance === '' || secretVersion === '' ? 0 : 201]).toEqual([202, 201, 201]);

    const idFor = (template: string): string => {
      if (template.startsWith('/secrets-manager/')) return template.includes('/secret_groups/{id}') ? group.id : secret.id;
      if (template.startsWith('/kms/')) return b.keyId;
      if (template.startsWith('/v2/resource_instances')) return rcInstance;
      if (template.startsWith('/v1/apikeys')) return b.target.apikeyId;
      if (template.startsWith('/v1/serviceids')) return b.target.serviceId;
      if (template.startsWith('/v1/policies')) return b.target.policyId;
      return randomUUID();
    };
    const read = (path: string, headers: Record<string, string> = {}) =>
      request(`${gateway}${path}`, { headers: { ...bearer(b.session.token), ...headers }, deadlineMs });
    return {
      accountId: accountId(b),
      apikey: b.adminApikey,
      targetIamId: b.target.iamId,
      policy: {
        type: 'access',
        subjects: [{ attributes: [{ name: 'iam_id', value: b.target.iamId }] }],
        roles: [{ role_id: 'crn:v1:bluemix:public:iam::::role:Administrator' }],
        resources: [{ attributes: [{ name: 'accountId', value: accountId(b) }] }],
      },
      kmsInstance: b.kmsInstance,
      markers: [accountId(b), b.marker, b.adminIamId, secret.id, group.id, b.keyId, b.kmsInstance, sm.guid, rcInstance, userIamId, b.target.iamId],
      params: (template) => ({
        instance: sm.guid,
        id: idFor(template),
        version_id: secretVersion,
        action_name: 'restore',
        alias: `${b.marker}-alias`,
        secret_group_name: 'default',
        secret_type: 'arbitrary',
        name: secret.name,
        account_id: accountId(b),
        iam_id: userIamId,
      }),
      unchanged: async () => {
        expect((await sm.sm.getSecret(secret.id)).result).toMatchObject({ id: secret.id, payload: `${b.marker}-payload`, versions_total: 1, locks_total: 0 });
        expect((await sm.sm.getSecretGroup(group.id)).result.name).toBe(`${b.marker}-group`);
        const key = await read(`/kms/api/v2/keys/${b.keyId}`, { 'bluemix-instance': b.kmsInstance });
        expect(key.status).toBe(200);
        expect(key.body).toMatchObject({ resources: [{ id: b.keyId, state: 1 }] });
        for (const path of [
          `/v1/serviceids/${b.target.serviceId}`,
          `/v1/apikeys/${b.target.apikeyId}`,
          `/v1/policies/${b.target.policyId}`,
          `/v2/accounts/${accountId(b)}/users/${userIamId}`,
          `/v2/resource_instances/${rcInstance}`,
        ]) {
          expect((await read(path)).status, path).toBe(200);
        }
        expect((await read(`/v2/resource_instances/${rcInstance}`)).body).toMatchObject({ state: 'active', locked: false });
        expect((await read(`/v1/accounts/${accountId(b)}/settings/identity`)).body).toMatchObject({ entity_tag: '1', restrict_create_platform_apikey: 'NOT_SET' });
        expect((await read(`/v1/apikeys/${b.target.apikeyId}`)).body).toMatchObject({ locked: false, name: `${b.marker}-target-key` });
      },
    };
  } finally {
    await nats.close();
  }
}

/**
 * The request of one operation at B's resources: path parameters are B's ids, Key Protect's instance
 * header is B's, lists are asked about B's account, and writes carry a body the route accepts, so that
 * only tenancy can refuse them.
 */
function crossAccountRequest(operation: Operation, other: OtherAccount): { path: string; headers: Record<string, string>; body?: unknown } {
  const params = other.params(operation.template);
  let path = operation.template.replaceAll(/\{([a-z_]+)\}/g, (_match, name: string) => encodeURIComponent(params[name] ?? name));
  if (operation.method === 'GET' && !operation.template.includes('{') && /^\/v[12]\//.test(operation.template)) path += `?account_id=${other.accountId}`;
  const headers: Record<string, string> = {
    ...(operation.template.startsWith('/kms/') ? { 'bluemix-instance': other.kmsInstance } : {}),
    ...(operation.method === 'PUT' ? { 'if-match': '*' } : {}),
    ...(operation.template === '/v1/apikeys/details' ? { 'iam-apikey': other.apikey } : {}),
  };
  if (!isWrite(operation) || operation.method === 'DELETE') return { path, headers };
  return { path, headers, body: crossAccountBodies(other)[key(operation)] ?? {} };
}

/** Bodies that pass validation, so that only tenancy can refuse the write. */
const crossAccountBodies = (other: OtherAccount): Record<string, unknown> => ({
  'POST /v1/serviceids': { account_id: other.accountId, name: 'sweep' },
  'POST /v1/accounts': { name: 'sweep' },
  'POST /v1/apikeys': { name: 'sweep', iam_id: other.targetIamId, account_id: other.accountId },
  'POST /v1/policies': other.policy,
  'PUT /v1/policies/{id}': other.policy,
  'POST /secrets-manager/{instance}/api/v2/secrets': { secret_type: 'arbitrary', name: 'sweep', payload: 'sweep' },
  'POST /secrets-manager/{instance}/api/v2/secret_groups': { name: 'sweep' },
  'PATCH /secrets-manager/{instance}/api/v2/secret_groups/{id}': { description: 'sweep' },
  'PATCH /secrets-manager/{instance}/api/v2/secrets/{id}/metadata': { description: 'sweep' },
  'POST /secrets-manager/{instance}/api/v2/secrets/{id}/versions': { payload: 'sweep' },
  'PATCH /secrets-manager/{instance}/api/v2/secrets/{id}/versions/{version_id}/metadata': { version_custom_metadata: { sweep: 'yes' } },
  'POST /secrets-manager/{instance}/api/v2/secrets/{id}/locks_bulk': { locks: [{ name: 'sweep' }] },
  'POST /secrets-manager/{instance}/api/v2/secrets/{id}/versions/{version_id}/locks_bulk': { locks: [{ name: 'sweep' }] },
  'POST /kms/api/v2/keys': {
    metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
    resources: [{ type: 'application/vnd.ibm.kms.key+json', name: 'sweep', extractable: false }],
  },
  'POST /kms/api/v2/keys/{id}/actions/wrap': { plaintext: Buffer.from('sweep data key!!').toString('base64') },
  'PUT /kms/api/v2/keys/{id}/policies': {
    metadata: { collectionType: 'application/vnd.ibm.kms.policy+json', collectionTotal: 1 },
    resources: [{ type: 'application/vnd.ibm.kms.policy+json', rotation: { interval_month: 3 } }],
  },
  'PATCH /v2/resource_instances/{id}': { name: 'sweep' },
  'PUT /v1/accounts/{account_id}/settings/identity': { restrict_create_platform_apikey: 'NOT_RESTRICTED' },
  'POST /v2/accounts/{account_id}/users': { users: [{ email: 'sweep@example.com' }] },
  'PUT /v1/apikeys/{id}': { name: 'sweep' },
});
