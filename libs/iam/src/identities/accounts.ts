import { randomUUID } from 'node:crypto';
import { apiKeyLookup, generateApiKeyValue, hashApiKey } from '../apikeys/apikey-secret.js';
import type { AccountEntity } from '../entities/index.js';

/** Everything a new account needs, computed before its transaction (the slow scrypt hash included). */
export interface NewAccount {
  readonly accountId: string;
  readonly name: string;
  readonly adminIamId: string;
  readonly apikeyId: string;
  /** The administrator's key value: returned once to whoever creates the account, never stored. */
  readonly apikey: string;
  readonly apikeyDescription: string;
  readonly lookup: string;
  readonly hash: string;
}

export const ADMIN_NAME = 'admin';

export const newApiKeyId = () => `ApiKey-${randomUUID()}`;
export const newUserIamId = () => `IBMid-${randomUUID()}`;
/** IBM account ids are 32 hex digits. */
export const newAccountId = () => randomUUID().replaceAll('-', '');

export async function prepareAccount(name: string, apikeyDescription: string): Promise<NewAccount> {
  const apikey = generateApiKeyValue();
  return {
    accountId: newAccountId(),
    name,
    adminIamId: newUserIamId(),
    apikeyId: newApiKeyId(),
    apikey,
    apikeyDescription,
    lookup: apiKeyLookup(apikey),
    hash: await hashApiKey(apikey),
  };
}

/**
 * Does the account restrict users' own API keys (IBM `restrict_create_platform_apikey`)? Sealbox's
 * default (NOT_SET) is RESTRICTED, unlike IBM Cloud's.
 */
export const userApiKeysRestricted = (account: Pick<AccountEntity, 'restrictCreatePlatformApikey'>): boolean =>
  account.restrictCreatePlatformApikey !== 'NOT_RESTRICTED';
