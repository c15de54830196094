import { ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { CryptoModuleOptions } from './crypto.module.js';
import { DEFAULT_DEK_CACHE_OPTIONS, MAX_DEK_CACHE_TTL_MS } from './dek-cache/dek-cache.js';

const count = z.coerce.number().int();

/** Settings of the crypto domain, for apps/crypto (and apps/standalone when it composes them). */
export const CryptoSettings = {
  SEALBOX_CRYPTO_DEK_CACHE_MAX_ENTRIES: count
    .min(0)
    .max(1_000_000)
    .default(DEFAULT_DEK_CACHE_OPTIONS.maxEntries)
    .describe('Most unwrapped data keys held in memory (0 = no cache: every open asks kms)'),
  SEALBOX_CRYPTO_DEK_CACHE_TTL_MS: count
    .min(0)
    .max(MAX_DEK_CACHE_TTL_MS)
    .default(DEFAULT_DEK_CACHE_OPTIONS.ttlMs)
    .describe('How long an unwrapped data key is reused, at most 300000 (5 min); key and instance events drop it at once'),
  SEALBOX_CRYPTO_DEK_CACHE_MAX_USES: count
    .min(1)
    .max(1_000_000)
    .default(DEFAULT_DEK_CACHE_OPTIONS.maxUses)
    .describe('How many opens one cached data key serves before kms is asked again'),
};

/** Configuration of apps/crypto. It keeps no state of its own, so it has no database. */
export const CryptoAppConfig = z.object({ ...ServiceSettings, ...CryptoSettings });
export type CryptoAppConfig = z.output<typeof CryptoAppConfig>;

export function cryptoOptionsFrom(config: z.output<z.ZodObject<typeof CryptoSettings>>): CryptoModuleOptions {
  return {
    dekCache: {
      maxEntries: config.SEALBOX_CRYPTO_DEK_CACHE_MAX_ENTRIES,
      ttlMs: config.SEALBOX_CRYPTO_DEK_CACHE_TTL_MS,
      maxUses: config.SEALBOX_CRYPTO_DEK_CACHE_MAX_USES,
    },
  };
}
