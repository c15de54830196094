import { providerKinds } from '@sealbox/kms-plugins';
import { DatabaseSettings, postgresConfigOf, readSecretFileSync, ServiceSettings, unsealServiceSeal, type Clock, type KeyProtector } from '@sealbox/platform';
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

/** Configuration of apps/kms (distributed: keys in a PKCS#11 token, or the soft HSM sealed by a passphrase). */
export const KmsAppConfig = z
  .object({
    ...ServiceSettings,
    ...DatabaseSettings,
    ...KmsSettings,
    SEALBOX_HSM_BACKEND: z
      .enum(['pkcs11', 'soft'])
      .default('pkcs11')
      .describe('pkcs11: keys in a PKCS#11 token (SoftHSM2 or a real HSM). soft: the pure-software HSM in SEALBOX_SOFT_HSM_DIRECTORY, its master key sealed by the passphrase in SEALBOX_UNSEAL_PASSPHRASE_FILE (one replica only)'),
    SEALBOX_PKCS11_LIBRARY: z
      .string()
      .default('/usr/lib/softhsm/libsofthsm2.so')
      .describe('PKCS#11 module of the HSM (SoftHSM2 by default)'),
    SEALBOX_PKCS11_TOKEN_LABEL: z.string().min(1).max(32).default('sealbox').describe('Label of the token that holds the keys'),
    SEALBOX_PKCS11_PIN: z.string().min(4).optional().describe('User PIN of the token (no default; or SEALBOX_PKCS11_PIN_FILE)'),
    SEALBOX_PKCS11_PIN_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('File holding the user PIN of the token (mode 0600; a mounted secret), instead of SEALBOX_PKCS11_PIN: the PIN then is in no environment dump'),
    SEALBOX_SOFT_HSM_DIRECTORY: z.string().min(1).optional().describe('soft backend: the private directory of its keys and seal (mode 0700)'),
    SEALBOX_UNSEAL_PASSPHRASE_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('soft backend: file (0600, a mounted secret) with the passphrase that seals the soft HSM master key; the first start initialises the seal with it'),
  })
  .superRefine((config, context) => {
    if (config.SEALBOX_HSM_BACKEND === 'soft') {
      if (config.SEALBOX_SOFT_HSM_DIRECTORY === undefined) context.addIssue({ code: 'custom', path: ['SEALBOX_SOFT_HSM_DIRECTORY'], message: 'is required with SEALBOX_HSM_BACKEND=soft' });
      if (config.SEALBOX_UNSEAL_PASSPHRASE_FILE === undefined) {
        context.addIssue({ code: 'custom', path: ['SEALBOX_UNSEAL_PASSPHRASE_FILE'], message: 'is required with SEALBOX_HSM_BACKEND=soft (the soft HSM master key is never in clear on disk)' });
      }
      return;
    }
    if (config.SEALBOX_PKCS11_PIN === undefined && config.SEALBOX_PKCS11_PIN_FILE === undefined) {
      context.addIssue({ code: 'custom', path: ['SEALBOX_PKCS11_PIN'], message: 'is required (or SEALBOX_PKCS11_PIN_FILE)' });
    }
    if (config.SEALBOX_PKCS11_PIN !== undefined && config.SEALBOX_PKCS11_PIN_FILE !== undefined) {
      context.addIssue({ code: 'custom', path: ['SEALBOX_PKCS11_PIN_FILE'], message: 'set either SEALBOX_PKCS11_PIN or SEALBOX_PKCS11_PIN_FILE, not both' });
    }
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

/**
 * The kms app's module options. The soft backend needs `hsmProtector`, the unsealed seal of its
 * directory (`unsealKmsSoftHsm`); PKCS#11 reads its PIN here, at start, never logged.
 */
export function kmsOptionsFrom(config: KmsAppConfig, hsmProtector?: KeyProtector): KmsModuleOptions {
  const database = postgresConfigOf(config);
  if (config.SEALBOX_HSM_BACKEND === 'soft') {
    if (!hsmProtector) throw new Error('SEALBOX_HSM_BACKEND=soft: the soft HSM needs its unsealed seal (unsealKmsSoftHsm)');
    return { database, hsm: { backend: 'soft', directory: config.SEALBOX_SOFT_HSM_DIRECTORY ?? '' }, hsmProtector, ...kmsDomainOptions(config) };
  }
  return {
    database,
    hsm: {
      backend: 'pkcs11',
      library: config.SEALBOX_PKCS11_LIBRARY,
      tokenLabel: config.SEALBOX_PKCS11_TOKEN_LABEL,
      // The PIN file is checked like a key file (0600, no link); the PIN goes to the module, nowhere else.
      pin: config.SEALBOX_PKCS11_PIN ?? readSecretFileSync(config.SEALBOX_PKCS11_PIN_FILE ?? '', 'SEALBOX_PKCS11_PIN_FILE'),
    },
    ...kmsDomainOptions(config),
  };
}

/**
 * The soft backend's seal (`<directory>/seal.json`): initialised with the passphrase of
 * SEALBOX_UNSEAL_PASSPHRASE_FILE on the first start, unsealed with it on every start. Undefined for
 * PKCS#11 (the token protects its keys; its PIN unlocks them).
 */
export async function unsealKmsSoftHsm(config: KmsAppConfig, clock: Clock): Promise<KeyProtector | undefined> {
  if (config.SEALBOX_HSM_BACKEND !== 'soft') return undefined;
  return unsealServiceSeal({
    directory: config.SEALBOX_SOFT_HSM_DIRECTORY ?? '',
    clock,
    passphraseFile: { path: config.SEALBOX_UNSEAL_PASSPHRASE_FILE ?? '', setting: 'SEALBOX_UNSEAL_PASSPHRASE_FILE' },
  });
}
