import { DatabaseSettings, postgresConfigOf, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { IamModuleOptions } from './iam.module.js';

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
  };
}

export function iamOptionsFrom(config: IamAppConfig): IamModuleOptions {
  return {
    database: postgresConfigOf(config),
    bootstrap: config.SEALBOX_IAM_ADMIN_KEY_FILE ? { adminKeyFile: config.SEALBOX_IAM_ADMIN_KEY_FILE } : {},
    iam: iamDomainOptions(config, config.SEALBOX_IAM_MASTER_KEY_FILE),
  };
}
