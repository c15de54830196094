/** NATS header names carried on every request. DO NOT RENAME. */
export const RpcHeaders = {
  /** W3C trace context. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** JSON of the authenticated caller, set by the gateway after authentication. */
  caller: 'sealbox-caller',
  /** Id of the HTTP request at the edge, for log correlation. */
  requestId: 'sealbox-request-id',
} as const;
