import { randomUUID } from 'node:crypto';
import { apiKeyLookup, generateApiKeyValue, hashApiKey } from '../apikeys/apikey-secret.js';
import type { AccountEntity } from '../entities/index.js';

/** A new API key: its id, its value (returned once, never stored) and what is stored of it. */
export interface NewApiKey {
  readonly apikeyId: string;
  readonly apikey: string;
  readonly lookup: string;
  readonly hash: string;
}

/** Everything a new account needs, computed before its transaction (the slow scrypt hash included). */
export interface NewAccount extends NewApiKey {
  readonly accountId: string;
  readonly name: string;
  readonly adminIamId: string;
  readonly apikeyDescription: string;
}

export const ADMIN_NAME = 'admin';

export const newApiKeyId = () => `ApiKey-${randomUUID()}`;
export const newUserIamId = () => `IBMid-${randomUUID()}`;
/** IBM account ids are 32 hex digits. */
export const newAccountId = () => randomUUID().replaceAll('-', '');

/** A fresh key value with its id, lookup prefix and scrypt hash (slow: before any transaction). */
export async function prepareApiKey(): Promise<NewApiKey> {
  const apikey = generateApiKeyValue();
  return { apikeyId: newApiKeyId(), apikey, lookup: apiKeyLookup(apikey), hash: await hashApiKey(apikey) };
}

export async function prepareAccount(name: string, apikeyDescription: string): Promise<NewAccount> {
  return { ...(await prepareApiKey()), accountId: newAccountId(), name, adminIamId: newUserIamId(), apikeyDescription };
}

/**
 * Does the account restrict users' own API keys (IBM `restrict_create_platform_apikey`)? Sealbox's
 * default (NOT_SET) is RESTRICTED, unlike IBM Cloud's.
 */
export const userApiKeysRestricted = (account: Pick<AccountEntity, 'restrictCreatePlatformApikey'>): boolean =>
  account.restrictCreatePlatformApikey !== 'NOT_RESTRICTED';
