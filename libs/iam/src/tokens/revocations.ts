import { Inject, Injectable } from '@nestjs/common';
import type { IamWire, ResponseOf, ValidatedRequestOf } from '@sealbox/contracts';
import { Clock, dataSourceToken, outboxToken, validationFailed, type Outbox } from '@sealbox/platform';
import { Brackets, LessThanOrEqual, type DataSource, type EntityManager } from 'typeorm';
import { IAM_OPTIONS, type IamOptions } from '../options.js';
import { TokenRevoker, type RevocationRequest } from '../ports.js';
import { TokenRevocationEntity } from './revocation.entity.js';

/**
 * How much longer than the access token lifetime a revocation is kept: covers a token signed just
 * after the revocation by an exchange that checked the key just before it, the gateway's 5 s leeway
 * on `exp`, and clock differences between replicas.
 */
export const REVOCATION_MARGIN_MS = 5 * 60_000;

const CURSOR_SEPARATOR = '/';
const cursorOf = (row: Pick<TokenRevocationEntity, 'kind' | 'subjectId'>) => `${row.kind}${CURSOR_SEPARATOR}${row.subjectId}`;

function parseCursor(after: string): { kind: string; subjectId: string } {
  const at = after.indexOf(CURSOR_SEPARATOR);
  if (at <= 0) throw validationFailed([{ field: 'after', message: 'must be the `next` of a previous page' }]);
  return { kind: after.slice(0, at), subjectId: after.slice(at + 1) };
}

/**
 * Token revocations: recorded in the revoking transaction with an `iam.tokens.revoked` event (which
 * every gateway applies at once), and listed for the gateways' reconciliation (on start, on every
 * reconnect and periodically: an event on a core NATS subscription can be missed). A revocation lasts
 * the access token lifetime plus REVOCATION_MARGIN_MS; expired ones are deleted by later revocations,
 * never by a read. The one table of iam read across accounts: gateways serve every account.
 */
@Injectable()
export class TokenRevocations extends TokenRevoker {
  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(outboxToken('iam')) private readonly outbox: Outbox,
    @Inject(IAM_OPTIONS) private readonly options: IamOptions,
    private readonly clock: Clock,
  ) {
    super();
  }

  async revoke(manager: EntityManager, revocation: RevocationRequest): Promise<void> {
    const now = this.clock.nowMs();
    const expiresAt = now + this.options.accessTokenTtlSeconds * 1000 + REVOCATION_MARGIN_MS;
    await manager.delete(TokenRevocationEntity, { expiresAt: LessThanOrEqual(now) });
    await manager.upsert(
      TokenRevocationEntity,
      { kind: revocation.kind, subjectId: revocation.id, accountId: revocation.accountId, reason: revocation.reason, revokedAt: now, expiresAt },
      ['kind', 'subjectId'],
    );
    await this.outbox.record(manager, 'iam.tokens.revoked', {
      accountId: revocation.accountId,
      kind: revocation.kind,
      id: revocation.id,
      reason: revocation.reason,
      expiresAt: new Date(expiresAt).toISOString(),
    });
  }

  /** The revocations in force, in (kind, id) order after `after`. */
  async list(request: ValidatedRequestOf<'iam.revocation.list'>): Promise<ResponseOf<'iam.revocation.list'>> {
    const query = this.dataSource
      .getRepository(TokenRevocationEntity)
      .createQueryBuilder('row')
      .where('row.expiresAt > :now', { now: this.clock.nowMs() });
    if (request.after !== undefined) {
      const cursor = parseCursor(request.after);
      query.andWhere(
        new Brackets((after) =>
          after
            .where('row.kind > :afterKind', { afterKind: cursor.kind })
            .orWhere('(row.kind = :afterKind AND row.subjectId > :afterId)', { afterId: cursor.subjectId }),
        ),
      );
    }
    const rows = await query
      .orderBy('row.kind', 'ASC')
      .addOrderBy('row.subjectId', 'ASC')
      .limit(request.limit + 1)
      .getMany();
    const page = rows.slice(0, request.limit);
    const last = page.at(-1);
    return {
      revocations: page.map(
        (row): IamWire.Revocation => ({ kind: row.kind, id: row.subjectId, expires_at: new Date(row.expiresAt).toISOString() }),
      ),
      ...(rows.length > request.limit && last ? { next: cursorOf(last) } : {}),
    };
  }
}
