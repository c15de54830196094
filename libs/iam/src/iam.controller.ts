import { Controller, Inject } from '@nestjs/common';
import type { HealthResponse, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { dataSourceToken, DomainError, healthReport, pingDatabase, RpcHandler, type RpcMeta } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { ManagedApiKeys } from './apikeys/managed-api-keys.js';
import { AccountService } from './identities/account.service.js';
import { IdentityService } from './identities/identity.service.js';
import { UserService } from './identities/user.service.js';
import { PolicyService } from './policies/policy.service.js';
import type { Principal } from './ports.js';
import { TokenRevocations } from './tokens/revocations.js';
import { TokenService } from './tokens/token.service.js';

/** Management operations need an authenticated caller, forwarded by the gateway. */
function callerOf(meta: RpcMeta): Principal {
  if (!meta.caller) throw new DomainError('UNAUTHORIZED', 'This operation needs an authenticated caller');
  return { iamId: meta.caller.iamId, accountId: meta.caller.accountId };
}

const empty = {} as const;

@Controller()
export class IamRpcController {
  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
    private readonly identities: IdentityService,
    private readonly accounts: AccountService,
    private readonly users: UserService,
    private readonly revocations: TokenRevocations,
    private readonly policies: PolicyService,
    private readonly managedKeys: ManagedApiKeys,
  ) {}

  @RpcHandler('iam.health')
  async health(): Promise<HealthResponse> {
    return healthReport('iam', { database: () => pingDatabase(this.dataSource) });
  }

  // ---- tokens ----
  @RpcHandler('iam.token.exchange')
  exchange(request: ValidatedRequestOf<'iam.token.exchange'>): Promise<ResponseOf<'iam.token.exchange'>> {
    return this.tokens.exchange(request);
  }

  @RpcHandler('iam.jwks.get')
  jwks(): Promise<ResponseOf<'iam.jwks.get'>> {
    return this.tokens.jwks();
  }

  @RpcHandler('iam.signing-key.rotate')
  rotate(): Promise<ResponseOf<'iam.signing-key.rotate'>> {
    return this.tokens.rotateSigningKey();
  }

  /** The gateways' reconciliation of their revocation sets. */
  @RpcHandler('iam.revocation.list')
  listRevocations(request: ValidatedRequestOf<'iam.revocation.list'>): Promise<ResponseOf<'iam.revocation.list'>> {
    return this.revocations.list(request);
  }

  // ---- accounts, service IDs, API keys ----
  /** A platform operator over HTTP (the gateway forwards the caller), or NATS tooling without a caller. */
  @RpcHandler('iam.account.create')
  createAccount(request: ValidatedRequestOf<'iam.account.create'>, meta: RpcMeta): Promise<ResponseOf<'iam.account.create'>> {
    return this.accounts.create(meta.caller ? callerOf(meta) : undefined, request);
  }

  @RpcHandler('iam.operator.authorize')
  async authorizeOperator(request: ValidatedRequestOf<'iam.operator.authorize'>, meta: RpcMeta): Promise<ResponseOf<'iam.operator.authorize'>> {
    await this.accounts.requireOperator(callerOf(meta), request.action);
    return {};
  }

  @RpcHandler('iam.account.list')
  listAccounts(request: ValidatedRequestOf<'iam.account.list'>, meta: RpcMeta): Promise<ResponseOf<'iam.account.list'>> {
    return this.accounts.list(callerOf(meta), request);
  }

  @RpcHandler('iam.account-settings.get')
  getAccountSettings(request: ValidatedRequestOf<'iam.account-settings.get'>, meta: RpcMeta): Promise<ResponseOf<'iam.account-settings.get'>> {
    return this.accounts.getSettings(callerOf(meta), request);
  }

  @RpcHandler('iam.account-settings.update')
  updateAccountSettings(
    request: ValidatedRequestOf<'iam.account-settings.update'>,
    meta: RpcMeta,
  ): Promise<ResponseOf<'iam.account-settings.update'>> {
    return this.accounts.updateSettings(callerOf(meta), request);
  }

  @RpcHandler('iam.user.invite')
  inviteUsers(request: ValidatedRequestOf<'iam.user.invite'>, meta: RpcMeta): Promise<ResponseOf<'iam.user.invite'>> {
    return this.users.invite(callerOf(meta), request);
  }

  @RpcHandler('iam.user.list')
  listUsers(request: ValidatedRequestOf<'iam.user.list'>, meta: RpcMeta): Promise<ResponseOf<'iam.user.list'>> {
    return this.users.list(callerOf(meta), request);
  }

  @RpcHandler('iam.user.get')
  getUser(request: ValidatedRequestOf<'iam.user.get'>, meta: RpcMeta): Promise<ResponseOf<'iam.user.get'>> {
    return this.users.get(callerOf(meta), request);
  }

  @RpcHandler('iam.user.remove')
  async removeUser(request: ValidatedRequestOf<'iam.user.remove'>, meta: RpcMeta): Promise<ResponseOf<'iam.user.remove'>> {
    await this.users.remove(callerOf(meta), request);
    return empty;
  }

  @RpcHandler('iam.serviceid.create')
  createServiceId(request: ValidatedRequestOf<'iam.serviceid.create'>, meta: RpcMeta): Promise<ResponseOf<'iam.serviceid.create'>> {
    return this.identities.createServiceId(callerOf(meta), request);
  }

  @RpcHandler('iam.serviceid.list')
  listServiceIds(request: ValidatedRequestOf<'iam.serviceid.list'>, meta: RpcMeta): Promise<ResponseOf<'iam.serviceid.list'>> {
    return this.identities.listServiceIds(callerOf(meta), request);
  }

  @RpcHandler('iam.serviceid.get')
  getServiceId(request: ValidatedRequestOf<'iam.serviceid.get'>, meta: RpcMeta): Promise<ResponseOf<'iam.serviceid.get'>> {
    return this.identities.getServiceId(callerOf(meta), request.id);
  }

  @RpcHandler('iam.serviceid.delete')
  async deleteServiceId(request: ValidatedRequestOf<'iam.serviceid.delete'>, meta: RpcMeta): Promise<ResponseOf<'iam.serviceid.delete'>> {
    await this.identities.deleteServiceId(callerOf(meta), request.id);
    return empty;
  }

  @RpcHandler('iam.apikey.create')
  createApiKey(request: ValidatedRequestOf<'iam.apikey.create'>, meta: RpcMeta): Promise<ResponseOf<'iam.apikey.create'>> {
    return this.identities.createApiKey(callerOf(meta), request);
  }

  @RpcHandler('iam.apikey.list')
  listApiKeys(request: ValidatedRequestOf<'iam.apikey.list'>, meta: RpcMeta): Promise<ResponseOf<'iam.apikey.list'>> {
    return this.identities.listApiKeys(callerOf(meta), request);
  }

  @RpcHandler('iam.apikey.get')
  getApiKey(request: ValidatedRequestOf<'iam.apikey.get'>, meta: RpcMeta): Promise<ResponseOf<'iam.apikey.get'>> {
    return this.identities.getApiKey(callerOf(meta), request.id);
  }

  @RpcHandler('iam.apikey.details')
  apiKeyDetails(request: ValidatedRequestOf<'iam.apikey.details'>, meta: RpcMeta): Promise<ResponseOf<'iam.apikey.details'>> {
    return this.identities.apiKeyDetails(callerOf(meta), request.apikey);
  }

  @RpcHandler('iam.apikey.update')
  updateApiKey(request: ValidatedRequestOf<'iam.apikey.update'>, meta: RpcMeta): Promise<ResponseOf<'iam.apikey.update'>> {
    return this.identities.updateApiKey(callerOf(meta), request);
  }

  @RpcHandler('iam.apikey.lock')
  async lockApiKey(request: ValidatedRequestOf<'iam.apikey.lock'>, meta: RpcMeta): Promise<ResponseOf<'iam.apikey.lock'>> {
    await this.identities.lockApiKey(callerOf(meta), request.id, true);
    return empty;
  }

  @RpcHandler('iam.apikey.unlock')
  async unlockApiKey(request: ValidatedRequestOf<'iam.apikey.unlock'>, meta: RpcMeta): Promise<ResponseOf<'iam.apikey.unlock'>> {
    await this.identities.lockApiKey(callerOf(meta), request.id, false);
    return empty;
  }

  @RpcHandler('iam.apikey.delete')
  async deleteApiKey(request: ValidatedRequestOf<'iam.apikey.delete'>, meta: RpcMeta): Promise<ResponseOf<'iam.apikey.delete'>> {
    await this.identities.deleteApiKey(callerOf(meta), request.id);
    return empty;
  }

  // ---- API keys issued for the secrets service (NATS permissions: only secrets publishes these) ----
  @RpcHandler('iam.apikey.issue-for-service')
  issueForService(request: ValidatedRequestOf<'iam.apikey.issue-for-service'>): Promise<ResponseOf<'iam.apikey.issue-for-service'>> {
    return this.managedKeys.issue(request);
  }

  @RpcHandler('iam.apikey.revoke')
  revokeIssued(request: ValidatedRequestOf<'iam.apikey.revoke'>): Promise<ResponseOf<'iam.apikey.revoke'>> {
    return this.managedKeys.revoke(request);
  }

  // ---- policies, roles, decisions ----
  @RpcHandler('iam.policy.create')
  createPolicy(request: ValidatedRequestOf<'iam.policy.create'>, meta: RpcMeta): Promise<ResponseOf<'iam.policy.create'>> {
    return this.policies.create(callerOf(meta), request);
  }

  @RpcHandler('iam.policy.list')
  listPolicies(request: ValidatedRequestOf<'iam.policy.list'>, meta: RpcMeta): Promise<ResponseOf<'iam.policy.list'>> {
    return this.policies.list(callerOf(meta), request);
  }

  @RpcHandler('iam.policy.get')
  getPolicy(request: ValidatedRequestOf<'iam.policy.get'>, meta: RpcMeta): Promise<ResponseOf<'iam.policy.get'>> {
    return this.policies.get(callerOf(meta), request.id);
  }

  @RpcHandler('iam.policy.replace')
  replacePolicy(request: ValidatedRequestOf<'iam.policy.replace'>, meta: RpcMeta): Promise<ResponseOf<'iam.policy.replace'>> {
    return this.policies.replace(callerOf(meta), request);
  }

  @RpcHandler('iam.policy.delete')
  async deletePolicy(request: ValidatedRequestOf<'iam.policy.delete'>, meta: RpcMeta): Promise<ResponseOf<'iam.policy.delete'>> {
    await this.policies.delete(callerOf(meta), request.id);
    return empty;
  }

  /** Lifecycle only (NATS permissions): no caller, the request names the account. */
  @RpcHandler('iam.policy.delete-for-instance')
  deleteInstancePolicies(request: ValidatedRequestOf<'iam.policy.delete-for-instance'>): Promise<ResponseOf<'iam.policy.delete-for-instance'>> {
    return this.policies.deleteInstanceAuthorizations(request);
  }

  @RpcHandler('iam.role.list')
  listRoles(request: ValidatedRequestOf<'iam.role.list'>): Promise<ResponseOf<'iam.role.list'>> {
    return this.policies.listRoles(request);
  }

  @RpcHandler('iam.authorize')
  authorize(request: ValidatedRequestOf<'iam.authorize'>): Promise<ResponseOf<'iam.authorize'>> {
    return this.policies.authorizeRequest(request);
  }

  @RpcHandler('iam.authorization.check')
  checkAuthorization(request: ValidatedRequestOf<'iam.authorization.check'>): Promise<ResponseOf<'iam.authorization.check'>> {
    return this.policies.checkAuthorization(request);
  }
}
