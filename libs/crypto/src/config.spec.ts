import { ConfigError, loadConfig } from '@sealbox/platform';
import { describe, expect, it } from 'vitest';
import { CryptoAppConfig, cryptoOptionsFrom } from './config.js';
import { DEFAULT_DEK_CACHE_OPTIONS } from './dek-cache/dek-cache.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(CryptoAppConfig, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('crypto configuration', () => {
  it('defaults the DEK cache bounds', () => {
    expect(cryptoOptionsFrom(loadConfig(CryptoAppConfig, {}))).toEqual({ dekCache: DEFAULT_DEK_CACHE_OPTIONS });
    expect(DEFAULT_DEK_CACHE_OPTIONS.ttlMs).toBeLessThanOrEqual(300_000);
  });

  it('maps the SEALBOX_CRYPTO_DEK_CACHE_* variables', () => {
    const config = loadConfig(CryptoAppConfig, {
      SEALBOX_CRYPTO_DEK_CACHE_MAX_ENTRIES: '0',
      SEALBOX_CRYPTO_DEK_CACHE_TTL_MS: '300000',
      SEALBOX_CRYPTO_DEK_CACHE_MAX_USES: '7',
    });
    expect(cryptoOptionsFrom(config)).toEqual({ dekCache: { maxEntries: 0, ttlMs: 300_000, maxUses: 7 } });
  });

  it.each([
    ['SEALBOX_CRYPTO_DEK_CACHE_TTL_MS', '300001'],
    ['SEALBOX_CRYPTO_DEK_CACHE_TTL_MS', '-1'],
    ['SEALBOX_CRYPTO_DEK_CACHE_MAX_USES', '0'],
    ['SEALBOX_CRYPTO_DEK_CACHE_MAX_ENTRIES', 'many'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
  });
});
