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
} as const;
