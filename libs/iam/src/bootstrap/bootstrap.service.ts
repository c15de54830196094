import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Clock, dataSourceToken, LOGGER, outboxToken, type Outbox } from '@sealbox/platform';
import { randomUUID } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { apiKeyLookup, generateApiKeyValue, hashApiKey } from '../apikeys/apikey-secret.js';
import { AccountEntity, ApiKeyEntity, BootstrapStateEntity, IdentityEntity } from '../entities/index.js';

export const IAM_BOOTSTRAP_OPTIONS = Symbol('sealbox:iam:bootstrap-options');

export interface IamBootstrapOptions {
  /** Where to also write the admin API key (mode 0600); standalone sets it, distributed does not. */
  readonly adminKeyFile?: string;
  /** Receives the one-time banner; stdout by default. */
  readonly announce?: (text: string) => void;
}

export interface BootstrapResult {
  readonly accountId: string;
  readonly adminIamId: string;
  readonly apikeyId: string;
  /** Present only in the process that performed the bootstrap. */
  readonly apikey?: string;
}

const BOOTSTRAP_ROW = 'bootstrap';

/**
 * First start: create the account, its administrator and one API key, print the key once. The
 * bootstrap row's primary key guarantees one winner when several replicas start together; later
 * starts find the row and print nothing secret.
 */
@Injectable()
export class IamBootstrap implements OnApplicationBootstrap {
  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    @Inject(outboxToken('iam')) private readonly outbox: Outbox,
    @Inject(IAM_BOOTSTRAP_OPTIONS) private readonly options: IamBootstrapOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureBootstrapped();
  }

  async ensureBootstrapped(): Promise<BootstrapResult> {
    const existing = await this.dataSource.getRepository(BootstrapStateEntity).findOneBy({ id: BOOTSTRAP_ROW });
    if (existing) return this.describe(existing.accountId);

    const apikey = generateApiKeyValue();
    const hash = await hashApiKey(apikey);
    const now = this.clock.nowMs();
    const accountId = randomUUID().replaceAll('-', '');
    const adminIamId = `IBMid-${randomUUID()}`;
    const apikeyId = `ApiKey-${randomUUID()}`;
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(BootstrapStateEntity, { id: BOOTSTRAP_ROW, accountId, completedAt: now });
        await manager.insert(AccountEntity, { id: accountId, name: 'Sealbox', createdAt: now });
        await manager.insert(IdentityEntity, { iamId: adminIamId, accountId, kind: 'user', name: 'admin', createdAt: now });
        await manager.insert(ApiKeyEntity, {
          id: apikeyId,
          accountId,
          iamId: adminIamId,
          name: 'admin',
          description: 'Created on first start',
          lookup: apiKeyLookup(apikey),
          hash,
          locked: false,
          createdAt: now,
          expiresAt: null,
        });
        await this.outbox.record(manager, 'iam.account.created', { accountId, adminIamId });
        await this.outbox.record(manager, 'iam.apikey.created', { accountId, apikeyId, iamId: adminIamId, name: 'admin' });
      });
    } catch (error) {
      // Another replica won the race: its row is there now.
      const winner = await this.dataSource.getRepository(BootstrapStateEntity).findOneBy({ id: BOOTSTRAP_ROW });
      if (winner) return this.describe(winner.accountId);
      throw error;
    }

    if (this.options.adminKeyFile) {
      writeFileSync(this.options.adminKeyFile, `${apikey}\n`, { mode: 0o600 });
      chmodSync(this.options.adminKeyFile, 0o600);
    }
    const announce = this.options.announce ?? ((text: string) => process.stdout.write(text));
    announce(
      [
        '',
        'Sealbox first start: created the account and its administrator.',
        `  account id:    ${accountId}`,
        `  admin API key: ${apikey}`,
        ...(this.options.adminKeyFile ? [`  (also written to ${this.options.adminKeyFile}, mode 0600)`] : []),
        'This key is shown once. Store it now; it cannot be displayed again.',
        '',
      ].join('\n') + '\n',
    );
    this.logger.info({ accountId, apikeyId }, 'first start: account, administrator and API key created');
    return { accountId, adminIamId, apikeyId, apikey };
  }

  private async describe(accountId: string): Promise<BootstrapResult> {
    const key = await this.dataSource.getRepository(ApiKeyEntity).findOneOrFail({
      where: { accountId, name: 'admin' },
      order: { createdAt: 'ASC' },
    });
    return { accountId, adminIamId: key.iamId, apikeyId: key.id };
  }
}
