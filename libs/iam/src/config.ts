import {
  DatabaseSettings,
  postgresConfigOf,
  SealPkcs11Settings,
  ServiceSettings,
  unsealServiceSeal,
  type Clock,
  type KeyProtector,
  type Pkcs11SealOptions,
} from '@sealbox/platform';
import { join } from 'node:path';
import { z } from 'zod';
import type { IamModuleOptions } from './iam.module.js';
import { DEFAULT_API_KEYS_PER_IDENTITY } from './options.js';

/** The iam master key's wrapped file in SEALBOX_IAM_SEAL_DIRECTORY (beside its seal.json). */
export const IAM_SEALED_MASTER_KEY_FILE = 'iam-master.key.sealed';

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

/**
 * Configuration of apps/iam. The master key that seals the token signing keys follows the seal rules
 * of standalone: with SEALBOX_IAM_SEAL_DIRECTORY it is on disk only wrapped by a root key whose seal
 * a PKCS#11 token (auto-unseal) or a passphrase file opens; the clear key file is development only
 * (refused with SEALBOX_ENV=production).
 */
export const IamAppConfig = z
  .object({
    ...ServiceSettings,
    ...DatabaseSettings,
    ...IamSettings,
    SEALBOX_IAM_MASTER_KEY_FILE: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Development only: file with the master key sealing the token signing keys, in clear (created 0600 if missing, shared by replicas). With SEALBOX_IAM_SEAL_DIRECTORY: a clear key file of an older deployment, wrapped on the first start and then deleted',
      ),
    SEALBOX_IAM_SEAL_DIRECTORY: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Private directory (0700, shared by replicas) of the iam seal: seal.json and iam-master.key.sealed, the master key wrapped by a root key that the PKCS#11 token (SEALBOX_SEAL_PKCS11_*) or SEALBOX_UNSEAL_PASSPHRASE_FILE unseals at every start. Required with SEALBOX_ENV=production',
      ),
    SEALBOX_UNSEAL_PASSPHRASE_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('With SEALBOX_IAM_SEAL_DIRECTORY and no PKCS#11 token: file (0600, a mounted secret) with the passphrase that seals the iam master key; the first start initialises the seal with it'),
    ...SealPkcs11Settings,
    SEALBOX_ENV: z
      .enum(['development', 'production'])
      .default('development')
      .describe('production: the iam master key must be sealed (SEALBOX_IAM_SEAL_DIRECTORY); a clear key file is refused'),
    SEALBOX_IAM_ADMIN_KEY_FILE: z
      .string()
      .optional()
      .describe('Also write the first-start admin API key to this file (mode 0600)'),
  })
  .superRefine((config, context) => {
    if (config.SEALBOX_IAM_SEAL_DIRECTORY === undefined) {
      if (config.SEALBOX_ENV === 'production') {
        context.addIssue({
          code: 'custom',
          path: ['SEALBOX_IAM_SEAL_DIRECTORY'],
          message: 'is required with SEALBOX_ENV=production (the iam master key is never in clear on disk outside development)',
        });
      } else if (config.SEALBOX_IAM_MASTER_KEY_FILE === undefined) {
        context.addIssue({ code: 'custom', path: ['SEALBOX_IAM_MASTER_KEY_FILE'], message: 'is required (or SEALBOX_IAM_SEAL_DIRECTORY)' });
      }
      return;
    }
    if (config.SEALBOX_SEAL_PKCS11_TOKEN_LABEL === undefined && config.SEALBOX_UNSEAL_PASSPHRASE_FILE === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['SEALBOX_IAM_SEAL_DIRECTORY'],
        message: 'needs an unseal secret: SEALBOX_SEAL_PKCS11_TOKEN_LABEL and SEALBOX_SEAL_PKCS11_PIN_FILE (auto-unseal) or SEALBOX_UNSEAL_PASSPHRASE_FILE',
      });
    }
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

/**
 * The iam app's module options. With SEALBOX_IAM_SEAL_DIRECTORY, `protector` is its unsealed seal
 * (`unsealIamSeal`) and the master key is kept only wrapped (a clear SEALBOX_IAM_MASTER_KEY_FILE of
 * an older deployment is migrated into it, then deleted); without, the clear file (development).
 */
export function iamOptionsFrom(config: IamAppConfig, protector?: KeyProtector): IamModuleOptions {
  const directory = config.SEALBOX_IAM_SEAL_DIRECTORY;
  if (directory !== undefined && !protector) throw new Error('SEALBOX_IAM_SEAL_DIRECTORY: the iam master key needs its unsealed seal (unsealIamSeal)');
  const clearFile = config.SEALBOX_IAM_MASTER_KEY_FILE ?? join(directory ?? '.', 'iam-master.key');
  return {
    database: postgresConfigOf(config),
    bootstrap: config.SEALBOX_IAM_ADMIN_KEY_FILE ? { adminKeyFile: config.SEALBOX_IAM_ADMIN_KEY_FILE } : {},
    iam: {
      ...iamDomainOptions(config, clearFile),
      ...(directory !== undefined && protector ? { sealedMasterKey: { file: join(directory, IAM_SEALED_MASTER_KEY_FILE), protector } } : {}),
    },
  };
}

/**
 * The seal of SEALBOX_IAM_SEAL_DIRECTORY, opened at start by the PKCS#11 token (`pkcs11`, from
 * libs/hsm `pkcs11SealOptionsFrom`) or the passphrase file; undefined without a seal directory (the
 * development clear key file).
 */
export async function unsealIamSeal(
  config: IamAppConfig,
  clock: Clock,
  pkcs11: Pkcs11SealOptions | undefined,
  options: { readonly scryptLogN?: number } = {},
): Promise<KeyProtector | undefined> {
  const directory = config.SEALBOX_IAM_SEAL_DIRECTORY;
  if (directory === undefined) return undefined;
  const passphrase = config.SEALBOX_UNSEAL_PASSPHRASE_FILE;
  return unsealServiceSeal({
    directory,
    clock,
    ...(pkcs11 ? { pkcs11 } : {}),
    ...(options.scryptLogN ? { scryptLogN: options.scryptLogN } : {}),
    ...(passphrase !== undefined ? { passphraseFile: { path: passphrase, setting: 'SEALBOX_UNSEAL_PASSPHRASE_FILE' } } : {}),
  });
}
