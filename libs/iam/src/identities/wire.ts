import type { IamWire } from '@sealbox/contracts';
import type { ApiKeyEntity, IdentityEntity } from '../entities/index.js';

/** The IAM identity service name in CRNs and policy resources. */
export const IAM_IDENTITY = 'iam-identity';

const SERVICE_ID_IAM_PREFIX = 'iam-';

export const apiKeyCrn = (accountId: string, id: string) => `crn:v1:sealbox:public:${IAM_IDENTITY}::a/${accountId}::apikey:${id}`;
export const serviceIdCrn = (accountId: string, id: string) =>
  `crn:v1:sealbox:public:${IAM_IDENTITY}::a/${accountId}::serviceid:${id}`;

/** `ServiceId-…` → `iam-ServiceId-…` (IBM's convention: a service ID's iam_id is its id with `iam-`). */
export const serviceIdIamId = (serviceId: string) => `${SERVICE_ID_IAM_PREFIX}${serviceId}`;
/** `iam-ServiceId-…` → `ServiceId-…`. */
export const serviceIdOf = (iamId: string) =>
  iamId.startsWith(SERVICE_ID_IAM_PREFIX) ? iamId.slice(SERVICE_ID_IAM_PREFIX.length) : iamId;

export const isoTime = (epochMs: number) => new Date(epochMs).toISOString();

/** The wire entity tag of a version counter. */
export const entityTag = (version: number) => String(version);

/**
 * Does an If-Match value name the current version? `*` matches anything; quotes and a weak `W/`
 * prefix, which HTTP clients may add around an ETag, are ignored.
 */
export function entityTagMatches(ifMatch: string, version: number): boolean {
  const candidates = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
  return candidates.some((tag) => tag === '*' || tag === entityTag(version));
}

/** An API key as the API shows it; `value` only in the answer to create. */
export function toApiKey(row: ApiKeyEntity, value?: string): IamWire.ApiKey {
  return {
    id: row.id,
    crn: apiKeyCrn(row.accountId, row.id),
    name: row.name,
    description: row.description,
    iam_id: row.iamId,
    account_id: row.accountId,
    locked: row.locked,
    disabled: false,
    created_at: isoTime(row.createdAt),
    created_by: row.createdBy,
    modified_at: isoTime(row.modifiedAt),
    entity_tag: entityTag(row.entityTag),
    ...(row.expiresAt !== null ? { expires_at: isoTime(row.expiresAt) } : {}),
    ...(value !== undefined ? { apikey: value } : {}),
  };
}

export function toServiceId(row: IdentityEntity): IamWire.ServiceId {
  const id = serviceIdOf(row.iamId);
  return {
    id,
    iam_id: row.iamId,
    account_id: row.accountId,
    name: row.name,
    description: row.description,
    crn: serviceIdCrn(row.accountId, id),
    locked: false,
    created_at: isoTime(row.createdAt),
    modified_at: isoTime(row.modifiedAt),
    entity_tag: entityTag(row.entityTag),
  };
}
