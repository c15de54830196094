import { connectNats } from './infra.js';
import { IamWire, roleCrn, type RoleName } from '@sealbox/contracts';
import { requestOverNats } from '@sealbox/platform';
import { z } from 'zod';
import { accessToken, bearer } from './auth.js';
import { request, type JsonResponse } from './http.js';
import type { StackInfo } from './stack.js';

/** Header and claims of a compact JWS, decoded without any check (what the IBM SDK does too). */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: IamWire.AccessTokenClaims } {
  const [header, payload] = token.split('.');
  const json = (part: string | undefined): unknown => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
  return { header: json(header) as Record<string, unknown>, claims: IamWire.AccessTokenClaims.parse(json(payload)) };
}

type CreateAccountResponse = z.infer<typeof IamWire.CreateAccountResponse>;

/**
 * A new account through the NATS tooling subject `iam.account.create` (no caller: NATS users allowed
 * to publish `iam.>`): one request in the services' protocol (`requestOverNats`). Platform operators
 * use `POST /v1/accounts` (`createAccountOverHttp`).
 */
export async function createAccountOverNats(stack: Pick<StackInfo, 'nats' | 'rpcTimeoutMs'>, name: string): Promise<CreateAccountResponse> {
  const connection = await connectNats(stack.nats);
  try {
    const response = await requestOverNats(connection, 'iam.account.create', { name }, stack.rpcTimeoutMs + 2_000).catch((error: unknown) => {
      throw new Error(`e2e: iam.account.create failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    return IamWire.CreateAccountResponse.parse(response);
  } finally {
    await connection.close();
  }
}

/** A new account through the operator API, `POST /v1/accounts`, with a platform operator's token. */
export async function createAccountOverHttp(
  stack: Pick<StackInfo, 'gatewayUrl' | 'rpcTimeoutMs'>,
  operatorToken: string,
  name: string,
): Promise<CreateAccountResponse> {
  const response = await request(`${stack.gatewayUrl}/v1/accounts`, {
    method: 'POST',
    headers: bearer(operatorToken),
    body: { name },
    deadlineMs: stack.rpcTimeoutMs + 5_000,
  });
  return expectStatus(response, 201, `create account ${name}`, IamWire.CreateAccountResponse);
}

type ServiceId = z.infer<typeof IamWire.ServiceId>;
type ApiKey = z.infer<typeof IamWire.ApiKey>;
type Policy = z.infer<typeof IamWire.Policy>;

export interface AdminSession {
  readonly stack: Pick<StackInfo, 'gatewayUrl' | 'rpcTimeoutMs'>;
  readonly accountId: string;
  readonly token: string;
}

/** Setup through the HTTP API (raw HTTP, not under test here): fails loudly on anything but `expected`. */
function expectStatus<T>(response: JsonResponse, expected: number, what: string, schema: z.ZodType<T>): T {
  if (response.status !== expected) {
    throw new Error(`e2e: ${what}: expected ${expected}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
  return schema.parse(response.body);
}

const deadline = (session: AdminSession) => session.stack.rpcTimeoutMs + 5_000;

export async function createServiceId(session: AdminSession, name: string): Promise<ServiceId> {
  const response = await request(`${session.stack.gatewayUrl}/v1/serviceids`, {
    method: 'POST',
    headers: bearer(session.token),
    body: { account_id: session.accountId, name },
    deadlineMs: deadline(session),
  });
  return expectStatus(response, 201, `create service ID ${name}`, IamWire.ServiceId);
}

/** The resource attributes of an access policy, in the caller's account. */
export type ResourceSpec = { readonly serviceName?: string; readonly serviceInstance?: string };

export async function createAccessPolicy(session: AdminSession, iamId: string, role: RoleName, resource: ResourceSpec): Promise<Policy> {
  const attributes = [
    { name: 'accountId', value: session.accountId },
    ...(resource.serviceName ? [{ name: 'serviceName', value: resource.serviceName }] : []),
    ...(resource.serviceInstance ? [{ name: 'serviceInstance', value: resource.serviceInstance }] : []),
  ];
  const response = await request(`${session.stack.gatewayUrl}/v1/policies`, {
    method: 'POST',
    headers: bearer(session.token),
    body: {
      type: 'access',
      subjects: [{ attributes: [{ name: 'iam_id', value: iamId }] }],
      roles: [{ role_id: roleCrn(role) }],
      resources: [{ attributes }],
    },
    deadlineMs: deadline(session),
  });
  return expectStatus(response, 201, `create a ${role} policy for ${iamId}`, IamWire.Policy);
}

/** A new API key of `iamId`: the record and its value (returned only here). */
export async function createApiKey(session: AdminSession, iamId: string, name: string): Promise<ApiKey & { apikey: string }> {
  const response = await request(`${session.stack.gatewayUrl}/v1/apikeys`, {
    method: 'POST',
    headers: bearer(session.token),
    body: { name, iam_id: iamId },
    deadlineMs: deadline(session),
  });
  const key = await expectStatus(response, 201, `create API key ${name}`, IamWire.ApiKey);
  if (key.apikey === undefined) throw new Error(`e2e: API key ${name} was created without its value`);
  return { ...key, apikey: key.apikey };
}

/** An admin session of an account from its administrator's API key. */
export async function adminSession(stack: Pick<StackInfo, 'gatewayUrl' | 'rpcTimeoutMs'>, apikey: string): Promise<AdminSession> {
  const token = await accessToken(stack, apikey);
  return { stack, accountId: decodeJwt(token).claims.account.bss, token };
}

const IbmErrorResult = z.object({
  errors: z.array(z.object({ code: z.string(), message: z.string(), target: z.object({ name: z.string() }).optional() })).min(1),
});

/** How an official SDK call failed: `err.status` and the first error of the IBM error body in `err.result`. */
export interface ApiFailure {
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly message: string;
  readonly target: string | undefined;
}

/** What the official SDKs reject with, as `{status, code}`. */
export interface SdkFailure {
  readonly status: number | undefined;
  readonly code: string | undefined;
}

/**
 * The failure of an SDK call, read from `err.status` and `err.result` (the SDK replaces the message of
 * 401/403 answers, so the body is the only place the error code is). Fails when the call succeeds.
 */
export async function apiFailure(call: Promise<unknown>): Promise<ApiFailure> {
  try {
    await call;
  } catch (error: unknown) {
    if (typeof error !== 'object' || error === null) throw error;
    const status = 'status' in error && typeof error.status === 'number' ? error.status : undefined;
    const parsed = 'result' in error ? IbmErrorResult.safeParse(error.result) : undefined;
    const first = parsed?.success ? parsed.data.errors[0] : undefined;
    return { status, code: first?.code, message: first?.message ?? '', target: first?.target?.name };
  }
  throw new Error('expected the SDK call to fail, but it succeeded');
}

/** `{status, code}` of a failure, for `toEqual`. */
export const statusOf = (failure: ApiFailure): SdkFailure => ({ status: failure.status, code: failure.code });

/** `{status, code}` of a failing SDK call. */
export async function sdkFailure(call: Promise<unknown>): Promise<SdkFailure> {
  return statusOf(await apiFailure(call));
}

/** The HTTP status of an SDK call, whether it succeeded or failed. */
export async function sdkStatus(call: Promise<{ readonly status: number }>): Promise<number | undefined> {
  try {
    return (await call).status;
  } catch (error: unknown) {
    if (typeof error !== 'object' || error === null) throw error;
    return 'status' in error && typeof error.status === 'number' ? error.status : undefined;
  }
}
