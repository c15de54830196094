import type { IbmErrorBody } from '@sealbox/platform';
import { setTimeout as sleep } from 'node:timers/promises';

export interface JsonResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/**
 * One request to the gateway with a hard deadline: a hang becomes an AbortError (the test fails)
 * instead of waiting for the test timeout.
 */
export async function request<T = unknown>(
  url: string,
  options: {
    readonly method?: string;
    readonly headers?: Record<string, string>;
    /** Sent as JSON. */
    readonly body?: unknown;
    /** Sent form-encoded (e.g. the IAM token exchange). */
    readonly form?: Record<string, string>;
    readonly deadlineMs: number;
  },
): Promise<JsonResponse<T>> {
  const [contentType, payload] =
    options.form !== undefined
      ? ['application/x-www-form-urlencoded', new URLSearchParams(options.form).toString()]
      : options.body !== undefined
        ? ['application/json', JSON.stringify(options.body)]
        : [undefined, undefined];
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: { accept: 'application/json', ...(contentType ? { 'content-type': contentType } : {}), ...options.headers },
    ...(payload === undefined ? {} : { body: payload }),
    signal: AbortSignal.timeout(options.deadlineMs),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The IBM error body of a failed request, with a readable failure when it is not one. */
export function errorBody(response: JsonResponse): IbmErrorBody {
  const body = response.body as Partial<IbmErrorBody> | undefined;
  if (!body || !Array.isArray(body.errors) || body.errors.length === 0) {
    throw new Error(`expected an IBM error body, got ${response.status} ${JSON.stringify(response.body)}`);
  }
  return body as IbmErrorBody;
}

/**
 * Call `probe` every `intervalMs` until `done` holds or `maxPolls` calls were made. Returns the last
 * value and how many calls it took, so a test can bound a deadline by a count, not a clock.
 */
export async function poll<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  options: { readonly intervalMs: number; readonly maxPolls: number },
): Promise<{ readonly value: T; readonly polls: number }> {
  let value = await probe();
  let polls = 1;
  while (!done(value) && polls < options.maxPolls) {
    await sleep(options.intervalMs);
    value = await probe();
    polls++;
  }
  return { value, polls };
}

export const READINESS_DEADLINE_MS = 5_000;

export function readyz(
  gatewayUrl: string,
  options: { readonly headers?: Record<string, string>; readonly deadlineMs?: number } = {},
): Promise<JsonResponse> {
  return request(`${gatewayUrl}/readyz`, { headers: options.headers ?? {}, deadlineMs: options.deadlineMs ?? READINESS_DEADLINE_MS });
}

/**
 * Wait for `/readyz` to answer 200. `failFast` is asked between polls (e.g. "did a process exit?")
 * and its message ends the wait at once. Throws with the last answer after `timeoutMs`.
 */
export async function waitForReady(
  gatewayUrl: string,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly failFast?: () => string | undefined },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const response = await readyz(gatewayUrl);
      if (response.status === 200) return;
      last = `${response.status} ${JSON.stringify(response.body)}`;
    } catch (error) {
      last = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    const fatal = options.failFast?.();
    if (fatal) throw new Error(`e2e: the stack cannot become ready: ${fatal} (last /readyz: ${last})`);
    if (performance.now() > deadline) {
      throw new Error(`e2e: ${gatewayUrl}/readyz was not 200 within ${options.timeoutMs} ms (last: ${last})`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
