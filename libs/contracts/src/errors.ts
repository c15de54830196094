/**
 * Error codes that cross a process boundary. DO NOT RENAME: clients match on them.
 *
 * Domain code throws `DomainError` (libs/platform) with one of these codes; the RPC layer
 * serializes them as `WireError`, and the gateway maps each code to one HTTP status.
 */
export const ErrorCodes = [
  'VALIDATION_FAILED',
  'INVALID_BODY',
  'INVALID_GRANT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  /** Creating an API key needs a role that grants `iam-identity.apikey.create` (for one's own key too). */
  'APIKEY_CREATION_RESTRICTED',
  'NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'GONE',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  /** The request was not received in time (headers or body too slow). */
  'REQUEST_TIMEOUT',
  /** A path (parameter) longer than the server accepts. */
  'URI_TOO_LONG',
  /** The request line and headers are larger than the server accepts. */
  'HEADERS_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNPROCESSABLE',
  'RATE_LIMITED',
  /** An Idempotency-Key reused with a different request (method, path or body) than the one it was first sent with. */
  'IDEMPOTENCY_KEY_REUSED',
  /** A request with this Idempotency-Key is still being processed: retry once it finished. */
  'IDEMPOTENCY_KEY_IN_USE',
  /** A quota of the instance's plan (secrets, groups, payload bytes, kv keys) or of the identity (API keys) is reached (409). */
  'QUOTA_EXCEEDED',
  'INSTANCE_NOT_ACTIVE',
  /** A locked resource instance refuses update and delete (Resource Controller answers 400). */
  'INSTANCE_LOCKED',
  /** The root key named by a resource instance's `kms_key` is not active (suspended, deactivated, destroyed). */
  'KEY_NOT_ACTIVE',
  // Key management (kms). Key Protect's own spelling where its clients match on it (REQ_TOO_EARLY_ERR).
  'KEY_DISABLED',
  'KEY_DESTROYED',
  'KEY_DELETION_PREVENTED',
  'DUAL_AUTH_REQUIRED',
  'REQ_TOO_EARLY_ERR',
  'KEY_RESTORE_EXPIRED',
  /** The action needs a root key (wrap, unwrap, rewrap, rotate, a rotation policy, a registration) and the key is a standard key. */
  'KEY_ROOT_REQ_ERR',
  'INSTANCE_NOT_INITIALIZED',
  'INVALID_CIPHERTEXT',
  'INVALID_PLAINTEXT',
  'INVALID_KEY_MATERIAL',
  'IMPORT_TOKEN_EXPIRED',
  'IMPORT_TOKEN_EXHAUSTED',
  /** An envelope that is not a well-formed Sealbox envelope (magic, version, lengths, truncation, encoding). */
  'ENVELOPE_INVALID',
  /** Authenticated data that does not verify: a tampered envelope, another key's or another context's ciphertext. */
  'INTEGRITY_FAILED',
  /** The key store is sealed: only health, readiness and the seal endpoints answer until it is unsealed (503). */
  'SEALED',
  /** The unseal secret (passphrase, share or key) does not open the key store, or is malformed (400). */
  'UNSEAL_FAILED',
  /** The key store has no unseal secret yet: `POST /v1/sys/init` first (409). */
  'SEAL_NOT_INITIALIZED',
  /** Auto-unseal: no PKCS#11 token is configured (SEALBOX_SEAL_PKCS11_TOKEN_LABEL) for a pkcs11 init, rekey or unseal (409). */
  'SEAL_TOKEN_NOT_CONFIGURED',
  /** Auto-unseal: the configured token has no key with the configured label (SEALBOX_SEAL_PKCS11_KEY_LABEL) (409). */
  'SEAL_TOKEN_KEY_NOT_FOUND',
  /** Auto-unseal: the PKCS#11 module or token cannot be reached, or refused the PIN (503). */
  'SEAL_TOKEN_UNAVAILABLE',
  'NOT_IMPLEMENTED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

/** One offending field of a request, as reported with VALIDATION_FAILED. */
export interface FieldIssue {
  /** Dotted path into the payload, `(root)` for the payload itself. */
  readonly field: string;
  readonly message: string;
}

/** The serialized form of an error as it travels back over RPC. */
export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly fields?: readonly FieldIssue[];
  /** Trace id of the failing request, set for INTERNAL errors so logs can be found. */
  readonly traceId?: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ErrorCodes as readonly string[]).includes(value);
}

export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { code?: unknown; message?: unknown };
  return isErrorCode(candidate.code) && typeof candidate.message === 'string';
}
