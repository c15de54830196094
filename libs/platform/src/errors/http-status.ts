import type { ErrorCode } from '@sealbox/contracts';

/** The one mapping from error codes to HTTP statuses. Exhaustive: a new code fails to compile here. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'INVALID_BODY':
    case 'INVALID_GRANT':
    case 'ENVELOPE_INVALID':
    case 'INVALID_CIPHERTEXT':
    case 'INVALID_PLAINTEXT':
    case 'INVALID_KEY_MATERIAL':
    case 'KEY_ROOT_REQ_ERR':
    case 'INSTANCE_LOCKED':
    case 'UNSEAL_FAILED':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
    case 'APIKEY_CREATION_RESTRICTED':
      return 403;
    case 'NOT_FOUND':
    case 'ROUTE_NOT_FOUND':
      return 404;
    case 'METHOD_NOT_ALLOWED':
      return 405;
    case 'CONFLICT':
    case 'INSTANCE_NOT_ACTIVE':
    case 'KEY_NOT_ACTIVE':
    case 'KEY_DISABLED':
    case 'KEY_DELETION_PREVENTED':
    case 'DUAL_AUTH_REQUIRED':
    case 'REQ_TOO_EARLY_ERR':
    case 'INSTANCE_NOT_INITIALIZED':
    case 'IMPORT_TOKEN_EXPIRED':
    case 'IMPORT_TOKEN_EXHAUSTED':
    case 'SEAL_NOT_INITIALIZED':
    case 'SEAL_TOKEN_NOT_CONFIGURED':
    case 'SEAL_TOKEN_KEY_NOT_FOUND':
    case 'IDEMPOTENCY_KEY_IN_USE':
    case 'QUOTA_EXCEEDED':
      return 409;
    case 'GONE':
    case 'KEY_DESTROYED':
    case 'KEY_RESTORE_EXPIRED':
      return 410;
    case 'PRECONDITION_FAILED':
      return 412;
    case 'REQUEST_TIMEOUT':
      return 408;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'URI_TOO_LONG':
      return 414;
    case 'HEADERS_TOO_LARGE':
      return 431;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'UNPROCESSABLE':
    case 'INTEGRITY_FAILED':
    case 'IDEMPOTENCY_KEY_REUSED':
      return 422;
    case 'RATE_LIMITED':
      return 429;
    case 'INTERNAL':
      return 500;
    case 'NOT_IMPLEMENTED':
      return 501;
    case 'SERVICE_UNAVAILABLE':
    case 'SEALED':
    case 'SEAL_TOKEN_UNAVAILABLE':
      return 503;
  }
}
