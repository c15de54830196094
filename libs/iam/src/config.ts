import { DatabaseSettings, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { IamModuleOptions } from './iam.module.js';
import { DEFAULT_API_KEYS_PER_IDENTITY } from './options.js';

const seconds = z.coerce.number().int().positive();

/** Settings of the IAM domain shared by apps/iam and apps/standalone. */
export const IamSettings = {
  SEALBOX_IAM_ACCESS_TOKEN_TTL_S: seconds.max(86_400).default(3600).describe('Lifetime of access tokens in seconds'),
  SEALBOX_IAM_REFRESH_TOKEN_TTL_S: seconds.default(2_592_000).describe('Lifetime of refresh tokens in seconds (30 days)'),
  SEALBOX_IAM_SIGNING_KEY_OVERLAP_S: seconds
    .default(3600)
    .describe('How long a rotated-out token signing key still verifies (at least the access token lifetime)'),
  SEALBOX_IAM_ISSUER: z.string().default('sealbox').describe('`iss` claim of access tokens'),
  SEALBOX_IAM_APIKEY_SWEEP_INTERVAL_S: seconds
    .max(3600)
    .default(60)
    .describe('How often iam deletes the expired API keys it issued for `iam_credentials` secrets, in seconds'),
  SEALBOX_IAM_API_KEYS_PER_IDENTITY: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(DEFAULT_API_KEYS_PER_IDENTITY)
    .describe('API keys one user or service ID may hold (keys iam issues for iam_credentials secrets not counted); one more is 409 QUOTA_EXCEEDED'),
  SEALBOX_IAM_PROVIDER_ACCOUNT_ID: z
    .string()
    .min(1)
    .max(64)
    .default('sealbox-provider')
    .describe(
      "The provider's account (same value as SEALBOX_LIFECYCLE_PROVIDER_ACCOUNT_ID): its KMS instances hold the root keys of provider-managed Secrets Manager instances and serve secrets-manager without a per-customer authorization",
    ),
};

/** Configuration of apps/iam. */
export const IamAppConfig = z.object({
  ...ServiceSettings,
  ...DatabaseSettings,
  ...IamSettings,
  SEALBOX_IAM_MASTER_KEY_FILE: z
    .string()
    .min(1)
    .describe('File with the platform master key sealing the token signing keys; created with mode 0600 if missing, shared by replicas'),
  SEALBOX_IAM_ADMIN_KEY_FILE: z
    .string()
    .optional()
    .describe('Also write the first-start admin API key to this file (mode 0600)'),
});
export type IamAppConfig = z.output<typeof IamAppConfig>;

export function iamDomainOptions(
  config: z.output<z.ZodObject<typeof IamSettings>>,
  masterKeyFile: string,
): IamModuleOptions['iam'] {
  return {
    masterKeyFile,
    accessTokenTtlSeconds: config.SEALBOX_IAM_ACCESS_TOKEN_TTL_S,
    refreshTokenTtlSeconds: config.SEALBOX_IAM_REFRESH_TOKEN_TTL_S,
    signingKeyOverlapSeconds: Math.max(config.SEALBOX_IAM_SIGNING_KEY_OVERLAP_S, config.SEALBOX_IAM_ACCESS_TOKEN_TTL_S),
    issuer: config.SEALBOX_IAM_ISSUER,
    apiKeySweepIntervalMs: config.SEALBOX_IAM_APIKEY_SWEEP_INTERVAL_S * 1000,
    providerAccountId: config.SEALBOX_IAM_PROVIDER_ACCOUNT_ID,
    apiKeysPerIdentity: config.SEALBOX_IAM_API_KEYS_PER_IDENTITY,
  };
}

export function iamOptionsFrom(config: IamAppConfig): IamModuleOptions {
  return {
    database: { type: 'postgres', url: config.SEALBOX_DATABASE_URL },
    bootstrap: config.SEALBOX_IAM_ADMIN_KEY_FILE ? { adminKeyFile: config.SEALBOX_IAM_ADMIN_KEY_FILE } : {},
    iam: iamDomainOptions(config, config.SEALBOX_IAM_MASTER_KEY_FILE),
  };
}
