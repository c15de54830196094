import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext, type Type } from '@nestjs/common';
import type { Action, IamWire } from '@sealbox/contracts';
import { DomainError, type Caller } from '@sealbox/platform';

export const ACCESS_RULE = 'sealbox:access-rule';

/** The parts of the HTTP request a resource resolver may read. */
export interface RouteRequest {
  readonly params: Record<string, string | undefined>;
  readonly query: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** A resource as policies address it, minus the account (always the caller's: services enforce tenancy). */
export type RouteResource = Omit<IamWire.ResourceAttributes, 'accountId'>;

/** The action and resource IAM is asked about. */
export interface AccessCheck {
  readonly action: Action;
  readonly resource: IamWire.ResourceAttributes;
}

/**
 * Completes a route's access check with what only a service knows, before IAM decides (e.g. whether a
 * KMS instance is a `kms` or an `hs-crypto` one). A provider of the gateway module. Throwing denies:
 * `denied()` is the route's own denial, so a resource the service does not know (or that belongs to
 * another account) is answered exactly like one the caller may not use.
 */
export interface AccessRefiner {
  refine(check: AccessCheck, caller: Caller, denied: () => DomainError): Promise<AccessCheck>;
}

export type AccessRule =
  | { readonly kind: 'public' }
  /** Authenticated caller; the owning service decides (it alone has the data, e.g. whose API key this is). */
  | { readonly kind: 'authenticated'; readonly action: string }
  | {
      readonly kind: 'action';
      readonly action: Action;
      readonly resource: (request: RouteRequest) => RouteResource;
      /** Reads of one item answer 404 when denied, like a missing item: no existence oracle. */
      readonly deniedAs: 'NOT_FOUND' | 'FORBIDDEN';
      readonly refine?: Type<AccessRefiner>;
    };

/** Open to anyone. Only token exchange, JWKS, health, readiness and the API docs are. */
export const Public = () => SetMetadata(ACCESS_RULE, { kind: 'public' } satisfies AccessRule);

/** Needs a valid token; the owning service authorizes (the action is recorded for audit). */
export const Authenticated = (action: string) =>
  SetMetadata(ACCESS_RULE, { kind: 'authenticated', action } satisfies AccessRule);

/** Needs a valid token and a policy granting `action` on the resolved resource. */
export const RequiresAction = (
  action: Action,
  resource: (request: RouteRequest) => RouteResource,
  options: { deniedAs?: 'NOT_FOUND' | 'FORBIDDEN'; refine?: Type<AccessRefiner> } = {},
) =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, {
      kind: 'action',
      action,
      resource,
      deniedAs: options.deniedAs ?? 'FORBIDDEN',
      ...(options.refine ? { refine: options.refine } : {}),
    } satisfies AccessRule),
  );

export const CALLER = Symbol('sealbox:caller');

export interface AuthenticatedRequest {
  [CALLER]?: Caller;
}

/** The authenticated caller of this request (set by the AccessGuard). */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>()[CALLER];
  if (!caller) throw new DomainError('UNAUTHORIZED', 'Authentication required');
  return caller;
});

/** The value of one path parameter, decoded (including `%2F`). */
export const param = (request: RouteRequest, name: string): string => request.params[name] ?? '';
export const header = (request: RouteRequest, name: string): string => {
  const value = request.headers[name.toLowerCase()];
  return (Array.isArray(value) ? value[0] : value) ?? '';
};
