import { Injectable } from '@nestjs/common';
import type { Action, ResponseOf, RoleName, ValidatedRequestOf } from '@sealbox/contracts';
import { notImplemented } from '@sealbox/platform';
import type { EntityManager } from 'typeorm';
import { AccessDecider, type AccountAdminGrant, type Decision, type Principal, type ResourceAttributes } from '../ports.js';

/** Access and authorization policies, roles, and the decisions made from them. */
@Injectable()
export class PolicyService extends AccessDecider implements AccountAdminGrant {
  async authorize(_subject: Principal, _action: Action, _resource: ResourceAttributes): Promise<Decision> {
    throw notImplemented('iam.authorize');
  }

  async hasRole(_subject: Principal, _roles: readonly RoleName[], _resource: ResourceAttributes): Promise<Decision> {
    throw notImplemented('iam.authorize');
  }

  async grantAccountAdmin(_manager: EntityManager, _accountId: string, _iamId: string, _nowMs: number): Promise<void> {
    // Filled in by the policies area: an access policy giving the administrator every role on the account.
  }

  /** `iam.authorize`: the action name arrives as a string; an unknown action is denied. */
  async authorizeRequest(_request: ValidatedRequestOf<'iam.authorize'>): Promise<ResponseOf<'iam.authorize'>> {
    throw notImplemented('iam.authorize');
  }

  async checkAuthorization(_request: ValidatedRequestOf<'iam.authorization.check'>): Promise<ResponseOf<'iam.authorization.check'>> {
    throw notImplemented('iam.authorization.check');
  }

  async create(_caller: Principal, _request: ValidatedRequestOf<'iam.policy.create'>): Promise<ResponseOf<'iam.policy.create'>> {
    throw notImplemented('iam.policy.create');
  }

  async list(_caller: Principal, _request: ValidatedRequestOf<'iam.policy.list'>): Promise<ResponseOf<'iam.policy.list'>> {
    throw notImplemented('iam.policy.list');
  }

  async get(_caller: Principal, _id: string): Promise<ResponseOf<'iam.policy.get'>> {
    throw notImplemented('iam.policy.get');
  }

  async replace(_caller: Principal, _request: ValidatedRequestOf<'iam.policy.replace'>): Promise<ResponseOf<'iam.policy.replace'>> {
    throw notImplemented('iam.policy.replace');
  }

  async delete(_caller: Principal, _id: string): Promise<void> {
    throw notImplemented('iam.policy.delete');
  }

  async listRoles(_request: ValidatedRequestOf<'iam.role.list'>): Promise<ResponseOf<'iam.role.list'>> {
    throw notImplemented('iam.role.list');
  }
}
