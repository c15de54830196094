import { Inject, Injectable } from '@nestjs/common';
import type { ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, dataSourceToken, notFound, outboxToken, rootLogger, type Outbox } from '@sealbox/platform';
import { LessThanOrEqual, type DataSource, type EntityManager } from 'typeorm';
import { ApiKeyEntity, apiKeyCreated, IdentityEntity } from '../entities/index.js';
import { TokenRevoker } from '../ports.js';
import { newApiKeyId } from '../identities/accounts.js';
import { isoTime, serviceIdIamId } from '../identities/wire.js';
import { apiKeyLookup, generateApiKeyValue, hashApiKey } from './apikey-secret.js';

/** `managed_by` of the keys issued for `iam_credentials` secrets (also their `created_by`). */
export const SECRETS_MANAGER = 'secrets-manager';

/** Expired keys one sweep query reads (and deletes in one transaction). */
export const SWEEP_BATCH_SIZE = 100;
/** Batches one sweep run handles at most; whatever is left waits for the next run. */
export const SWEEP_MAX_BATCHES = 50;

const DESCRIPTION_MAX = 1024;

/** What a user listing the key reads: who manages it and when iam deletes it, then the caller's own description. */
function managedDescription(expiresAt: number, description: string | undefined): string {
  const marker = `Managed by Secrets Manager (iam_credentials); IAM deletes it at ${isoTime(expiresAt)}`;
  return (description ? `${marker}. ${description}` : marker).slice(0, DESCRIPTION_MAX);
}

/**
 * API keys that iam issues for another service (the secrets service, for `iam_credentials`
 * secrets) and deletes when their ttl ends. Reached only over subjects that the NATS permissions
 * let the secrets service alone publish to (docker/nats.conf), so no user policy is asked: the
 * calling service answers for its own callers. The key value is returned once and never stored,
 * logged or put in an event; only a scrypt hash and a short lookup prefix are kept.
 *
 * A managed key is an ordinary key of the service ID otherwise: it signs in until `expires_at`
 * (after which the token exchange refuses it even before the sweep), users see it in the list,
 * and deleting the service ID deletes it. Deleting it (revoke, sweep) revokes the access tokens
 * issued from it, as deleting any key does. Its lifetime belongs to the managing service: `revoke`
 * and the sweep delete it even when a user has locked it.
 */
@Injectable()
export class ManagedApiKeys {
  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(outboxToken('iam')) private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly revoker: TokenRevoker,
  ) {}

  /** NOT_FOUND naming the service ID when it is not a service ID of the account. */
  async issue(request: ValidatedRequestOf<'iam.apikey.issue-for-service'>): Promise<ResponseOf<'iam.apikey.issue-for-service'>> {
    const owner = { iamId: serviceIdIamId(request.service_id), accountId: request.account_id, kind: 'service_id' as const };
    const serviceIdNotFound = () => notFound(`Service ID ${request.service_id}`);
    if (!(await this.dataSource.getRepository(IdentityEntity).existsBy(owner))) throw serviceIdNotFound();

    const value = generateApiKeyValue();
    const hash = await hashApiKey(value); // slow: before the transaction
    const now = this.clock.nowMs();
    const expiresAt = now + request.ttl_seconds * 1000;
    const row: ApiKeyEntity = {
      id: newApiKeyId(),
      accountId: owner.accountId,
      iamId: owner.iamId,
      name: request.name,
      description: managedDescription(expiresAt, request.description),
      lookup: apiKeyLookup(value),
      hash,
      locked: false,
      entityTag: 1,
      createdBy: SECRETS_MANAGER,
      createdAt: now,
      modifiedAt: now,
      expiresAt,
      managedBy: SECRETS_MANAGER,
    };
    await this.dataSource.transaction(async (manager) => {
      // The service ID may have been deleted while the hash was computed.
      if (!(await manager.existsBy(IdentityEntity, owner))) throw serviceIdNotFound();
      await manager.insert(ApiKeyEntity, { ...row }); // a copy: PostgreSQL writes RETURNING values back into it
      await this.outbox.record(manager, 'iam.apikey.created', apiKeyCreated(row));
    });
    return { apikey_id: row.id, iam_id: row.iamId, expires_at: isoTime(expiresAt), apikey: value };
  }

  /** Delete a key issued by `issue`; a key that is gone already (or was never issued so) is `deleted: false`. */
  async revoke(request: ValidatedRequestOf<'iam.apikey.revoke'>): Promise<ResponseOf<'iam.apikey.revoke'>> {
    const where = { id: request.apikey_id, accountId: request.account_id, managedBy: SECRETS_MANAGER };
    const deleted = await this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(ApiKeyEntity, { select: { id: true, accountId: true, iamId: true }, where });
      if (!key) return false;
      const result = await manager.delete(ApiKeyEntity, where);
      if (result.affected !== 1) return false; // deleted meanwhile by someone else, who recorded the event
      await this.deleted(manager, key);
      return true;
    });
    return { deleted };
  }

  /**
   * Delete the managed keys whose `expires_at` is at or before `now`, a batch at a time (each batch one
   * transaction with its `iam.apikey.deleted` events), at most SWEEP_MAX_BATCHES batches. Safe with
   * several replicas sweeping at once: a key deleted by another one is skipped without an event.
   * The only query of iam over every account: each key is then deleted with its own account id.
   */
  async sweepExpired(now: number = this.clock.nowMs()): Promise<number> {
    const repository = this.dataSource.getRepository(ApiKeyEntity);
    let deleted = 0;
    for (let batch = 0; batch < SWEEP_MAX_BATCHES; batch += 1) {
      const due = await repository.find({
        select: { id: true, accountId: true, iamId: true },
        where: { managedBy: SECRETS_MANAGER, expiresAt: LessThanOrEqual(now) },
        order: { expiresAt: 'ASC', id: 'ASC' },
        take: SWEEP_BATCH_SIZE,
      });
      if (due.length === 0) break;
      deleted += await this.dataSource.transaction(async (manager) => {
        let count = 0;
        for (const key of due) {
          const result = await manager.delete(ApiKeyEntity, { id: key.id, accountId: key.accountId, managedBy: SECRETS_MANAGER });
          if (result.affected !== 1) continue;
          await this.deleted(manager, key);
          count += 1;
        }
        return count;
      });
      if (due.length < SWEEP_BATCH_SIZE) break;
    }
    if (deleted) rootLogger().info({ deleted }, 'iam: deleted expired API keys issued for secrets');
    return deleted;
  }

  /** The event of a deleted key, and the revocation of the access tokens issued from it. */
  private async deleted(manager: EntityManager, key: Pick<ApiKeyEntity, 'id' | 'accountId' | 'iamId'>): Promise<void> {
    await this.outbox.record(manager, 'iam.apikey.deleted', { accountId: key.accountId, apikeyId: key.id, iamId: key.iamId });
    await this.revoker.revoke(manager, { kind: 'apikey', id: key.id, accountId: key.accountId, reason: 'apikey-deleted' });
  }
}
