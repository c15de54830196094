import { Inject, Injectable } from '@nestjs/common';
import type { FieldIssue, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, conflict, dataSourceToken, DomainError, notFound, outboxToken, validationFailed, type Outbox } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { IsNull, type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { apiKeyLookup, generateApiKeyValue, hashApiKey, verifyApiKey } from '../apikeys/apikey-secret.js';
import { AccountEntity, ApiKeyEntity, apiKeyCreated, IdentityEntity } from '../entities/index.js';
import {
  AccessDecider,
  AccountAdminGrant,
  ApiKeyVerifier,
  SubjectPolicyCleanup,
  TokenRevoker,
  type Principal,
  type VerifiedApiKey,
} from '../ports.js';
import { IdentityAccess, type ApiKeyAction, type IdentityRef, type Visibility } from './access.js';
import { ADMIN_NAME, newApiKeyId, prepareAccount, userApiKeysRestricted, type NewAccount, type NewApiKey } from './accounts.js';
import { decodePageToken, keysetPage, pageUrl, toPage, type PageCursor } from './paging.js';
import { DEFAULT_API_KEYS_PER_IDENTITY, IAM_OPTIONS, type IamOptions } from '../options.js';
import { entityTagMatches, serviceIdIamId, serviceIdOf, toApiKey, toServiceId } from './wire.js';

const keyNotFound = (id: string) => () => notFound(`API key ${id}`);
const serviceIdNotFound = (id: string) => () => notFound(`Service ID ${id}`);
const identityNotFound = (iamId: string) => () => notFound(`Identity ${iamId}`);
/** One answer for every value that cannot be used: never says which check failed, never echoes the value. */
const keyNotUsable = () => new DomainError('INVALID_GRANT', 'Provided API key could not be found');
const keyExpired = () => new DomainError('INVALID_GRANT', 'Provided API key has expired');
const keyLocked = (id: string, change: string) =>
  conflict(`API key ${id} is locked and cannot be ${change}; unlock it first`);
/** A list filtered on another account shows nothing: another account's items are never visible. */
const isOtherAccount = (caller: Principal, accountId: string | undefined) => accountId !== undefined && accountId !== caller.accountId;
const staleEntityTag = (id: string) =>
  new DomainError('PRECONDITION_FAILED', `API key ${id} has changed since it was read (If-Match does not match its entity_tag)`);

/**
 * Accounts, service IDs and API keys; also the `ApiKeyVerifier` of the token exchange. Every query
 * of a management operation is scoped to the caller's account; an item the caller may not read
 * answers NOT_FOUND exactly like a missing one. Key values are returned once, by create, and stored
 * only as a scrypt hash plus a short lookup prefix.
 */
@Injectable()
export class IdentityService extends ApiKeyVerifier {
  private readonly access: IdentityAccess;

  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(outboxToken('iam')) private readonly outbox: Outbox,
    private readonly clock: Clock,
    decider: AccessDecider,
    private readonly adminGrant: AccountAdminGrant,
    private readonly policies: SubjectPolicyCleanup,
    private readonly revoker: TokenRevoker,
    @Inject(IAM_OPTIONS) private readonly options: IamOptions,
  ) {
    super();
    this.access = new IdentityAccess(decider);
  }

  // ---------- ApiKeyVerifier ----------

  async verify(value: string): Promise<VerifiedApiKey> {
    const key = await this.findByValue(value);
    if (!key) throw keyNotUsable();
    return this.usable(key);
  }

  async current(apikeyId: string): Promise<VerifiedApiKey> {
    const key = await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ id: apikeyId });
    if (!key) throw keyNotUsable();
    return this.usable(key);
  }

  /** The key whose value this is (lookup prefix, then the scrypt hash), across accounts: the value is the credential. */
  private async findByValue(value: string): Promise<ApiKeyEntity | undefined> {
    const candidates = await this.dataSource.getRepository(ApiKeyEntity).findBy({ lookup: apiKeyLookup(value) });
    for (const candidate of candidates) if (await verifyApiKey(value, candidate.hash)) return candidate;
    return undefined;
  }

  /** A locked key still signs in: locking only protects it from change and deletion. */
  private async usable(key: ApiKeyEntity): Promise<VerifiedApiKey> {
    if (key.expiresAt !== null && key.expiresAt <= this.clock.nowMs()) throw keyExpired();
    const owner = await this.dataSource.getRepository(IdentityEntity).findOneBy({ iamId: key.iamId, accountId: key.accountId });
    if (!owner) throw keyNotUsable();
    return {
      apikeyId: key.id,
      iamId: owner.iamId,
      accountId: owner.accountId,
      subType: owner.kind === 'service_id' ? 'ServiceId' : 'user',
      name: owner.name,
    };
  }

  // ---------- accounts ----------

  /** A new account with its administrator; `createdBy` is the platform operator asking (absent: NATS tooling). */
  async createAccount(request: ValidatedRequestOf<'iam.account.create'>, createdBy?: string): Promise<ResponseOf<'iam.account.create'>> {
    const account = await this.prepareAccount(request.name, 'Created with the account');
    await this.dataSource.transaction((manager) => this.insertAccount(manager, account, createdBy));
    return {
      account_id: account.accountId,
      name: account.name,
      admin_iam_id: account.adminIamId,
      apikey_id: account.apikeyId,
      apikey: account.apikey,
    };
  }

  /** A new account's ids, administrator key value and hash; slow (scrypt), so call it before the transaction. */
  prepareAccount(name: string, apikeyDescription: string): Promise<NewAccount> {
    return prepareAccount(name, apikeyDescription);
  }

  /**
   * Inside the caller's transaction: the account, its administrator (a user), the administrator's API
   * key, the administrator's grant on the whole account, and their events. Both are created by
   * `createdBy` (the operator, who receives the key's value), or by the administrator itself on first start.
   */
  async insertAccount(manager: EntityManager, account: NewAccount, createdBy?: string): Promise<void> {
    const now = this.clock.nowMs();
    const creator = createdBy ?? account.adminIamId;
    await manager.insert(AccountEntity, { id: account.accountId, name: account.name, createdAt: now, ownerIamId: account.adminIamId });
    await this.insertUser(manager, {
      accountId: account.accountId,
      iamId: account.adminIamId,
      name: ADMIN_NAME,
      description: 'Administrator of the account',
      key: account,
      keyDescription: account.apikeyDescription,
      createdBy: creator,
    });
    await this.adminGrant.grantAccountAdmin(manager, account.accountId, account.adminIamId, now);
    await this.outbox.record(manager, 'iam.account.created', {
      accountId: account.accountId,
      adminIamId: account.adminIamId,
      ...(createdBy !== undefined ? { createdBy } : {}),
    });
  }

  /**
   * Inside the caller's transaction: a user with its first API key (whose value `createdBy` receives)
   * and the key's creation event. The key is named like the user.
   */
  async insertUser(
    manager: EntityManager,
    user: {
      readonly accountId: string;
      readonly iamId: string;
      readonly name: string;
      readonly description: string;
      readonly key: NewApiKey;
      readonly keyDescription: string;
      readonly createdBy: string;
    },
  ): Promise<void> {
    const now = this.clock.nowMs();
    const versioned = { entityTag: 1, createdBy: user.createdBy, createdAt: now, modifiedAt: now };
    await manager.insert(IdentityEntity, {
      iamId: user.iamId,
      accountId: user.accountId,
      kind: 'user',
      name: user.name,
      description: user.description,
      ...versioned,
    });
    await manager.insert(ApiKeyEntity, {
      id: user.key.apikeyId,
      accountId: user.accountId,
      iamId: user.iamId,
      name: user.name,
      description: user.keyDescription,
      lookup: user.key.lookup,
      hash: user.key.hash,
      locked: false,
      expiresAt: null,
      ...versioned,
    });
    await this.outbox.record(manager, 'iam.apikey.created', apiKeyCreated({ ...user, id: user.key.apikeyId }));
  }

  // ---------- service IDs ----------

  async createServiceId(caller: Principal, request: ValidatedRequestOf<'iam.serviceid.create'>): Promise<ResponseOf<'iam.serviceid.create'>> {
    await this.access.requireOnAccount(caller, 'iam-identity.serviceid.create', request.account_id);
    const now = this.clock.nowMs();
    const row: IdentityEntity = {
      iamId: serviceIdIamId(`ServiceId-${randomUUID()}`),
      accountId: caller.accountId,
      kind: 'service_id',
      name: request.name,
      description: request.description ?? '',
      entityTag: 1,
      createdBy: caller.iamId,
      createdAt: now,
      modifiedAt: now,
    };
    await this.dataSource.transaction(async (manager) => {
      // A copy: on PostgreSQL insert() writes RETURNING values (BIGINT as strings) back into its argument.
      await manager.insert(IdentityEntity, { ...row });
      await this.outbox.record(manager, 'iam.serviceid.created', {
        accountId: row.accountId,
        serviceId: serviceIdOf(row.iamId),
        iamId: row.iamId,
      });
    });
    return toServiceId(row);
  }

  async listServiceIds(caller: Principal, request: ValidatedRequestOf<'iam.serviceid.list'>): Promise<ResponseOf<'iam.serviceid.list'>> {
    const cursor = decodePageToken(request.pagetoken);
    const url = (pagetoken: string | undefined) =>
      pageUrl('/v1/serviceids', { account_id: request.account_id, name: request.name, pagesize: request.pagesize, pagetoken });
    let rows: IdentityEntity[] = [];
    if (!isOtherAccount(caller, request.account_id)) {
      const query = this.dataSource
        .getRepository(IdentityEntity)
        .createQueryBuilder('row')
        .where({ accountId: caller.accountId, kind: 'service_id', ...(request.name !== undefined ? { name: request.name } : {}) });
      const visibility = await this.access.visible(caller, 'iam-identity.serviceid.list', () => this.serviceIdRefs(caller.accountId));
      rows = await this.pageOf(query, visibility, 'iamId', cursor, request.pagesize);
    }
    const page = toPage(rows, { cursor, pagesize: request.pagesize, idOf: (row) => row.iamId, url, map: toServiceId });
    return { offset: page.offset, limit: page.limit, first: page.first, ...(page.next ? { next: page.next } : {}), serviceids: page.items };
  }

  async getServiceId(caller: Principal, id: string): Promise<ResponseOf<'iam.serviceid.get'>> {
    const row = await this.serviceIdFor(caller, id);
    await this.access.requireOnServiceId(caller, row, 'iam-identity.serviceid.read', serviceIdNotFound(id));
    return toServiceId(row);
  }

  /**
   * Deletes the service ID and its API keys (refused while one of them is locked), and revokes every
   * access token issued to it.
   */
  async deleteServiceId(caller: Principal, id: string): Promise<void> {
    const row = await this.serviceIdFor(caller, id);
    await this.access.requireOnServiceId(caller, row, 'iam-identity.serviceid.delete', serviceIdNotFound(id));
    await this.dataSource.transaction(async (manager) => {
      const keys = await manager.findBy(ApiKeyEntity, { accountId: row.accountId, iamId: row.iamId });
      const locked = keys.find((key) => key.locked);
      if (locked) throw conflict(`Service ID ${id} has a locked API key (${locked.id}); unlock or delete it first`);
      for (const key of keys) {
        await manager.delete(ApiKeyEntity, { id: key.id, accountId: key.accountId });
        await this.outbox.record(manager, 'iam.apikey.deleted', { accountId: key.accountId, apikeyId: key.id, iamId: key.iamId });
      }
      await this.policies.deletePoliciesOf(manager, row.accountId, row.iamId);
      const deleted = await manager.delete(IdentityEntity, { iamId: row.iamId, accountId: row.accountId });
      if (deleted.affected === 0) throw serviceIdNotFound(id)();
      await this.outbox.record(manager, 'iam.serviceid.deleted', { accountId: row.accountId, serviceId: id, iamId: row.iamId });
      await this.revoker.revoke(manager, { kind: 'identity', id: row.iamId, accountId: row.accountId, reason: 'serviceid-deleted' });
    });
  }

  private async serviceIdFor(caller: Principal, id: string): Promise<IdentityEntity> {
    const row = await this.dataSource
      .getRepository(IdentityEntity)
      .findOneBy({ iamId: serviceIdIamId(id), accountId: caller.accountId, kind: 'service_id' });
    if (!row) throw serviceIdNotFound(id)();
    return row;
  }

  private serviceIdRefs(accountId: string): Promise<IdentityRef[]> {
    return this.dataSource.getRepository(IdentityEntity).find({
      select: { iamId: true, accountId: true, kind: true },
      where: { accountId, kind: 'service_id' },
    });
  }

  // ---------- API keys ----------

  async createApiKey(caller: Principal, request: ValidatedRequestOf<'iam.apikey.create'>): Promise<ResponseOf<'iam.apikey.create'>> {
    const now = this.clock.nowMs();
    const expiresAt = request.expires_at === undefined ? null : Date.parse(request.expires_at);
    const issues: FieldIssue[] = [];
    if (request.account_id !== undefined && request.account_id !== caller.accountId) {
      issues.push({ field: 'account_id', message: 'must be the account of the caller' });
    }
    if (expiresAt !== null && expiresAt <= now) issues.push({ field: 'expires_at', message: 'must be in the future' });
    if (issues.length) throw validationFailed(issues);

    const owner = await this.dataSource.getRepository(IdentityEntity).findOneBy({ iamId: request.iam_id, accountId: caller.accountId });
    if (!owner) throw identityNotFound(request.iam_id)();
    const account = await this.dataSource.getRepository(AccountEntity).findOneBy({ id: caller.accountId });
    const restricted = account === null || userApiKeysRestricted(account);
    await this.access.requireKeyCreation(caller, owner, restricted, identityNotFound(request.iam_id));

    // `store_value` has no effect: values are never stored, so never retrievable.
    const value = generateApiKeyValue();
    const row: ApiKeyEntity = {
      id: newApiKeyId(),
      accountId: owner.accountId,
      iamId: owner.iamId,
      name: request.name,
      description: request.description ?? '',
      lookup: apiKeyLookup(value),
      hash: await hashApiKey(value),
      locked: request.entity_lock ?? false,
      entityTag: 1,
      createdBy: caller.iamId,
      createdAt: now,
      modifiedAt: now,
      expiresAt,
      managedBy: null,
    };
    await this.dataSource.transaction(async (manager) => {
      // The identity may have been deleted while the hash was computed.
      if (!(await manager.existsBy(IdentityEntity, { iamId: owner.iamId, accountId: owner.accountId }))) {
        throw identityNotFound(request.iam_id)();
      }
      await this.assertApiKeyQuota(manager, owner);
      await manager.insert(ApiKeyEntity, { ...row }); // a copy, as above
      await this.outbox.record(manager, 'iam.apikey.created', apiKeyCreated(row));
    });
    return toApiKey(row, value);
  }

  /**
   * Room for one more API key of `owner` (the keys iam issues for secrets are the secrets service's
   * to count). Creates at the same moment can pass the quota by at most their number.
   */
  private async assertApiKeyQuota(manager: EntityManager, owner: IdentityEntity): Promise<void> {
    const quota = this.options.apiKeysPerIdentity ?? DEFAULT_API_KEYS_PER_IDENTITY;
    const held = await manager.countBy(ApiKeyEntity, { accountId: owner.accountId, iamId: owner.iamId, managedBy: IsNull() });
    if (held >= quota) {
      throw new DomainError('QUOTA_EXCEEDED', `Quota exceeded: an identity holds at most ${quota} API keys, and ${owner.iamId} has ${held}; delete one first`);
    }
  }

  async listApiKeys(caller: Principal, request: ValidatedRequestOf<'iam.apikey.list'>): Promise<ResponseOf<'iam.apikey.list'>> {
    const cursor = decodePageToken(request.pagetoken);
    const url = (pagetoken: string | undefined) =>
      pageUrl('/v1/apikeys', { account_id: request.account_id, iam_id: request.iam_id, pagesize: request.pagesize, pagetoken });
    let rows: ApiKeyEntity[] = [];
    if (!isOtherAccount(caller, request.account_id)) {
      const query = this.dataSource
        .getRepository(ApiKeyEntity)
        .createQueryBuilder('row')
        .where({ accountId: caller.accountId, ...(request.iam_id !== undefined ? { iamId: request.iam_id } : {}) });
      rows = await this.pageOf(query, await this.keyListVisibility(caller, request.iam_id), 'id', cursor, request.pagesize);
    }
    const page = toPage(rows, { cursor, pagesize: request.pagesize, idOf: (row) => row.id, url, map: (row) => toApiKey(row) });
    return { offset: page.offset, limit: page.limit, first: page.first, ...(page.next ? { next: page.next } : {}), apikeys: page.items };
  }

  /** With an `iam_id` filter only that identity matters, so its one decision replaces the account-wide one. */
  private async keyListVisibility(caller: Principal, iamId: string | undefined): Promise<Visibility> {
    if (iamId === undefined) {
      return this.access.visible(caller, 'iam-identity.apikey.list', () => this.serviceIdRefs(caller.accountId));
    }
    const owner = await this.dataSource.getRepository(IdentityEntity).findOneBy({ iamId, accountId: caller.accountId });
    const allowed = owner !== null && (await this.access.allowsOnKeysOf(caller, owner, 'iam-identity.apikey.list'));
    return { all: false, iamIds: new Set(allowed ? [iamId] : []) };
  }

  async getApiKey(caller: Principal, id: string): Promise<ResponseOf<'iam.apikey.get'>> {
    return toApiKey(await this.keyFor(caller, id, 'iam-identity.apikey.read'));
  }

  /**
   * The record of the key whose value the caller presents (`IAM-ApiKey`). Holding the value is the
   * authority, so no policy is asked; the key must still belong to the caller's account.
   */
  async apiKeyDetails(caller: Principal, value: string): Promise<ResponseOf<'iam.apikey.details'>> {
    const key = await this.findByValue(value);
    if (!key || key.accountId !== caller.accountId) throw notFound('API key');
    return toApiKey(key);
  }

  async updateApiKey(caller: Principal, request: ValidatedRequestOf<'iam.apikey.update'>): Promise<ResponseOf<'iam.apikey.update'>> {
    const key = await this.keyFor(caller, request.id, 'iam-identity.apikey.update');
    if (!entityTagMatches(request.if_match, key.entityTag)) throw staleEntityTag(key.id);
    if (key.locked) throw keyLocked(key.id, 'changed');
    const updated: ApiKeyEntity = {
      ...key,
      name: request.name ?? key.name,
      description: request.description ?? key.description,
      entityTag: key.entityTag + 1,
      modifiedAt: this.clock.nowMs(),
    };
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        ApiKeyEntity,
        { id: key.id, accountId: key.accountId, entityTag: key.entityTag, locked: false },
        { name: updated.name, description: updated.description, entityTag: updated.entityTag, modifiedAt: updated.modifiedAt },
      );
      // Changed (or locked) by someone else since it was read.
      if (result.affected !== 1) throw staleEntityTag(key.id);
      await this.outbox.record(manager, 'iam.apikey.updated', { accountId: key.accountId, apikeyId: key.id, iamId: key.iamId });
    });
    return toApiKey(updated);
  }

  /** Lock or unlock; doing it twice is not an error, and only a change records an event. */
  async lockApiKey(caller: Principal, id: string, locked: boolean): Promise<void> {
    const key = await this.keyFor(caller, id, 'iam-identity.apikey.lock');
    if (key.locked === locked) return;
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.update(
        ApiKeyEntity,
        { id: key.id, accountId: key.accountId, locked: !locked },
        { locked, entityTag: () => 'entity_tag + 1', modifiedAt: this.clock.nowMs() },
      );
      if (result.affected !== 1) return; // someone else made the same change meanwhile
      await this.outbox.record(manager, locked ? 'iam.apikey.locked' : 'iam.apikey.unlocked', {
        accountId: key.accountId,
        apikeyId: key.id,
        iamId: key.iamId,
      });
    });
  }

  /**
   * Deleting ends its refresh tokens (the tokens area asks `current(id)` on every refresh) and revokes
   * the access tokens issued from it.
   */
  async deleteApiKey(caller: Principal, id: string): Promise<void> {
    const key = await this.keyFor(caller, id, 'iam-identity.apikey.delete');
    if (key.locked) throw keyLocked(key.id, 'deleted');
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.delete(ApiKeyEntity, { id: key.id, accountId: key.accountId, locked: false });
      if (result.affected !== 1) {
        const now = await manager.findOneBy(ApiKeyEntity, { id: key.id, accountId: key.accountId });
        throw now ? keyLocked(key.id, 'deleted') : keyNotFound(id)();
      }
      await this.outbox.record(manager, 'iam.apikey.deleted', { accountId: key.accountId, apikeyId: key.id, iamId: key.iamId });
      await this.revoker.revoke(manager, { kind: 'apikey', id: key.id, accountId: key.accountId, reason: 'apikey-deleted' });
    });
  }

  /** A key of the caller's account that the caller may act on; NOT_FOUND if absent or not readable. */
  private async keyFor(caller: Principal, id: string, action: ApiKeyAction): Promise<ApiKeyEntity> {
    const key = await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ id, accountId: caller.accountId });
    if (!key) throw keyNotFound(id)();
    const owner = await this.dataSource.getRepository(IdentityEntity).findOneBy({ iamId: key.iamId, accountId: key.accountId });
    if (!owner) throw keyNotFound(id)();
    await this.access.requireOnKeysOf(caller, owner, action, keyNotFound(id));
    return key;
  }

  // ---------- paging ----------

  /** One page plus one row of `query`, restricted to what the caller may see (see `keysetPage`). */
  private async pageOf<Row extends { createdAt: number }>(
    query: SelectQueryBuilder<Row>,
    visibility: Visibility,
    idColumn: 'id' | 'iamId',
    cursor: PageCursor | undefined,
    pagesize: number,
  ): Promise<Row[]> {
    if (!visibility.all) {
      if (visibility.iamIds.size === 0) return [];
      query.andWhere('row.iamId IN (:...visibleIamIds)', { visibleIamIds: [...visibility.iamIds] });
    }
    return keysetPage(query, idColumn, cursor, pagesize);
  }
}
