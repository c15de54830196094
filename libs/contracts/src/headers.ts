/** Header names carried on every request (in the request frame's header map). DO NOT RENAME. */
export const RpcHeaders = {
  /** W3C trace context. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** JSON of the authenticated caller, set by the gateway after authentication. */
  caller: 'sealbox-caller',
  /** Id of the HTTP request at the edge, for log correlation. */
  requestId: 'sealbox-request-id',
  /**
   * When the caller stops waiting: epoch milliseconds (decimal). A service does not start work whose
   * deadline has passed, and the calls it makes get what remains.
   */
  deadline: 'sealbox-deadline',
  /**
   * The Idempotency-Key of the HTTP request, as the gateway forwards it to a service that records it
   * (IdempotentSubjects): the SHA-256 (hex) of `<IAM id>\n<key>`, so a key is only ever matched
   * within the identity that sent it and the client's own string never leaves the gateway.
   */
  idempotencyKey: 'sealbox-idempotency-key',
  /**
   * The SHA-256 (hex) of `<method> <path and query>\n<JSON of the body>`, the request the key came
   * with: the same key with another request is refused.
   */
  idempotencyFingerprint: 'sealbox-idempotency-fingerprint',
} as const;
