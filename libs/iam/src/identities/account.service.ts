import { Inject, Injectable } from '@nestjs/common';
import type { Action, IamWire, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { dataSourceToken, DomainError, forbidden, notFound, outboxToken, type Outbox } from '@sealbox/platform';
import type { DataSource } from 'typeorm';
import { BOOTSTRAP_ROW } from '../bootstrap/bootstrap-row.js';
import { AccountEntity, BootstrapStateEntity } from '../entities/index.js';
import { AccessDecider, type Principal } from '../ports.js';
import { accountResource, IdentityAccess } from './access.js';
import { userApiKeysRestricted } from './accounts.js';
import { IdentityService } from './identity.service.js';
import { decodePageToken, keysetPage, pageUrl, toPage } from './paging.js';
import { entityTag, entityTagMatches, isoTime } from './wire.js';

type OperatorAction = Extract<Action, `iam-identity.account.${string}`> | IamWire.PlatformOperatorAction;

const NOT_SET = 'NOT_SET';

/** IBM's account settings answer; Sealbox has only the two creation restrictions, the rest answer "not set". */
export function toAccountSettings(row: AccountEntity): IamWire.AccountSettings {
  return {
    account_id: row.id,
    entity_tag: entityTag(row.settingsEntityTag),
    restrict_create_service_id: 'RESTRICTED',
    restrict_create_platform_apikey: row.restrictCreatePlatformApikey,
    allowed_ip_addresses: '',
    mfa: 'NONE',
    session_expiration_in_seconds: NOT_SET,
    session_invalidation_in_seconds: NOT_SET,
    max_sessions_per_identity: NOT_SET,
    system_access_token_expiration_in_seconds: NOT_SET,
    system_refresh_token_expiration_in_seconds: NOT_SET,
    restrict_user_list_visibility: 'NOT_RESTRICTED',
    user_mfa: [],
    restrict_user_domains: [],
  };
}

const toAccount = (row: AccountEntity): IamWire.Account => ({ account_id: row.id, name: row.name, created_at: isoTime(row.createdAt) });

const operatorOnly = () => forbidden('Only a platform operator (an Administrator of the platform account, the one created on first start) may do this');
const accountNotFound = (id: string) => notFound(`Account ${id}`);
const staleSettings = (id: string) =>
  new DomainError('PRECONDITION_FAILED', `The settings of account ${id} have changed since they were read (If-Match does not match their entity_tag)`);

/**
 * Accounts as a platform hosts several tenants: a platform operator creates and lists them, and each
 * account's administrators set who may create API keys in it.
 *
 * A PLATFORM OPERATOR is an identity of the platform account — the account iam creates on its first
 * start, named by the bootstrap row — that holds a role granting the `iam-identity.account.*` action
 * (Administrator) on that account's IAM Identity service. At first that is the first-start
 * administrator alone (its account-admin grant covers it); it can make others operators with an
 * access policy in the platform account. No identity of any other account is ever an operator,
 * whatever its policies say.
 */
@Injectable()
export class AccountService {
  private readonly access: IdentityAccess;
  private platformAccount: string | undefined;

  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(outboxToken('iam')) private readonly outbox: Outbox,
    decider: AccessDecider,
    private readonly identities: IdentityService,
  ) {
    this.access = new IdentityAccess(decider);
  }

  /** The platform account (created on first start); it never changes once there. */
  async platformAccountId(): Promise<string | undefined> {
    this.platformAccount ??= (await this.dataSource.getRepository(BootstrapStateEntity).findOneBy({ id: BOOTSTRAP_ROW }))?.accountId;
    return this.platformAccount;
  }

  async requireOperator(caller: Principal, action: OperatorAction): Promise<void> {
    const platform = await this.platformAccountId();
    if (platform === undefined || caller.accountId !== platform) throw operatorOnly();
    const resource = action.startsWith('sealbox.') ? { accountId: platform, serviceName: 'sealbox' } : accountResource(platform);
    if (!(await this.access.allows(caller, action, resource))) throw operatorOnly();
  }

  /**
   * A new account with its administrator and the administrator's API key (returned once). `caller`
   * absent: NATS tooling (the subject is open only to NATS users that may publish `iam.>`).
   */
  async create(caller: Principal | undefined, request: ValidatedRequestOf<'iam.account.create'>): Promise<ResponseOf<'iam.account.create'>> {
    if (caller) await this.requireOperator(caller, 'iam-identity.account.create');
    return this.identities.createAccount(request, caller?.iamId);
  }

  async list(caller: Principal, request: ValidatedRequestOf<'iam.account.list'>): Promise<ResponseOf<'iam.account.list'>> {
    await this.requireOperator(caller, 'iam-identity.account.list');
    const cursor = decodePageToken(request.pagetoken);
    const query = this.dataSource.getRepository(AccountEntity).createQueryBuilder('row');
    const rows = await keysetPage(query, 'id', cursor, request.pagesize);
    const url = (pagetoken: string | undefined) => pageUrl('/v1/accounts', { pagesize: request.pagesize, pagetoken });
    const page = toPage(rows, { cursor, pagesize: request.pagesize, idOf: (row) => row.id, url, map: toAccount });
    return { offset: page.offset, limit: page.limit, first: page.first, ...(page.next ? { next: page.next } : {}), accounts: page.items };
  }

  async getSettings(caller: Principal, request: ValidatedRequestOf<'iam.account-settings.get'>): Promise<ResponseOf<'iam.account-settings.get'>> {
    return toAccountSettings(await this.settingsFor(caller, request.account_id, 'iam-identity.account-settings.read'));
  }

  async updateSettings(
    caller: Principal,
    request: ValidatedRequestOf<'iam.account-settings.update'>,
  ): Promise<ResponseOf<'iam.account-settings.update'>> {
    const row = await this.settingsFor(caller, request.account_id, 'iam-identity.account-settings.update');
    if (!entityTagMatches(request.if_match, row.settingsEntityTag)) throw staleSettings(row.id);
    const updated: AccountEntity = {
      ...row,
      restrictCreatePlatformApikey: request.restrict_create_platform_apikey ?? row.restrictCreatePlatformApikey,
      settingsEntityTag: row.settingsEntityTag + 1,
    };
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        AccountEntity,
        { id: row.id, settingsEntityTag: row.settingsEntityTag },
        { restrictCreatePlatformApikey: updated.restrictCreatePlatformApikey, settingsEntityTag: updated.settingsEntityTag },
      );
      if (result.affected !== 1) throw staleSettings(row.id);
      await this.outbox.record(manager, 'iam.account-settings.updated', {
        accountId: row.id,
        updatedBy: caller.iamId,
        restrictCreatePlatformApikey: userApiKeysRestricted(updated) ? 'RESTRICTED' : 'NOT_RESTRICTED',
      });
    });
    return toAccountSettings(updated);
  }

  /** The caller's own account, when it may perform `action` on it: another account is NOT_FOUND, no role FORBIDDEN. */
  private async settingsFor(caller: Principal, accountId: string, action: Action): Promise<AccountEntity> {
    if (accountId !== caller.accountId) throw accountNotFound(accountId);
    const row = await this.dataSource.getRepository(AccountEntity).findOneBy({ id: accountId });
    if (!row) throw accountNotFound(accountId);
    await this.access.requireOnAccount(caller, action, accountId);
    return row;
  }
}
