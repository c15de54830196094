import { providerKinds } from '@sealbox/kms-plugins';
import { DatabaseSettings, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { KmsModuleOptions } from './kms.module.js';
import type { KmsDomainOptions } from './tokens.js';

const providerKind = z.enum(providerKinds);
/** `first, b or c`: the default kind, then the others in registry order. */
function kindChoices(first: string): string {
  const kinds = [first, ...providerKinds.filter((kind) => kind !== first)];
  return kinds.length === 1 ? first : `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}`;
}

/** Settings of the kms domain shared by apps/kms and apps/standalone. */
export const KmsSettings = {
  SEALBOX_KMS_PROVIDER_KMS: providerKind
    .default('key-protect')
    .describe(`Provider plugin backing new \`kms\` (Key Protect-like) instances: ${kindChoices('key-protect')}`),
  SEALBOX_KMS_PROVIDER_HS_CRYPTO: providerKind
    .default('hpcs')
    .describe(`Provider plugin backing new \`hs-crypto\` (HPCS-like) instances: ${kindChoices('hpcs')}`),
  SEALBOX_KMS_HPCS_THRESHOLD: z.coerce
    .number()
    .int()
    .min(2)
    .max(8)
    .default(2)
    .describe('Master key parts an HPCS-like instance needs when it is created without a threshold'),
  SEALBOX_KMS_IMPORT_TOKEN_RSA_BITS: z.enum(['2048', '3072', '4096']).default('4096').describe('RSA modulus of import tokens (Key Protect: 4096)'),
  SEALBOX_KMS_SCHEDULER_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .refine((ms) => ms === 0 || ms >= 1000, 'must be 0 (off) or at least 1000')
    .default(60_000)
    .describe('How often the key rotation and purge schedulers look for due keys, in ms (0 = never; at least 1000 otherwise)'),
};

/** Configuration of apps/kms (distributed: keys in a PKCS#11 token). */
export const KmsAppConfig = z.object({
  ...ServiceSettings,
  ...DatabaseSettings,
  ...KmsSettings,
  SEALBOX_PKCS11_LIBRARY: z
    .string()
    .default('/usr/lib/softhsm/libsofthsm2.so')
    .describe('PKCS#11 module of the HSM (SoftHSM2 by default)'),
  SEALBOX_PKCS11_TOKEN_LABEL: z.string().min(1).max(32).default('sealbox').describe('Label of the token that holds the keys'),
  SEALBOX_PKCS11_PIN: z.string().min(4).describe('User PIN of the token (required, no default)'),
});
export type KmsAppConfig = z.output<typeof KmsAppConfig>;

type KmsSettings = z.output<z.ZodObject<typeof KmsSettings>>;

/** Provider selection and plugin settings from the kms settings. */
export function kmsDomainOptions(config: KmsSettings): Pick<KmsModuleOptions, 'providers' | 'domain'> {
  const domain: Partial<KmsDomainOptions> = {
    providerFor: { kms: config.SEALBOX_KMS_PROVIDER_KMS, 'hs-crypto': config.SEALBOX_KMS_PROVIDER_HS_CRYPTO },
    importTokenRsaBits: Number(config.SEALBOX_KMS_IMPORT_TOKEN_RSA_BITS),
    schedulerIntervalMs: config.SEALBOX_KMS_SCHEDULER_INTERVAL_MS,
  };
  return { providers: [{ kind: 'hpcs', defaultThreshold: config.SEALBOX_KMS_HPCS_THRESHOLD }], domain };
}

export function kmsOptionsFrom(config: KmsAppConfig): KmsModuleOptions {
  return {
    database: { type: 'postgres', url: config.SEALBOX_DATABASE_URL },
    hsm: {
      backend: 'pkcs11',
      library: config.SEALBOX_PKCS11_LIBRARY,
      tokenLabel: config.SEALBOX_PKCS11_TOKEN_LABEL,
      pin: config.SEALBOX_PKCS11_PIN,
    },
    ...kmsDomainOptions(config),
  };
}
