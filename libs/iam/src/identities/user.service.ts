import { Inject, Injectable } from '@nestjs/common';
import type { Action, IamWire, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { conflict, dataSourceToken, forbidden, notFound, outboxToken, type Outbox } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { AccountEntity, ApiKeyEntity, IdentityEntity } from '../entities/index.js';
import { AccessDecider, SubjectPolicyCleanup, TokenRevoker, type Principal, type ResourceAttributes } from '../ports.js';
import { IdentityAccess } from './access.js';
import { newUserIamId, prepareApiKey } from './accounts.js';
import { IdentityService } from './identity.service.js';
import { decodePageToken, keysetPage, pageUrl, toPage } from './paging.js';
import { isoTime } from './wire.js';

type UserAction = Extract<Action, `user-management.${string}`>;

const USER_MANAGEMENT = 'user-management';
const userManagement = (accountId: string): ResourceAttributes => ({ accountId, serviceName: USER_MANAGEMENT });
const userNotFound = (iamId: string) => notFound(`User ${iamId}`);
const accountNotFound = (accountId: string) => notFound(`Account ${accountId}`);

/** A user as IBM's User Management answers it: Sealbox knows its email (its name) and when it was added. */
function toUserProfile(row: IdentityEntity): IamWire.UserProfile {
  return {
    id: row.iamId,
    iam_id: row.iamId,
    realm: 'IBMid',
    user_id: row.name,
    firstname: '',
    lastname: '',
    state: 'ACTIVE',
    email: row.name,
    phonenumber: '',
    altphonenumber: '',
    photo: '',
    account_id: row.accountId,
    added_on: isoTime(row.createdAt),
  };
}

/**
 * The users of an account (IBM User Management: invite, list, get, remove), decided by policies on
 * the `user-management` service of the account (Viewer reads, Editor invites and removes).
 *
 * Users sign in only with API keys, so inviting a user also creates its first API key, returned once
 * to the inviter (its `created_by`) to hand over. Removing a user deletes its API keys and access
 * policies and revokes every access token issued to it; the account's owner (the administrator it
 * was created with) cannot be removed.
 */
@Injectable()
export class UserService {
  private readonly access: IdentityAccess;

  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(outboxToken('iam')) private readonly outbox: Outbox,
    decider: AccessDecider,
    private readonly identities: IdentityService,
    private readonly policies: SubjectPolicyCleanup,
    private readonly revoker: TokenRevoker,
  ) {
    this.access = new IdentityAccess(decider);
  }

  async invite(caller: Principal, request: ValidatedRequestOf<'iam.user.invite'>): Promise<ResponseOf<'iam.user.invite'>> {
    await this.require(caller, request.account_id, 'user-management.user.invite');
    const emails = [...new Set(request.users.map((user) => user.email.toLowerCase()))];
    const invited = await Promise.all(emails.map(async (email) => ({ email, iamId: newUserIamId(), key: await prepareApiKey() })));
    await this.dataSource.transaction(async (manager) => {
      for (const user of invited) {
        if (await manager.existsBy(IdentityEntity, { accountId: caller.accountId, kind: 'user', name: user.email })) {
          throw conflict(`${user.email} is already a user of the account`);
        }
        await this.identities.insertUser(manager, {
          accountId: caller.accountId,
          iamId: user.iamId,
          name: user.email,
          description: 'Invited user',
          key: user.key,
          keyDescription: `First API key of ${user.email}, created by ${caller.iamId} with the invitation`,
          createdBy: caller.iamId,
        });
        await this.outbox.record(manager, 'iam.user.invited', { accountId: caller.accountId, iamId: user.iamId, invitedBy: caller.iamId });
      }
    });
    return {
      resources: invited.map((user) => ({ email: user.email, id: user.iamId, state: 'ACTIVE', apikey_id: user.key.apikeyId, apikey: user.key.apikey })),
    };
  }

  async list(caller: Principal, request: ValidatedRequestOf<'iam.user.list'>): Promise<ResponseOf<'iam.user.list'>> {
    await this.require(caller, request.account_id, 'user-management.user.list');
    const cursor = decodePageToken(request._start);
    const repository = this.dataSource.getRepository(IdentityEntity);
    const where = { accountId: caller.accountId, kind: 'user' as const };
    const rows = await keysetPage(repository.createQueryBuilder('row').where(where), 'iamId', cursor, request.limit);
    const url = (start: string | undefined) => pageUrl(`/v2/accounts/${caller.accountId}/users`, { limit: request.limit, _start: start });
    const page = toPage(rows, { cursor, pagesize: request.limit, idOf: (row) => row.iamId, url, map: toUserProfile });
    return {
      total_results: await repository.countBy(where),
      limit: page.limit,
      first_url: page.first,
      ...(page.next ? { next_url: page.next } : {}),
      resources: page.items,
    };
  }

  async get(caller: Principal, request: ValidatedRequestOf<'iam.user.get'>): Promise<ResponseOf<'iam.user.get'>> {
    if (request.iam_id !== caller.iamId) await this.require(caller, request.account_id, 'user-management.user.read');
    return toUserProfile(await this.userOf(caller, request));
  }

  async remove(caller: Principal, request: ValidatedRequestOf<'iam.user.remove'>): Promise<void> {
    await this.require(caller, request.account_id, 'user-management.user.remove');
    const user = await this.userOf(caller, request);
    const account = await this.dataSource.getRepository(AccountEntity).findOneBy({ id: caller.accountId });
    if (account?.ownerIamId === user.iamId) throw conflict(`User ${user.iamId} owns the account and cannot be removed`);
    await this.dataSource.transaction(async (manager) => {
      const keys = await manager.find(ApiKeyEntity, { select: { id: true }, where: { accountId: user.accountId, iamId: user.iamId } });
      for (const key of keys) {
        await manager.delete(ApiKeyEntity, { id: key.id, accountId: user.accountId });
        await this.outbox.record(manager, 'iam.apikey.deleted', { accountId: user.accountId, apikeyId: key.id, iamId: user.iamId });
      }
      await this.policies.deletePoliciesOf(manager, user.accountId, user.iamId);
      const deleted = await manager.delete(IdentityEntity, { iamId: user.iamId, accountId: user.accountId, kind: 'user' });
      if (deleted.affected !== 1) throw userNotFound(user.iamId);
      await this.outbox.record(manager, 'iam.user.removed', { accountId: user.accountId, iamId: user.iamId, removedBy: caller.iamId });
      await this.revoker.revoke(manager, { kind: 'identity', id: user.iamId, accountId: user.accountId, reason: 'user-removed' });
    });
  }

  /** `action` on the users of the caller's own account: another account is NOT_FOUND, no role FORBIDDEN. */
  private async require(caller: Principal, accountId: string, action: UserAction): Promise<void> {
    if (accountId !== caller.accountId) throw accountNotFound(accountId);
    if (!(await this.access.allows(caller, action, userManagement(accountId)))) throw forbidden(`You are not allowed to perform ${action} in this account`);
  }

  private async userOf(caller: Principal, request: { readonly account_id: string; readonly iam_id: string }): Promise<IdentityEntity> {
    if (request.account_id !== caller.accountId) throw accountNotFound(request.account_id);
    const row = await this.dataSource.getRepository(IdentityEntity).findOneBy({ iamId: request.iam_id, accountId: caller.accountId, kind: 'user' });
    if (!row) throw userNotFound(request.iam_id);
    return row;
  }
}
