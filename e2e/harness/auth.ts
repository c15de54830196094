import { readFileSync } from 'node:fs';
import { request } from './http.js';
import type { StackInfo } from './stack.js';

/** The IBM IAM grant type of an API key exchange. */
export const API_KEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

/** Exchange an API key for an access token at the gateway (`POST /identity/token`, form-encoded). */
export async function accessToken(stack: Pick<StackInfo, 'gatewayUrl' | 'rpcTimeoutMs'>, apikey: string): Promise<string> {
  const response = await request<{ access_token?: unknown }>(`${stack.gatewayUrl}/identity/token`, {
    method: 'POST',
    form: { grant_type: API_KEY_GRANT, apikey },
    deadlineMs: stack.rpcTimeoutMs + 2_000,
  });
  const token = response.body?.access_token;
  if (response.status !== 200 || typeof token !== 'string') {
    // The body of a failure is an IBM error body: no secret in it.
    throw new Error(`e2e: the API key was not exchanged for a token: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return token;
}

/** An access token of the admin identity iam created on its first start. */
export function adminAccessToken(stack: Pick<StackInfo, 'gatewayUrl' | 'rpcTimeoutMs' | 'adminKeyFile'>): Promise<string> {
  return accessToken(stack, readFileSync(stack.adminKeyFile, 'utf8').trim());
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
