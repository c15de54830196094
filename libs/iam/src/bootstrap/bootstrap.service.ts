import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Clock, dataSourceToken, LOGGER } from '@sealbox/platform';
import { chmodSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { BootstrapStateEntity } from '../entities/index.js';
import { BOOTSTRAP_ROW } from './bootstrap-row.js';
import { IdentityService } from '../identities/identity.service.js';

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


/**
 * First start: create the account, its administrator (with the account-admin grant) and one API key
 * exactly as `iam.account.create` does, and print the key once. The bootstrap row's primary key
 * guarantees one winner when several replicas start together; later starts find the row and print
 * nothing secret.
 */
@Injectable()
export class IamBootstrap implements OnApplicationBootstrap {
  constructor(
    @Inject(dataSourceToken('iam')) private readonly dataSource: DataSource,
    private readonly identities: IdentityService,
    @Inject(IAM_BOOTSTRAP_OPTIONS) private readonly options: IamBootstrapOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureBootstrapped();
  }

  async ensureBootstrapped(): Promise<BootstrapResult> {
    const existing = await this.dataSource.getRepository(BootstrapStateEntity).findOneBy({ id: BOOTSTRAP_ROW });
    if (existing) return this.describe(existing);

    const account = await this.identities.prepareAccount('Sealbox', 'Created on first start');
    const { accountId, adminIamId, apikeyId, apikey } = account;
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(BootstrapStateEntity, {
          id: BOOTSTRAP_ROW,
          accountId,
          adminIamId,
          apikeyId,
          completedAt: this.clock.nowMs(),
        });
        await this.identities.insertAccount(manager, account);
      });
    } catch (error) {
      // Another replica won the race: its row is there now.
      const winner = await this.dataSource.getRepository(BootstrapStateEntity).findOneBy({ id: BOOTSTRAP_ROW });
      if (winner) return this.describe(winner);
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

  private describe(state: BootstrapStateEntity): BootstrapResult {
    // Both columns are written with the row and backfilled for rows older than them.
    if (state.adminIamId === null || state.apikeyId === null) throw new Error('The IAM bootstrap row is incomplete');
    return { accountId: state.accountId, adminIamId: state.adminIamId, apikeyId: state.apikeyId };
  }
}
