import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { Clock, DomainError, RateLimitedError } from '@sealbox/platform';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../options.js';
import {
  ACCESS_RULE,
  CALLER,
  header,
  type AccessCheck,
  type AccessRule,
  type AuthenticatedRequest,
  type RouteRequest,
} from './access.decorators.js';
import { auditOf } from './audit-context.js';
import { DecisionService } from './decision.service.js';
import { RateLimiter } from './rate-limiter.js';
import { TokenVerifier } from './token-verifier.js';

/** Resource attributes as a CRN, for audit: `crn:v1:sealbox:public:<service>::a/<account>:<instance>:<type>:<resource>`. */
export function crnOf(resource: { accountId: string; serviceName: string; serviceInstance?: string; resourceType?: string; resource?: string }): string {
  return [
    'crn:v1:sealbox:public',
    resource.serviceName,
    '',
    `a/${resource.accountId}`,
    resource.serviceInstance ?? '',
    resource.resourceType ?? '',
    resource.resource ?? '',
  ].join(':');
}

/**
 * Every route is closed unless it declares otherwise: no rule → 403. A rule says the route is public,
 * needs an authenticated caller (the service decides), or needs a policy granting its action. Denied
 * reads of one item look exactly like missing items (404).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly perIdentity: RateLimiter;

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenVerifier,
    private readonly decisions: DecisionService,
    private readonly moduleRef: ModuleRef,
    clock: Clock,
    @Inject(GATEWAY_OPTIONS) options: GatewayOptions,
  ) {
    this.perIdentity = new RateLimiter(clock, options.rateLimitPerIdentity);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<RouteRequest & AuthenticatedRequest & object>();
    const audit = auditOf(request);
    if (!rule) throw new DomainError('FORBIDDEN', 'This route declares no access rule');
    if (rule.kind === 'public') return true;
    audit.action = rule.action;

    const caller = await this.tokens.verify(header(request, 'authorization') || undefined);
    request[CALLER] = caller;
    audit.iamId = caller.iamId;
    audit.accountId = caller.accountId;
    const limited = this.perIdentity.take(caller.iamId);
    if (!limited.allowed) throw new RateLimitedError(limited.retryAfterSeconds);
    if (rule.kind === 'authenticated') return true;

    // The same denial whatever a refiner found out (a refined action would tell which service owns the resource).
    const denied = () => {
      audit.denied = true;
      return rule.deniedAs === 'NOT_FOUND'
        ? new DomainError('NOT_FOUND', 'The requested resource was not found')
        : new DomainError('FORBIDDEN', rule.refine ? 'You are not allowed to perform this action on this resource' : `You are not allowed to perform ${rule.action} on this resource`);
    };
    let check: AccessCheck = { action: rule.action, resource: { accountId: caller.accountId, ...rule.resource(request) } };
    audit.target = crnOf(check.resource);
    if (rule.refine) {
      check = await this.moduleRef.get(rule.refine, { strict: false }).refine(check, caller, denied);
      audit.action = check.action;
      audit.target = crnOf(check.resource);
    }
    const decision = await this.decisions.decide(caller, check.action, check.resource);
    if (decision.allowed) return true;
    throw denied();
  }
}
