import type { Action, IamWire, RoleName } from '@sealbox/contracts';
import type { EntityManager } from 'typeorm';

/** Who is asking: the authenticated caller as the gateway forwards it. */
export interface Principal {
  readonly iamId: string;
  readonly accountId: string;
}

export type Decision = IamWire.Decision;
export type ResourceAttributes = IamWire.ResourceAttributes;

/** Policy decisions, implemented by the policies area and used by every IAM area. */
export abstract class AccessDecider {
  /** May `subject` perform `action` on `resource`? Cross-account is always denied. */
  abstract authorize(subject: Principal, action: Action, resource: ResourceAttributes): Promise<Decision>;
  /** Does `subject` hold one of `roles` on a policy covering `resource`? */
  abstract hasRole(subject: Principal, roles: readonly RoleName[], resource: ResourceAttributes): Promise<Decision>;
}

/** Grants an account's first administrator every role on the account (called inside the creating transaction). */
export abstract class AccountAdminGrant {
  abstract grantAccountAdmin(manager: EntityManager, accountId: string, iamId: string, nowMs: number): Promise<void>;
}

export interface VerifiedApiKey {
  readonly apikeyId: string;
  readonly iamId: string;
  readonly accountId: string;
  readonly subType: 'user' | 'ServiceId';
  /** Display name of the identity (user name or service ID name). */
  readonly name: string;
}

/** API key checks for the token exchange, implemented by the identities area. */
export abstract class ApiKeyVerifier {
  /** The key behind a presented value; INVALID_GRANT if unknown, expired, or of a deleted identity. */
  abstract verify(value: string): Promise<VerifiedApiKey>;
  /** The same key again (for refresh): INVALID_GRANT if it was deleted or expired since. */
  abstract current(apikeyId: string): Promise<VerifiedApiKey>;
}

/** Removes the access policies naming an identity that is being deleted (inside the deleting transaction). */
export abstract class SubjectPolicyCleanup {
  abstract deletePoliciesOf(manager: EntityManager, accountId: string, iamId: string): Promise<number>;
}

/** One revocation: access tokens whose `kind` claim is `id` are refused from now on. */
export interface RevocationRequest {
  readonly kind: IamWire.RevocationKind;
  readonly id: string;
  readonly accountId: string;
  readonly reason: (typeof IamWire.RevocationReasons)[number];
}

/** Revokes access tokens (inside the revoking transaction), implemented by the tokens area. */
export abstract class TokenRevoker {
  abstract revoke(manager: EntityManager, revocation: RevocationRequest): Promise<void>;
}
