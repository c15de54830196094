/** What the guard learned about a request, read when the response is sent to build its audit event. */
export interface AuditContext {
  action?: string;
  target?: string;
  iamId?: string;
  accountId?: string;
  denied?: boolean;
}

const AUDIT = Symbol('sealbox:audit');

interface WithAudit {
  [AUDIT]?: AuditContext;
}

export function auditOf(request: object): AuditContext {
  const carrier = request as WithAudit;
  carrier[AUDIT] ??= {};
  return carrier[AUDIT];
}
