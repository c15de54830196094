import { SecretsWire } from '@sealbox/contracts';
import type { z } from 'zod';

/** One entry of an IBM error body's `errors`. */
export interface SecretsManagerErrorItem {
  readonly code: string;
  readonly message: string;
  readonly target?: { readonly type: string; readonly name: string };
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringField = (value: Json, key: string): string | undefined => (typeof value[key] === 'string' ? value[key] : undefined);

/**
 * A non-2xx answer. `code` and `message` come from the IBM error body (`errors[0]`); for another body
 * the message falls back, as the IBM SDKs do, to `error`, `message` or `errorMessage`, and the code to
 * `code` or `HTTP_<status>`. `body` is the parsed JSON (or the text when it is not JSON).
 */
export class SecretsManagerError extends Error {
  override readonly name = 'SecretsManagerError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
    readonly errors: readonly SecretsManagerErrorItem[] = [],
    readonly trace?: string,
  ) {
    super(message);
  }

  /** The field names the server reported (`errors[].target.name`), for VALIDATION_FAILED answers. */
  get fields(): string[] {
    return this.errors.flatMap((error) => (error.target ? [error.target.name] : []));
  }

  static fromResponse(status: number, text: string): SecretsManagerError {
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    const ibm = SecretsWire.ErrorBody.safeParse(body);
    if (ibm.success) {
      const [first] = ibm.data.errors;
      return new SecretsManagerError(status, first?.code ?? `HTTP_${status}`, first?.message ?? `HTTP ${status}`, body, ibm.data.errors, ibm.data.trace);
    }
    if (isObject(body)) {
      const message = stringField(body, 'error') ?? stringField(body, 'message') ?? stringField(body, 'errorMessage') ?? `HTTP ${status}`;
      return new SecretsManagerError(status, stringField(body, 'code') ?? `HTTP_${status}`, message, body);
    }
    return new SecretsManagerError(status, `HTTP_${status}`, `HTTP ${status}`, body);
  }
}

/** A 2xx answer whose body is not the documented shape (or not JSON): a server bug, never retried. */
export class SecretsManagerResponseError extends Error {
  override readonly name = 'SecretsManagerResponseError';

  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
    readonly issues: readonly z.core.$ZodIssue[] = [],
  ) {
    super(message);
  }
}
