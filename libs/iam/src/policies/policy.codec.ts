/** Between stored rows, the wire shape, the engine's view and opaque paging tokens. */
import { roleCrn, type IamWire, type RoleName } from '@sealbox/contracts';
import { validationFailed } from '@sealbox/platform';
import type { AccessGrant, Attribute, AuthorizationGrant } from './engine.js';
import type { PolicyEntity } from './policy.entity.js';
import type { PageCursor } from './policy.store.js';
import type { ValidPolicy } from './validation.js';

export const policyHref = (id: string) => `/v1/policies/${encodeURIComponent(id)}`;

const iso = (ms: number) => new Date(ms).toISOString();

/** The JSON columns of a validated policy. */
export function storedContent(policy: ValidPolicy): Pick<PolicyEntity, 'subjects' | 'roles' | 'resources'> {
  return {
    subjects: JSON.stringify(policy.subject),
    roles: JSON.stringify(policy.roles),
    resources: JSON.stringify(policy.resource),
  };
}

export interface ParsedPolicy {
  readonly subject: Attribute[];
  readonly resource: Attribute[];
  readonly roles: RoleName[];
}

export function parseStored(row: PolicyEntity): ParsedPolicy {
  return {
    subject: JSON.parse(row.subjects) as Attribute[],
    resource: JSON.parse(row.resources) as Attribute[],
    roles: JSON.parse(row.roles) as RoleName[],
  };
}

export function accessGrantOf(row: PolicyEntity): AccessGrant {
  const { resource, roles } = parseStored(row);
  return { id: row.id, resource, roles };
}

export function authorizationGrantOf(row: PolicyEntity): AuthorizationGrant {
  const { subject, resource, roles } = parseStored(row);
  return { id: row.id, subject, resource, roles };
}

export function toWirePolicy(row: PolicyEntity): IamWire.Policy {
  const { subject, resource, roles } = parseStored(row);
  return {
    id: row.id,
    type: row.type,
    ...(row.description !== null ? { description: row.description } : {}),
    subjects: [{ attributes: subject }],
    roles: roles.map((role) => ({ role_id: roleCrn(role), display_name: role })),
    resources: [{ attributes: resource }],
    href: policyHref(row.id),
    created_at: iso(row.createdAt),
    created_by_id: row.createdBy,
    last_modified_at: iso(row.lastModifiedAt),
    last_modified_by_id: row.lastModifiedBy,
    state: 'active',
    etag: row.etag,
  };
}

/** An opaque `start` token: where the next page begins. */
export function encodeCursor(row: Pick<PolicyEntity, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.id]), 'utf8').toString('base64url');
}

export function decodeCursor(start: string): PageCursor {
  const invalid = () => validationFailed([{ field: 'start', message: 'Not a start token this service issued' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(start, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    !Number.isSafeInteger(parsed[0]) ||
    typeof parsed[1] !== 'string' ||
    parsed[1].length === 0 ||
    parsed[1].length > 36
  ) {
    throw invalid();
  }
  return { createdAt: parsed[0] as number, id: parsed[1] };
}

/** If-Match as a client may send it (`"x"`, `W/"x"` or `*`) against the current etag. */
export function etagMatches(ifMatch: string, etag: string): boolean {
  const candidates = ifMatch.split(',').map((part) =>
    part
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1'),
  );
  return candidates.some((candidate) => candidate === '*' || candidate === etag);
}
