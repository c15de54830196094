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
  /**
   * Is the banner read on a terminal? (Default: whether stdout is one.) Off a terminal the key is left
   * out of the banner when it was written to `adminKeyFile`: a log stream is no place for a credential.
   */
  readonly terminal?: boolean;
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
    announce(firstStartBanner(accountId, apikey, this.options.adminKeyFile, this.options.terminal ?? process.stdout.isTTY === true));
    this.logger.info({ accountId, apikeyId }, 'first start: account, administrator and API key created');
    return { accountId, adminIamId, apikeyId, apikey };
  }

  private describe(state: BootstrapStateEntity): BootstrapResult {
    // Both columns are written with the row and backfilled for rows older than them.
    if (state.adminIamId === null || state.apikeyId === null) throw new Error('The IAM bootstrap row is incomplete');
    return { accountId: state.accountId, adminIamId: state.adminIamId, apikeyId: state.apikeyId };
  }
}

/**
 * What the first start prints. On a terminal: the key, once. Off a terminal (a log collector, a
 * service manager's journal) with a key file: only where the key is. Off a terminal without a key file
 * (a distributed iam not given SEALBOX_IAM_ADMIN_KEY_FILE) the key has nowhere else to go, so it is
 * printed, with the advice to set the file.
 */
export function firstStartBanner(accountId: string, apikey: string, adminKeyFile: string | undefined, terminal: boolean): string {
  const header = ['', 'Sealbox first start: created the account and its administrator.', `  account id:    ${accountId}`];
  const lines =
    adminKeyFile && !terminal
      ? [
          ...header,
          `  admin API key: written to ${adminKeyFile} (mode 0600); not printed, as this output is not a terminal.`,
          'Read it from that file once, store it safely, then delete the file.',
        ]
      : [
          ...header,
          `  admin API key: ${apikey}`,
          ...(adminKeyFile
            ? [`  (also written to ${adminKeyFile}, mode 0600)`]
            : terminal
              ? []
              : ['  (set SEALBOX_IAM_ADMIN_KEY_FILE to have it written to a file instead of this output)']),
          'This key is shown once. Store it now; it cannot be displayed again.',
        ];
  return `${[...lines, ''].join('\n')}\n`;
}
