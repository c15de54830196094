import type { ErrorCode, FieldIssue, WireError } from '@sealbox/contracts';
import { isWireError } from '@sealbox/contracts';

/**
 * The one error type domain code throws. It knows nothing of HTTP or NATS: the RPC layer
 * serializes it (`toWireError`) and the gateway maps its code to a status (`httpStatusOf`).
 * Messages are written for the caller and must never contain secret material.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: readonly FieldIssue[],
    readonly traceId?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toWire(): WireError {
    return {
      code: this.code,
      message: this.message,
      ...(this.fields?.length ? { fields: this.fields } : {}),
      ...(this.traceId ? { traceId: this.traceId } : {}),
    };
  }

  static fromWire(wire: WireError): DomainError {
    return new DomainError(wire.code, wire.message, wire.fields, wire.traceId);
  }
}

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} was not found`);
export const conflict = (message: string) => new DomainError('CONFLICT', message);
export const forbidden = (message = 'You are not allowed to perform this action') =>
  new DomainError('FORBIDDEN', message);
export const notImplemented = (operation: string) =>
  new DomainError('NOT_IMPLEMENTED', `${operation} is not implemented yet`);
export const serviceUnavailable = (message: string) => new DomainError('SERVICE_UNAVAILABLE', message);
export const validationFailed = (fields: readonly FieldIssue[], what = 'The request') =>
  new DomainError(
    'VALIDATION_FAILED',
    `${what} is invalid: ${fields.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`,
    fields,
  );

/**
 * Serialize any thrown value for the wire. Unknown errors become INTERNAL with no detail: their
 * message may hold internals (SQL, paths, key material), so only the trace id crosses.
 */
export function toWireError(error: unknown, traceId?: string): WireError {
  if (error instanceof DomainError) return error.toWire();
  return { code: 'INTERNAL', message: 'An internal error occurred', ...(traceId ? { traceId } : {}) };
}

/** Turn what came back over the wire into a DomainError; anything unrecognised is INTERNAL. */
export function fromWireError(value: unknown): DomainError {
  if (isWireError(value)) return DomainError.fromWire(value);
  return new DomainError('INTERNAL', 'An internal error occurred in a remote service');
}

/** Too many requests; the HTTP edge sends `Retry-After` with the seconds to wait. */
export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', `Too many requests; retry after ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
  }
}
