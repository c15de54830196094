import type { Action } from '@sealbox/contracts';
import { DomainError, forbidden } from '@sealbox/platform';
import type { IdentityEntity } from '../entities/index.js';
import type { AccessDecider, Principal, ResourceAttributes } from '../ports.js';
import { IAM_IDENTITY, serviceIdOf } from './wire.js';

export type ApiKeyAction = Extract<Action, `iam-identity.apikey.${string}`>;
export type ServiceIdAction = Extract<Action, `iam-identity.serviceid.${string}`>;

/** What a decision about an identity (or its API keys) needs to know of it. */
export type IdentityRef = Pick<IdentityEntity, 'iamId' | 'accountId' | 'kind'>;

/** The whole account's identity resources: every user, every service ID. */
export const accountResource = (accountId: string): ResourceAttributes => ({ accountId, serviceName: IAM_IDENTITY });

/**
 * The policy resource of an identity: a service ID is addressed by its id (so a policy can grant one
 * service ID), a user only through the account.
 */
export function identityResource(identity: IdentityRef): ResourceAttributes {
  return identity.kind === 'service_id'
    ? { ...accountResource(identity.accountId), resourceType: 'serviceid', resource: serviceIdOf(identity.iamId) }
    : accountResource(identity.accountId);
}

/** Refused creation of an API key that the caller may see: the one answer whatever the missing grant. */
export const apiKeyCreationRestricted = (owner: IdentityRef) =>
  new DomainError(
    'APIKEY_CREATION_RESTRICTED',
    owner.kind === 'service_id'
      ? `Creating an API key for service ID ${serviceIdOf(owner.iamId)} needs a role granting iam-identity.apikey.create on it or on the IAM Identity service (Operator, Editor or Administrator)`
      : 'API key creation is restricted in this account (restrict_create_platform_apikey): creating your own API key needs a role granting iam-identity.apikey.create on the IAM Identity service (Operator, Editor or Administrator)',
  );

/** Actions on another identity's keys that only read them (metadata, never values). */
const KEY_READ_ACTIONS: ReadonlySet<ApiKeyAction> = new Set(['iam-identity.apikey.read', 'iam-identity.apikey.list']);

/**
 * A USER's API keys are theirs alone to create, change, lock or delete: no policy grants that over
 * another user (otherwise an Operator on iam-identity could mint a key for the account administrator
 * and act as them). Policies can grant reading them, and managing service IDs' keys.
 */
function onlyOwnerMayManage(owner: IdentityRef, action: ApiKeyAction): boolean {
  return owner.kind === 'user' && !KEY_READ_ACTIONS.has(action);
}

/** Which identities' keys a caller may list: all of the account, or only these iam_ids. */
export type Visibility = { readonly all: true } | { readonly all: false; readonly iamIds: ReadonlySet<string> };

/**
 * The identities area's access rules on top of the policy decisions. A caller may always manage its
 * own API keys; anything else of its account needs a policy. An item the caller may not even read
 * answers NOT_FOUND, exactly like a missing one; an item it may read but not change answers FORBIDDEN.
 */
export class IdentityAccess {
  constructor(private readonly decider: Pick<AccessDecider, 'authorize'>) {}

  async allows(caller: Principal, action: Action, resource: ResourceAttributes): Promise<boolean> {
    if (resource.accountId !== caller.accountId) return false;
    return (await this.decider.authorize(caller, action, resource)).allowed;
  }

  /** An account-wide action without a specific item (create a service ID): FORBIDDEN when not allowed. */
  async requireOnAccount(caller: Principal, action: Action, accountId: string): Promise<void> {
    if (!(await this.allows(caller, action, accountResource(accountId)))) throw forbidden();
  }

  /** May the caller perform `action` on the API keys of `owner`? */
  async allowsOnKeysOf(caller: Principal, owner: IdentityRef, action: ApiKeyAction): Promise<boolean> {
    if (owner.accountId !== caller.accountId) return false;
    if (owner.iamId === caller.iamId) return true;
    if (onlyOwnerMayManage(owner, action)) return false;
    return this.allows(caller, action, identityResource(owner));
  }

  /** `action` on the API keys of `owner`; `notFound` when the caller may not read them. */
  async requireOnKeysOf(caller: Principal, owner: IdentityRef, action: ApiKeyAction, notFound: () => DomainError): Promise<void> {
    if (owner.accountId !== caller.accountId) throw notFound();
    if (owner.iamId === caller.iamId) return;
    if (onlyOwnerMayManage(owner, action)) {
      if (await this.allows(caller, 'iam-identity.apikey.read', identityResource(owner))) {
        throw forbidden("Only a user can create, change, lock or delete the user's own API keys");
      }
      throw notFound();
    }
    await this.require(caller, identityResource(owner), action, 'iam-identity.apikey.read', notFound);
  }

  /**
   * Creating an API key for `owner` needs an explicit grant, for one's own key too: a stolen token
   * must not turn into a permanent credential. A service ID needs `iam-identity.apikey.create` on
   * itself or the IAM Identity service, whoever asks; a user's keys are created by that user alone,
   * who needs the grant on the IAM Identity service when the account restricts API key creation
   * (`restrictedForUsers`). A key the caller may see but not create is APIKEY_CREATION_RESTRICTED;
   * one it may not see is `notFound`.
   */
  async requireKeyCreation(caller: Principal, owner: IdentityRef, restrictedForUsers: boolean, notFound: () => DomainError): Promise<void> {
    if (owner.accountId !== caller.accountId) throw notFound();
    const action = 'iam-identity.apikey.create';
    const self = owner.iamId === caller.iamId;
    if (owner.kind === 'user' && !self) {
      await this.requireOnKeysOf(caller, owner, action, notFound);
      return;
    }
    if (owner.kind === 'user' && !restrictedForUsers) return;
    const resource = identityResource(owner);
    if (await this.allows(caller, action, resource)) return;
    if (self || (await this.allows(caller, 'iam-identity.apikey.read', resource))) throw apiKeyCreationRestricted(owner);
    throw notFound();
  }

  /** `action` on one service ID; `notFound` when the caller may not read it. */
  async requireOnServiceId(caller: Principal, serviceId: IdentityRef, action: ServiceIdAction, notFound: () => DomainError): Promise<void> {
    if (serviceId.accountId !== caller.accountId) throw notFound();
    await this.require(caller, identityResource(serviceId), action, 'iam-identity.serviceid.read', notFound);
  }

  /**
   * Whose items a caller may list in its account: everything with an account-wide grant, else its
   * own iam_id plus each service ID of the account it holds a grant on (loaded only when needed).
   */
  async visible(
    caller: Principal,
    action: ApiKeyAction | ServiceIdAction,
    serviceIdsOfAccount: () => Promise<readonly IdentityRef[]>,
  ): Promise<Visibility> {
    if (await this.allows(caller, action, accountResource(caller.accountId))) return { all: true };
    const granted = await Promise.all(
      (await serviceIdsOfAccount()).map(async (serviceId) =>
        (await this.allows(caller, action, identityResource(serviceId))) ? serviceId.iamId : undefined,
      ),
    );
    return { all: false, iamIds: new Set([caller.iamId, ...granted.filter((iamId): iamId is string => iamId !== undefined)]) };
  }

  private async require(
    caller: Principal,
    resource: ResourceAttributes,
    action: Action,
    readAction: Action,
    notFound: () => DomainError,
  ): Promise<void> {
    if (await this.allows(caller, action, resource)) return;
    if (action !== readAction && (await this.allows(caller, readAction, resource))) throw forbidden();
    throw notFound();
  }
}
