/** Wire shapes of the IAM subjects (IBM field names, as the gateway serves them). */
import { z } from 'zod';

// ---------- tokens ----------

export const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

export const TokenRequest = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal(APIKEY_GRANT),
    apikey: z.string().min(1).max(512),
    response_type: z.string().optional(),
    scope: z.string().optional(),
  }),
  z.object({
    grant_type: z.literal('refresh_token'),
    refresh_token: z.string().min(1).max(512),
    response_type: z.string().optional(),
    scope: z.string().optional(),
  }),
]);
export type TokenRequest = z.infer<typeof TokenRequest>;

export const TokenResponse = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  expiration: z.number().int(),
  scope: z.string(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

export const Jwk = z
  .object({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.string() })
  .catchall(z.unknown());
export const JwksResponse = z.object({ keys: z.array(Jwk) });
export type JwksResponse = z.infer<typeof JwksResponse>;

/** Claims of a Sealbox access token (a subset of IBM's). */
export const AccessTokenClaims = z.object({
  iss: z.string(),
  sub: z.string(),
  sub_type: z.enum(['user', 'ServiceId']),
  iam_id: z.string(),
  id: z.string(),
  account: z.object({ bss: z.string() }),
  grant_type: z.string(),
  scope: z.string(),
  jti: z.string(),
  iat: z.number().int(),
  exp: z.number().int(),
  /**
   * Sealbox's private claims (the IBM SDKs read none of them): the API key the token was issued from
   * and its refresh chain (one per API key sign-in, kept by every refresh of it). The gateway refuses a
   * token whose key, identity or chain was revoked. Absent only on tokens issued before they existed.
   */
  apikey_id: z.string().optional(),
  chain_id: z.string().optional(),
});
export type AccessTokenClaims = z.infer<typeof AccessTokenClaims>;

export const RotateSigningKeyResponse = z.object({ kid: z.string(), retiring: z.array(z.string()) });

// ---------- revocations (gateway only) ----------

/**
 * What a revocation names, and so which claim of an access token it is compared with: `apikey` the
 * `apikey_id` (a deleted API key), `identity` the `iam_id` (a deleted service ID, a removed user),
 * `chain` the `chain_id` (a refresh chain in which a used refresh token was presented again).
 */
export const RevocationKinds = ['apikey', 'identity', 'chain'] as const;
export type RevocationKind = (typeof RevocationKinds)[number];
export const RevocationReasons = ['apikey-deleted', 'serviceid-deleted', 'user-removed', 'refresh-token-replayed'] as const;

/** Tokens naming `id` are refused until `expires_at`, after which none issued before the revocation is still valid. */
export const Revocation = z.object({
  kind: z.enum(RevocationKinds),
  id: z.string(),
  expires_at: z.string(),
});
export type Revocation = z.infer<typeof Revocation>;

export const REVOCATION_PAGE_MAX = 5000;
/** The revocations still in force, a page at a time (`after` is the `next` of the previous page). */
export const ListRevocationsRequest = z.object({
  after: z.string().max(300).optional(),
  limit: z.number().int().min(1).max(REVOCATION_PAGE_MAX).default(1000),
});
export const RevocationList = z.object({ revocations: z.array(Revocation), next: z.string().optional() });

// ---------- paging ----------

/** A page of an IAM Identity list: `pagetoken` paging, the items under `field` (IBM's shape). */
const pageOf = <Field extends string, Item extends z.ZodType>(field: Field, item: Item) =>
  z.object({
    offset: z.number().int().optional(),
    limit: z.number().int(),
    first: z.string().optional(),
    next: z.string().optional(),
  }).extend({ [field]: z.array(item) } as Record<Field, z.ZodArray<Item>>);

export const PageQuery = z.object({
  pagesize: z.coerce.number().int().min(1).max(100).default(20),
  pagetoken: z.string().max(200).optional(),
});

// ---------- service IDs ----------

export const ServiceId = z.object({
  id: z.string(),
  iam_id: z.string(),
  account_id: z.string(),
  name: z.string(),
  description: z.string(),
  crn: z.string(),
  locked: z.boolean(),
  created_at: z.string(),
  modified_at: z.string(),
  entity_tag: z.string(),
});
export type ServiceId = z.infer<typeof ServiceId>;

export const CreateServiceIdRequest = z.object({
  account_id: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  description: z.string().max(1024).optional(),
});
export const ListServiceIdsRequest = PageQuery.extend({ account_id: z.string().min(1).max(64).optional(), name: z.string().optional() });
export const ServiceIdList = pageOf('serviceids', ServiceId);
export const ServiceIdRef = z.object({ id: z.string().min(1).max(120) });

// ---------- API keys ----------

export const ApiKey = z.object({
  id: z.string(),
  crn: z.string(),
  name: z.string(),
  description: z.string(),
  iam_id: z.string(),
  account_id: z.string(),
  locked: z.boolean(),
  disabled: z.boolean(),
  created_at: z.string(),
  created_by: z.string(),
  modified_at: z.string(),
  entity_tag: z.string(),
  expires_at: z.string().optional(),
  /** Only in the answer to create: the key value, shown once. */
  apikey: z.string().optional(),
});
export type ApiKey = z.infer<typeof ApiKey>;

export const CreateApiKeyRequest = z.object({
  name: z.string().min(1).max(200),
  iam_id: z.string().min(1).max(120),
  description: z.string().max(1024).optional(),
  account_id: z.string().min(1).max(64).optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  store_value: z.boolean().optional(),
  entity_lock: z.boolean().optional(),
});
export const ListApiKeysRequest = PageQuery.extend({
  account_id: z.string().min(1).max(64).optional(),
  iam_id: z.string().min(1).max(120).optional(),
});
export const ApiKeyList = pageOf('apikeys', ApiKey);
export const ApiKeyRef = z.object({ id: z.string().min(1).max(120) });
export const ApiKeyDetailsRequest = z.object({ apikey: z.string().min(1).max(512) });
export const UpdateApiKeyRequest = z.object({
  id: z.string().min(1).max(120),
  if_match: z.string().min(1).max(200),
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(1024).optional(),
});

// ---------- API keys issued for another service (secrets `iam_credentials`; NATS only) ----------

/** Longest ttl of an issued key: 90 days, as an `iam_credentials` secret allows. */
export const ISSUED_APIKEY_MAX_TTL_S = 90 * 86_400;
/** Create an API key for a service ID of `account_id` that iam deletes `ttl_seconds` from now. */
export const IssueServiceApiKeyRequest = z.object({
  account_id: z.string().min(1).max(64),
  /** The service ID's id (`ServiceId-…`). */
  service_id: z.string().min(1).max(120),
  ttl_seconds: z.number().int().min(1).max(ISSUED_APIKEY_MAX_TTL_S),
  name: z.string().min(1).max(200),
  description: z.string().max(1024).optional(),
});
export const IssuedServiceApiKey = z.object({
  apikey_id: z.string(),
  iam_id: z.string(),
  expires_at: z.string(),
  /** The key value, returned once and stored nowhere by iam. */
  apikey: z.string(),
});
export const RevokeServiceApiKeyRequest = z.object({ account_id: z.string().min(1).max(64), apikey_id: z.string().min(1).max(120) });
/** `deleted: false` when there was no such key issued for a service (already revoked or swept). */
export const RevokeServiceApiKeyResponse = z.object({ deleted: z.boolean() });

// ---------- policies ----------

export const PolicyAttribute = z.object({
  name: z.string().min(1).max(64),
  value: z.string().min(1).max(512),
  operator: z.enum(['stringEquals', 'stringMatch']).optional(),
});
export const PolicySubject = z.object({ attributes: z.array(PolicyAttribute).min(1).max(10) });
export const PolicyResource = z.object({
  attributes: z.array(PolicyAttribute).min(1).max(10),
  tags: z.array(z.unknown()).optional(),
});
export const PolicyRole = z.object({ role_id: z.string().min(1).max(200), display_name: z.string().optional() });

export const PolicyBody = z.object({
  type: z.enum(['access', 'authorization']),
  subjects: z.array(PolicySubject).length(1),
  roles: z.array(PolicyRole).min(1).max(10),
  resources: z.array(PolicyResource).length(1),
  description: z.string().max(300).optional(),
});
export type PolicyBody = z.infer<typeof PolicyBody>;

export const Policy = PolicyBody.extend({
  id: z.string(),
  href: z.string(),
  created_at: z.string(),
  created_by_id: z.string(),
  last_modified_at: z.string(),
  last_modified_by_id: z.string(),
  state: z.enum(['active', 'deleted']),
  /** Also sent as the ETag header by the gateway. */
  etag: z.string(),
});
export type Policy = z.infer<typeof Policy>;

export const ListPoliciesRequest = z.object({
  account_id: z.string().min(1).max(64),
  iam_id: z.string().max(120).optional(),
  type: z.enum(['access', 'authorization']).optional(),
  service_type: z.string().optional(),
  service_name: z.string().optional(),
  state: z.enum(['active', 'deleted']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  start: z.string().max(200).optional(),
});
export const PolicyList = z.object({
  limit: z.number().int(),
  first: z.object({ href: z.string() }),
  next: z.object({ href: z.string(), start: z.string() }).optional(),
  policies: z.array(Policy),
});
export const PolicyRef = z.object({ id: z.string().min(1).max(120) });
/**
 * Lifecycle's permanent delete: remove the authorization policies whose subject is this one service
 * instance (`serviceName` + `serviceInstance` in the subject). Policies for every instance of the
 * service stay. NATS only (no user-facing route).
 */
export const DeleteInstancePoliciesRequest = z.object({
  accountId: z.string().min(1).max(64),
  serviceName: z.string().min(1).max(64),
  serviceInstance: z.string().min(1).max(128),
});
export const DeleteInstancePoliciesResponse = z.object({ deleted: z.number().int().min(0) });
export const ReplacePolicyRequest = PolicyBody.extend({ id: z.string().min(1).max(120), if_match: z.string().min(1).max(200) });

export const RoleInfo = z.object({
  role_id: z.string(),
  crn: z.string(),
  name: z.string(),
  display_name: z.string(),
  description: z.string(),
  actions: z.array(z.string()),
});
export const ListRolesRequest = z.object({
  account_id: z.string().optional(),
  service_name: z.string().optional(),
  source_service_name: z.string().optional(),
  policy_type: z.string().optional(),
});
export const RoleList = z.object({
  custom_roles: z.array(RoleInfo),
  service_roles: z.array(RoleInfo),
  system_roles: z.array(RoleInfo),
});

// ---------- decisions ----------

/** A resource as policies address it. `accountId` is always the owning account. */
export const ResourceAttributes = z.object({
  accountId: z.string().min(1),
  serviceName: z.string().min(1),
  serviceInstance: z.string().optional(),
  resourceType: z.string().optional(),
  resource: z.string().optional(),
});
export type ResourceAttributes = z.infer<typeof ResourceAttributes>;

export const AuthorizeRequest = z.object({
  subject: z.object({ iamId: z.string().min(1), accountId: z.string().min(1) }),
  action: z.string().min(1),
  resource: ResourceAttributes,
});
export const Decision = z.object({ allowed: z.boolean(), policyId: z.string().optional(), reason: z.string().optional() });
export type Decision = z.infer<typeof Decision>;

/** Does a service-to-service authorization cover `source` using `target` (kms checks this on every wrap/unwrap)? */
export const AuthorizationCheckRequest = z.object({
  source: z.object({ accountId: z.string().min(1), serviceName: z.string().min(1), serviceInstance: z.string().optional() }),
  target: ResourceAttributes,
  role: z.enum(['Reader', 'Writer', 'Manager']).default('Reader'),
});

// ---------- accounts (platform operators: `POST /v1/accounts`, or NATS tooling) ----------

export const CreateAccountRequest = z.object({ name: z.string().min(1).max(200) });
export const CreateAccountResponse = z.object({
  account_id: z.string(),
  name: z.string().optional(),
  admin_iam_id: z.string(),
  apikey_id: z.string(),
  /** The administrator's API key value, returned once. */
  apikey: z.string(),
});
export const Account = z.object({ account_id: z.string(), name: z.string(), created_at: z.string() });
export type Account = z.infer<typeof Account>;
export const ListAccountsRequest = PageQuery;
export const AccountList = pageOf('accounts', Account);

// ---------- users (IBM User Management v2: invite, list, get, remove) ----------

/** IBM's UserProfile; Sealbox keeps a user's email (its login name) and nothing else of a person. */
export const UserProfile = z.object({
  id: z.string(),
  iam_id: z.string(),
  realm: z.string(),
  user_id: z.string(),
  firstname: z.string(),
  lastname: z.string(),
  state: z.string(),
  email: z.string(),
  phonenumber: z.string(),
  altphonenumber: z.string(),
  photo: z.string(),
  account_id: z.string(),
  added_on: z.string(),
});
export type UserProfile = z.infer<typeof UserProfile>;
/** IAM policies and access groups of IBM's invitation are not supported: grant access with `/v1/policies` (strict: refused by name). */
export const InviteUsersRequest = z
  .object({
    account_id: z.string().min(1).max(64),
    users: z
      .array(z.object({ email: z.email().max(200), account_role: z.string().max(64).optional() }))
      .min(1)
      .max(20),
  })
  .strict();
/**
 * IBM's InvitedUserList, plus (Sealbox) each user's first API key: users sign in only with API keys,
 * so the inviter receives it, once, to hand it over.
 */
export const InvitedUserList = z.object({
  resources: z.array(z.object({ email: z.string(), id: z.string(), state: z.string(), apikey_id: z.string(), apikey: z.string() })),
});
export const ListUsersRequest = z.object({
  account_id: z.string().min(1).max(64),
  limit: z.coerce.number().int().min(1).max(100).default(100),
  _start: z.string().max(200).optional(),
});
export const UserList = z.object({
  total_results: z.number().int(),
  limit: z.number().int(),
  first_url: z.string(),
  next_url: z.string().optional(),
  resources: z.array(UserProfile),
});
export const UserRef = z.object({ account_id: z.string().min(1).max(64), iam_id: z.string().min(1).max(120) });

// ---------- account settings (IBM `GET/PUT /v1/accounts/{account_id}/settings/identity`) ----------

export const RestrictionValues = ['RESTRICTED', 'NOT_RESTRICTED', 'NOT_SET'] as const;
export type Restriction = (typeof RestrictionValues)[number];

/** IBM's AccountSettingsResponse; the settings Sealbox does not have answer their IBM "not set" value. */
export const AccountSettings = z.object({
  account_id: z.string(),
  entity_tag: z.string(),
  /** Always RESTRICTED: creating a service ID needs `iam-identity.serviceid.create` (Operator or above). */
  restrict_create_service_id: z.enum(RestrictionValues),
  /** RESTRICTED or NOT_SET (Sealbox's default: restricted): a user's own API key needs `iam-identity.apikey.create`. */
  restrict_create_platform_apikey: z.enum(RestrictionValues),
  allowed_ip_addresses: z.string(),
  mfa: z.string(),
  session_expiration_in_seconds: z.string(),
  session_invalidation_in_seconds: z.string(),
  max_sessions_per_identity: z.string(),
  system_access_token_expiration_in_seconds: z.string(),
  system_refresh_token_expiration_in_seconds: z.string(),
  restrict_user_list_visibility: z.string(),
  user_mfa: z.array(z.unknown()),
  restrict_user_domains: z.array(z.unknown()),
});
export type AccountSettings = z.infer<typeof AccountSettings>;
export const GetAccountSettingsRequest = z.object({ account_id: z.string().min(1).max(64) });
/** Only the two creation restrictions can be changed; any other IBM setting is refused by name (strict). */
export const UpdateAccountSettingsRequest = z
  .object({
    account_id: z.string().min(1).max(64),
    if_match: z.string().min(1).max(200),
    restrict_create_service_id: z.enum(['RESTRICTED', 'NOT_SET'], { message: 'Sealbox always restricts service ID creation: RESTRICTED or NOT_SET' }).optional(),
    restrict_create_platform_apikey: z.enum(RestrictionValues).optional(),
  })
  .strict();

export const Empty = z.object({});

/** Platform operator actions on the whole deployment (not on one account): checked in the platform account only. */
export const PlatformOperatorActions = ['sealbox.seal', 'sealbox.rekey'] as const;
export type PlatformOperatorAction = (typeof PlatformOperatorActions)[number];
export const AuthorizeOperatorRequest = z.object({ action: z.enum(PlatformOperatorActions) });
