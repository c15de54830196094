/**
 * THE registry of NATS request/reply subjects.
 *
 * DO NOT RENAME a subject or change a payload incompatibly: every service, the gateway and
 * external tooling address each other by these names. A rename is a breaking change of the
 * wire protocol and must be called out as such.
 *
 * Each entry names the owning service (its queue group) and zod schemas for the request and the
 * response. Requests are validated by the receiving side; the typed client takes its types from
 * here, so a wrong subject or payload does not compile.
 */
import { z } from 'zod';
import type { ServiceName } from './services.js';
import * as Iam from './iam/schemas.js';
import * as Kms from './kms/schemas.js';
import * as Crypto from './crypto/schemas.js';
import * as Storage from './storage/schemas.js';
import * as Secrets from './secrets/schemas.js';
import * as Lifecycle from './lifecycle/schemas.js';

export interface SubjectDefinition<
  Svc extends ServiceName = ServiceName,
  Req extends z.ZodType = z.ZodType,
  Res extends z.ZodType = z.ZodType,
> {
  readonly service: Svc;
  readonly request: Req;
  readonly response: Res;
  /** One line for the docs and the OpenAPI-side documentation. */
  readonly summary: string;
}

function rpc<Svc extends ServiceName, Req extends z.ZodType, Res extends z.ZodType>(
  service: Svc,
  summary: string,
  request: Req,
  response: Res,
): SubjectDefinition<Svc, Req, Res> {
  return { service, summary, request, response };
}

export const HealthRequest = z.object({}).strict();
export const HealthResponse = z.object({
  service: z.string(),
  version: z.string(),
  /** Identifies the answering replica (host + pid), so tests can see load sharing. */
  replica: z.string(),
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

const health = <Svc extends ServiceName>(service: Svc) =>
  rpc(service, `Liveness and version of the ${service} service`, HealthRequest, HealthResponse);

export const Subjects = {
  'iam.health': health('iam'),
  'iam.authorize': rpc('iam', 'Decide whether a subject may perform an action on a resource', Iam.AuthorizeRequest, Iam.Decision),
  'iam.authorization.check': rpc(
    'iam',
    'Does a service-to-service authorization let a source service instance use a target resource',
    Iam.AuthorizationCheckRequest,
    Iam.Decision,
  ),
  'iam.token.exchange': rpc('iam', 'Exchange an API key or refresh token for an access token', Iam.TokenRequest, Iam.TokenResponse),
  'iam.jwks.get': rpc('iam', 'Public keys that verify access tokens', Iam.Empty, Iam.JwksResponse),
  'iam.signing-key.rotate': rpc('iam', 'Start signing with a new key; the old one verifies until its tokens expire', Iam.Empty, Iam.RotateSigningKeyResponse),
  'iam.revocation.list': rpc('iam', 'The token revocations still in force (the gateway reconciles its revocation set with them)', Iam.ListRevocationsRequest, Iam.RevocationList),
  'iam.account.create': rpc('iam', 'Create an account with an administrator and its first API key (platform operators; NATS tooling without a caller)', Iam.CreateAccountRequest, Iam.CreateAccountResponse),
  'iam.account.list': rpc('iam', 'List the accounts (platform operators)', Iam.ListAccountsRequest, Iam.AccountList),
  'iam.operator.authorize': rpc('iam', 'Allow a platform operator action (seal, rekey) or answer FORBIDDEN: a platform account administrator only', Iam.AuthorizeOperatorRequest, Iam.Empty),
  'iam.user.invite': rpc('iam', 'Add users to an account, each with a first API key returned once', Iam.InviteUsersRequest, Iam.InvitedUserList),
  'iam.user.list': rpc('iam', 'List the users of an account', Iam.ListUsersRequest, Iam.UserList),
  'iam.user.get': rpc('iam', 'Get a user of an account', Iam.UserRef, Iam.UserProfile),
  'iam.user.remove': rpc('iam', 'Remove a user from an account: its API keys and policies are deleted, its tokens revoked', Iam.UserRef, Iam.Empty),
  'iam.account-settings.get': rpc('iam', "Get an account's identity settings", Iam.GetAccountSettingsRequest, Iam.AccountSettings),
  'iam.account-settings.update': rpc('iam', "Change an account's identity settings (If-Match)", Iam.UpdateAccountSettingsRequest, Iam.AccountSettings),
  'iam.serviceid.create': rpc('iam', 'Create a service ID', Iam.CreateServiceIdRequest, Iam.ServiceId),
  'iam.serviceid.list': rpc('iam', 'List service IDs of an account', Iam.ListServiceIdsRequest, Iam.ServiceIdList),
  'iam.serviceid.get': rpc('iam', 'Get a service ID', Iam.ServiceIdRef, Iam.ServiceId),
  'iam.serviceid.delete': rpc('iam', 'Delete a service ID and its API keys', Iam.ServiceIdRef, Iam.Empty),
  'iam.apikey.create': rpc('iam', 'Create an API key (the value is returned once)', Iam.CreateApiKeyRequest, Iam.ApiKey),
  'iam.apikey.list': rpc('iam', 'List API keys', Iam.ListApiKeysRequest, Iam.ApiKeyList),
  'iam.apikey.get': rpc('iam', 'Get an API key', Iam.ApiKeyRef, Iam.ApiKey),
  'iam.apikey.details': rpc('iam', 'Get an API key by its value', Iam.ApiKeyDetailsRequest, Iam.ApiKey),
  'iam.apikey.update': rpc('iam', 'Update an API key (If-Match)', Iam.UpdateApiKeyRequest, Iam.ApiKey),
  'iam.apikey.lock': rpc('iam', 'Lock an API key', Iam.ApiKeyRef, Iam.Empty),
  'iam.apikey.unlock': rpc('iam', 'Unlock an API key', Iam.ApiKeyRef, Iam.Empty),
  'iam.apikey.delete': rpc('iam', 'Delete an API key', Iam.ApiKeyRef, Iam.Empty),
  'iam.apikey.issue-for-service': rpc('iam', 'Create an API key for a service ID that iam deletes when its ttl ends (secrets iam_credentials; only the secrets service may call it)', Iam.IssueServiceApiKeyRequest, Iam.IssuedServiceApiKey),
  'iam.apikey.revoke': rpc('iam', 'Delete an API key issued by iam.apikey.issue-for-service (only the secrets service may call it)', Iam.RevokeServiceApiKeyRequest, Iam.RevokeServiceApiKeyResponse),
  'iam.policy.create': rpc('iam', 'Create an access or authorization policy', Iam.PolicyBody, Iam.Policy),
  'iam.policy.list': rpc('iam', 'List policies of an account', Iam.ListPoliciesRequest, Iam.PolicyList),
  'iam.policy.get': rpc('iam', 'Get a policy', Iam.PolicyRef, Iam.Policy),
  'iam.policy.replace': rpc('iam', 'Replace a policy (If-Match)', Iam.ReplacePolicyRequest, Iam.Policy),
  'iam.policy.delete': rpc('iam', 'Delete a policy', Iam.PolicyRef, Iam.Empty),
  'iam.policy.delete-for-instance': rpc('iam', 'Delete the authorization policies whose subject is one service instance (lifecycle permanent delete; idempotent)', Iam.DeleteInstancePoliciesRequest, Iam.DeleteInstancePoliciesResponse),
  'iam.role.list': rpc('iam', 'List the roles and the actions they grant', Iam.ListRolesRequest, Iam.RoleList),

  'kms.health': health('kms'),
  'kms.instance.create': rpc('kms', 'Create a key-management instance (lifecycle; tests)', Kms.CreateKmsInstanceRequest, Kms.KmsInstance),
  'kms.instance.get': rpc('kms', 'Describe a key-management instance', Kms.KmsInstanceRef, Kms.KmsInstance),
  'kms.instance.delete': rpc('kms', 'Delete a key-management instance (409 while keys remain)', Kms.KmsInstanceRef, Kms.Empty),
  'kms.key.wrap': rpc('kms', 'Wrap a data encryption key for another service (authorization checked)', Kms.ServiceWrapRequest, Kms.ServiceWrapResponse),
  'kms.key.unwrap': rpc('kms', 'Unwrap a data encryption key for another service (authorization checked)', Kms.ServiceUnwrapRequest, Kms.ServiceUnwrapResponse),
  'kms.key.rewrap': rpc('kms', 'Rewrap a data encryption key under the newest key version', Kms.ServiceRewrapRequest, Kms.ServiceRewrapResponse),
  // Key Protect v2, user-facing (the gateway forwards `/kms/api/v2/…` with the caller).
  'kms.api.key.create': rpc('kms', 'Key Protect: create a root key (generate, import, import with a token)', Kms.CreateKeyRequest, Kms.KeyCollection),
  'kms.api.key.list': rpc('kms', 'Key Protect: list keys (limit, offset, state, extractable)', Kms.ListKeysRequest, Kms.KeyCollection),
  'kms.api.key.count': rpc('kms', 'Key Protect: count keys (HEAD, Key-Total)', Kms.CountKeysRequest, Kms.KeyCount),
  'kms.api.key.get': rpc('kms', 'Key Protect: get a key by id or alias', Kms.KeyRequest, Kms.KeyCollection),
  'kms.api.key.metadata': rpc('kms', 'Key Protect: get the metadata of a key', Kms.KeyRequest, Kms.KeyCollection),
  'kms.api.key.wrap': rpc('kms', 'Key Protect: wrap a data key (generated when absent)', Kms.WrapRequest, Kms.WrapResponse),
  'kms.api.key.unwrap': rpc('kms', 'Key Protect: unwrap a data key (rewrapped when of an older version)', Kms.UnwrapRequest, Kms.UnwrapResponse),
  'kms.api.key.rewrap': rpc('kms', 'Key Protect: rewrap a data key under the newest key version', Kms.RewrapRequest, Kms.RewrapResponse),
  'kms.api.key.rotate': rpc('kms', 'Key Protect: rotate a key (imported keys need new material)', Kms.KeyMaterialRequest, Kms.Empty),
  'kms.api.key.disable': rpc('kms', 'Key Protect: disable a key (state 2)', Kms.KeyRequest, Kms.Empty),
  'kms.api.key.enable': rpc('kms', 'Key Protect: enable a disabled key (state 1)', Kms.KeyRequest, Kms.Empty),
  'kms.api.key.set-for-deletion': rpc('kms', 'Key Protect: authorize the deletion of a key with a dual authorization policy', Kms.KeyRequest, Kms.Empty),
  'kms.api.key.unset-for-deletion': rpc('kms', 'Key Protect: cancel a deletion authorization', Kms.KeyRequest, Kms.Empty),
  'kms.api.key.delete': rpc('kms', 'Key Protect: delete a key (state 5, restorable for 30 days)', Kms.DeleteKeyRequest, Kms.KeyCollection),
  'kms.api.key.restore': rpc('kms', 'Key Protect: restore a deleted key within 30 days', Kms.KeyMaterialRequest, Kms.KeyCollection),
  'kms.api.key.purge': rpc('kms', 'Key Protect: purge a deleted key (at least 4 h after deletion)', Kms.KeyRequest, Kms.KeyCollection),
  'kms.api.key.versions': rpc('kms', 'Key Protect: list the versions of a key', Kms.KeyVersionsRequest, Kms.KeyVersionCollection),
  'kms.api.key.alias.create': rpc('kms', 'Key Protect: add an alias to a key', Kms.AliasRequest, Kms.AliasCollection),
  'kms.api.key.alias.delete': rpc('kms', 'Key Protect: remove an alias of a key', Kms.AliasRequest, Kms.Empty),
  'kms.api.key.policy.get': rpc('kms', 'Key Protect: read the rotation / dual authorization policies of a key', Kms.GetKeyPolicyRequest, Kms.KeyPolicyCollection),
  'kms.api.key.policy.put': rpc('kms', 'Key Protect: set the rotation / dual authorization policies of a key', Kms.PutKeyPolicyRequest, Kms.KeyPolicyCollection),
  'kms.api.registration.list': rpc('kms', 'Key Protect: list registrations of one key or of every key', Kms.ListRegistrationsRequest, Kms.RegistrationCollection),
  'kms.api.import-token.create': rpc('kms', 'Key Protect: create the import token of an instance', Kms.CreateImportTokenRequest, Kms.ImportTokenMetadata),
  'kms.api.import-token.get': rpc('kms', 'Key Protect: retrieve the import token (public key and nonce)', Kms.GetImportTokenRequest, Kms.ImportToken),
  'kms.api.master-key.get': rpc('kms', 'HPCS: status of the instance master key', Kms.InstanceRequest, Kms.MasterKeyStatus),
  'kms.api.master-key.load-part': rpc('kms', 'HPCS key ceremony: load one master key part (a distinct identity per part)', Kms.LoadMasterKeyPartRequest, Kms.MasterKeyStatus),
  'kms.api.master-key.zeroize': rpc('kms', 'HPCS: destroy the instance master key (every key becomes unusable)', Kms.InstanceRequest, Kms.MasterKeyStatus),
  'kms.registration.create': rpc('kms', 'Record that a resource\'s data is protected by a key', Kms.RegistrationRequest, Kms.Registration),
  'kms.registration.delete': rpc('kms', 'Remove a registration (uses the service-to-service authorization)', Kms.RegistrationRef, Kms.Empty),

  'crypto.health': health('crypto'),
  'crypto.envelope.seal': rpc('crypto', 'Encrypt a payload under a fresh data encryption key', Crypto.SealRequest, Crypto.SealResponse),
  'crypto.envelope.open': rpc('crypto', 'Decrypt an envelope', Crypto.OpenRequest, Crypto.OpenResponse),

  'storage.health': health('storage'),
  'storage.bucket.create': rpc('storage', 'Create the bucket of an instance (idempotent)', Storage.BucketRequest, Storage.BucketCreated),
  'storage.bucket.remove': rpc('storage', 'Remove the bucket of an instance with every object in it (absent: done)', Storage.BucketRequest, Storage.Empty),
  'storage.object.put': rpc('storage', 'Store an object (an envelope) under a key, replacing any previous one', Storage.PutObjectRequest, Storage.Empty),
  'storage.object.get': rpc('storage', 'Read an object', Storage.ObjectRequest, Storage.GetObjectResponse),
  'storage.object.head': rpc('storage', 'Size (and ETag where the store has one) of an object', Storage.ObjectRequest, Storage.HeadObjectResponse),
  'storage.object.delete': rpc('storage', 'Delete an object (absent: done)', Storage.ObjectRequest, Storage.Empty),
  'storage.object.list': rpc('storage', 'List keys in UTF-8 byte order, by prefix, a page at a time', Storage.ListObjectsRequest, Storage.ListObjectsResponse),

  'secrets.health': health('secrets'),
  'secrets.instance.activate': rpc('secrets', 'Register an instance with its KMS key and its default secret group (lifecycle; idempotent)', Secrets.ActivateInstanceRequest, Secrets.SecretsInstance),
  'secrets.instance.get': rpc('secrets', 'Read an instance of the registry', Secrets.InstanceRef, Secrets.SecretsInstance),
  'secrets.instance.set-plan': rpc('secrets', 'Record the plan of an instance, which sets its quotas (lifecycle, on a plan change; idempotent)', Secrets.SetInstancePlanRequest, Secrets.SecretsInstance),
  'secrets.instance.set-state': rpc('secrets', 'Enable or disable an instance (disabled: INSTANCE_NOT_ACTIVE)', Secrets.SetInstanceStateRequest, Secrets.SecretsInstance),
  'secrets.group.create': rpc('secrets', 'Create a secret group (name unique in the instance)', Secrets.CreateSecretGroupRequest, Secrets.SecretGroup),
  'secrets.group.list': rpc('secrets', 'List the secret groups of an instance, default first', Secrets.ListSecretGroupsRequest, Secrets.SecretGroupCollection),
  'secrets.group.get': rpc('secrets', 'Get a secret group', Secrets.SecretGroupRef, Secrets.SecretGroup),
  'secrets.group.update': rpc('secrets', 'Update the name or description of a secret group (merge patch)', Secrets.UpdateSecretGroupRequest, Secrets.SecretGroup),
  'secrets.group.delete': rpc('secrets', 'Delete an empty secret group (not default)', Secrets.SecretGroupRef, Secrets.Empty),
  'secrets.instance.purge': rpc('secrets', 'Remove every secret, version, lock and group row of an instance, and the instance (lifecycle permanent delete; idempotent)', Secrets.InstanceRef, Secrets.PurgeInstanceResponse),
  'secrets.secret.create': rpc('secrets', 'Create a secret: seal its first version, store the envelope, then commit the metadata', Secrets.CreateSecretRequest, Secrets.Secret),
  'secrets.secret.get': rpc('secrets', 'Read a secret with the payload of its current version', Secrets.SecretRef, Secrets.Secret),
  'secrets.secret.get-by-name': rpc('secrets', 'Read a secret with its payload by group name, type and name', Secrets.SecretByNameRequest, Secrets.Secret),
  'secrets.secret.list': rpc('secrets', 'List secret metadata with offset paging, sort, search and filters', Secrets.ListSecretsRequest, Secrets.SecretMetadataPaginatedCollection),
  'secrets.secret.metadata.get': rpc('secrets', 'Read the metadata of a secret', Secrets.SecretRef, Secrets.SecretMetadata),
  'secrets.secret.metadata.update': rpc('secrets', 'Update the metadata of a secret (merge patch, checked by its type)', Secrets.UpdateSecretMetadataRequest, Secrets.SecretMetadata),
  'secrets.secret.delete': rpc('secrets', 'Delete a secret with every version (refused while a version is locked)', Secrets.SecretRef, Secrets.Empty),
  'secrets.version.create': rpc('secrets', 'Create a new version of a secret (rotation)', Secrets.CreateSecretVersionRequest, Secrets.SecretVersion),
  'secrets.version.list': rpc('secrets', 'List the versions of a secret (metadata)', Secrets.SecretVersionsRef, Secrets.SecretVersionMetadataCollection),
  'secrets.version.get': rpc('secrets', 'Read a version with its payload (by id, current or previous)', Secrets.SecretVersionRef, Secrets.SecretVersion),
  'secrets.version.metadata.get': rpc('secrets', 'Read the metadata of a version', Secrets.SecretVersionRef, Secrets.SecretVersionMetadata),
  'secrets.version.metadata.update': rpc('secrets', 'Update the metadata of a version (merge patch)', Secrets.UpdateSecretVersionMetadataRequest, Secrets.SecretVersionMetadata),
  'secrets.secret.action': rpc('secrets', 'Run an action on a secret (private_cert: revoke its current certificate)', Secrets.SecretActionRequest, Secrets.SecretAction),
  'secrets.configuration.create': rpc('secrets', 'Create a private_cert configuration: a root CA, an intermediate CA or a certificate template', Secrets.CreateConfigurationRequest, Secrets.Configuration),
  'secrets.configuration.list': rpc('secrets', 'List the configurations of an instance', Secrets.ListConfigurationsRequest, Secrets.ConfigurationPaginatedCollection),
  'secrets.configuration.get': rpc('secrets', 'Get a configuration', Secrets.ConfigurationRef, Secrets.Configuration),
  'secrets.configuration.update': rpc('secrets', 'Update a configuration (merge patch)', Secrets.UpdateConfigurationRequest, Secrets.Configuration),
  'secrets.configuration.delete': rpc('secrets', 'Delete a configuration nothing else uses', Secrets.ConfigurationRef, Secrets.Empty),
  'secrets.configuration.action': rpc('secrets', 'Run an action on a CA (sign_intermediate, sign_csr, set_signed, rotate_crl, revoke_ca_certificate)', Secrets.ConfigurationActionRequest, Secrets.ConfigurationAction),
  'secrets.configuration.crl': rpc('secrets', 'The current CRL of a CA (public)', Secrets.CrlRequest, Secrets.CrlResponse),
  'secrets.version.data.delete': rpc('secrets', "Delete a version's data (its metadata stays; refused while it is locked)", Secrets.SecretVersionRef, Secrets.Empty),
  'secrets.lock.create': rpc('secrets', "Lock a secret's current version, or a given version (bulk)", Secrets.CreateLocksRequest, Secrets.SecretLocks),
  'secrets.lock.delete': rpc('secrets', 'Remove locks of a secret or of a version (bulk)', Secrets.DeleteLocksRequest, Secrets.SecretLocks),
  'secrets.lock.list': rpc('secrets', 'List the locks of a secret or of a version', Secrets.ListLocksRequest, Secrets.SecretLocksPaginatedCollection),
  'secrets.lock.list-all': rpc('secrets', 'List every secret of the instance that has locks', Secrets.ListSecretsLocksRequest, Secrets.SecretsLocksPaginatedCollection),

  'lifecycle.health': health('lifecycle'),
  'lifecycle.instance.create': rpc('lifecycle', 'Provision a resource instance (a saga: last_operation shows its progress)', Lifecycle.CreateInstanceRequest, Lifecycle.ResourceInstance),
  'lifecycle.instance.get': rpc('lifecycle', 'Read a resource instance by GUID or CRN (removed ones too)', Lifecycle.InstanceRef, Lifecycle.ResourceInstance),
  'lifecycle.instance.list': rpc('lifecycle', 'List resource instances of the caller\'s account, a page at a time', Lifecycle.ListInstancesRequest, Lifecycle.ResourceInstancesList),
  'lifecycle.instance.update': rpc('lifecycle', 'Rename, change parameters or change the plan of an instance', Lifecycle.UpdateInstanceRequest, Lifecycle.ResourceInstance),
  'lifecycle.instance.delete': rpc('lifecycle', 'Delete an instance: into reclamation on plans that have it, else permanently', Lifecycle.DeleteInstanceRequest, Lifecycle.Empty),
  'lifecycle.instance.lock': rpc('lifecycle', 'Lock an instance against update and delete', Lifecycle.InstanceRef, Lifecycle.ResourceInstance),
  'lifecycle.instance.unlock': rpc('lifecycle', 'Unlock an instance', Lifecycle.InstanceRef, Lifecycle.ResourceInstance),
  'lifecycle.reclamation.list': rpc('lifecycle', 'List reclamations of the caller\'s account', Lifecycle.ListReclamationsRequest, Lifecycle.ReclamationsList),
  'lifecycle.reclamation.action': rpc('lifecycle', 'Restore or reclaim (permanently delete) a reclaimed instance', Lifecycle.ReclamationActionRequest, Lifecycle.Reclamation),
  'lifecycle.plan.list': rpc('lifecycle', 'The plan catalog', Lifecycle.Empty, Lifecycle.PlanList),
  'lifecycle.plan.retire': rpc('lifecycle', 'Retire a plan (operator): its instances go to reclamation with reason plan_retired', Lifecycle.RetirePlanRequest, Lifecycle.RetirePlanResponse),
} as const satisfies Record<string, SubjectDefinition>;

export type Subjects = typeof Subjects;
export type Subject = keyof Subjects;
/** What a caller passes (before defaults are applied by the schema). */
export type RequestOf<S extends Subject> = z.input<Subjects[S]['request']>;
/** What a handler receives after validation. */
export type ValidatedRequestOf<S extends Subject> = z.output<Subjects[S]['request']>;
/** What a handler returns and a caller receives. */
export type ResponseOf<S extends Subject> = z.output<Subjects[S]['response']>;

/** Subjects owned by one service. */
export type SubjectOf<Svc extends ServiceName> = {
  [S in Subject]: Subjects[S]['service'] extends Svc ? S : never;
}[Subject];

export const allSubjects = Object.keys(Subjects) as Subject[];

export function subjectsOf(service: ServiceName): Subject[] {
  return allSubjects.filter((subject) => Subjects[subject].service === service);
}

export function isSubject(value: string): value is Subject {
  return Object.hasOwn(Subjects, value);
}

export const healthSubject = <Svc extends ServiceName>(service: Svc) => `${service}.health` as const;
