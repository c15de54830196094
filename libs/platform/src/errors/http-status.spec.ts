import { ErrorCodes, type ErrorCode } from '@sealbox/contracts';
import { describe, expect, it } from 'vitest';
import { httpStatusOf } from './http-status.js';

describe('httpStatusOf', () => {
  it.each(ErrorCodes)('maps %s to an HTTP error status', (code) => {
    const status = httpStatusOf(code);
    expect(Number.isInteger(status)).toBe(true);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
  });

  it.each<[ErrorCode, number]>([
    ['VALIDATION_FAILED', 400],
    ['INVALID_BODY', 400],
    ['ENVELOPE_INVALID', 400],
    ['UNAUTHORIZED', 401],
    ['FORBIDDEN', 403],
    ['NOT_FOUND', 404],
    ['ROUTE_NOT_FOUND', 404],
    ['METHOD_NOT_ALLOWED', 405],
    ['CONFLICT', 409],
    ['INSTANCE_NOT_ACTIVE', 409],
    ['GONE', 410],
    ['PRECONDITION_FAILED', 412],
    ['PAYLOAD_TOO_LARGE', 413],
    ['UNSUPPORTED_MEDIA_TYPE', 415],
    ['UNPROCESSABLE', 422],
    ['INVALID_CIPHERTEXT', 400],
    ['INVALID_PLAINTEXT', 400],
    ['INVALID_KEY_MATERIAL', 400],
    ['KEY_ROOT_REQ_ERR', 400],
    ['KEY_DISABLED', 409],
    ['KEY_DELETION_PREVENTED', 409],
    ['DUAL_AUTH_REQUIRED', 409],
    ['REQ_TOO_EARLY_ERR', 409],
    ['INSTANCE_NOT_INITIALIZED', 409],
    ['IMPORT_TOKEN_EXPIRED', 409],
    ['IMPORT_TOKEN_EXHAUSTED', 409],
    ['KEY_DESTROYED', 410],
    ['KEY_RESTORE_EXPIRED', 410],
    ['INTEGRITY_FAILED', 422],
    ['IDEMPOTENCY_KEY_REUSED', 422],
    ['IDEMPOTENCY_KEY_IN_USE', 409],
    ['QUOTA_EXCEEDED', 409],
    ['RATE_LIMITED', 429],
    ['INTERNAL', 500],
    ['NOT_IMPLEMENTED', 501],
    ['SERVICE_UNAVAILABLE', 503],
    ['SEALED', 503],
    ['UNSEAL_FAILED', 400],
    ['SEAL_NOT_INITIALIZED', 409],
    ['SEAL_TOKEN_NOT_CONFIGURED', 409],
    ['SEAL_TOKEN_KEY_NOT_FOUND', 409],
    ['SEAL_TOKEN_UNAVAILABLE', 503],
  ])('%s is %i', (code, status) => {
    expect(httpStatusOf(code)).toBe(status);
  });

  it('blames the server only for SEALED, an unreachable seal token, INTERNAL, NOT_IMPLEMENTED and SERVICE_UNAVAILABLE', () => {
    const serverSide = ErrorCodes.filter((code) => httpStatusOf(code) >= 500);
    expect(serverSide).toEqual(['SEALED', 'SEAL_TOKEN_UNAVAILABLE', 'NOT_IMPLEMENTED', 'SERVICE_UNAVAILABLE', 'INTERNAL']);
  });
});
