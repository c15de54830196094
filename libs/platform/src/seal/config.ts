import { z } from 'zod';

/**
 * The PKCS#11 token of auto-unseal (a `pkcs11` seal): where the key that wraps the KEK lives. The
 * names follow the HSM's SEALBOX_PKCS11_* settings; the PIN comes only from a 0600 file.
 */
export const SealPkcs11Settings = {
  SEALBOX_SEAL_PKCS11_LIBRARY: z
    .string()
    .min(1)
    .default('/usr/lib/softhsm/libsofthsm2.so')
    .describe('Auto-unseal: the PKCS#11 module of the token that holds the seal key (SoftHSM2 by default)'),
  SEALBOX_SEAL_PKCS11_TOKEN_LABEL: z
    .string()
    .min(1)
    .max(32)
    .optional()
    .describe('Auto-unseal: label of the PKCS#11 token holding the seal key; set, the store may be initialised or rekeyed with type pkcs11 and then unseals itself at start'),
  SEALBOX_SEAL_PKCS11_PIN_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('Auto-unseal: file (mode 0600, a mounted secret) with the user PIN of that token; required with SEALBOX_SEAL_PKCS11_TOKEN_LABEL (there is no PIN variable, so the PIN is in no environment dump)'),
  SEALBOX_SEAL_PKCS11_KEY_LABEL: z
    .string()
    .min(1)
    .max(128)
    .default('sealbox-seal')
    .describe('Auto-unseal: label of the non-extractable AES-256 token key that wraps the unseal key (created by init or rekey if the token has none)'),
};

/** Settings of the key store's seal (standalone). */
export const SealSettings = {
  SEALBOX_SEAL_MODE: z
    .enum(['dev', 'operator'])
    .optional()
    .describe(
      'dev: an empty data directory is initialised with a generated unseal key written to DEV-ONLY-unseal.key beside the data, and unsealed from it at every start (a copy of the directory then opens everything). operator: the process starts sealed until operators unseal it (sealbox operator init / unseal). Default: dev, or operator when SEALBOX_ENV=production (dev must then be asked for explicitly)',
    ),
  SEALBOX_UNSEAL_PASSPHRASE_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('Unseal at start with the passphrase in this file (mode 0600, outside the data directory: a mounted secret); the store must have been initialised with a passphrase'),
  ...SealPkcs11Settings,
  SEALBOX_ENV: z
    .enum(['development', 'production'])
    .default('development')
    .describe('production: the key store starts sealed (SEALBOX_SEAL_MODE defaults to operator; dev mode must be asked for explicitly)'),
};

export type SealMode = 'dev' | 'operator';

/** The seal mode a configuration asks for: dev unless SEALBOX_ENV=production, where dev must be explicit. */
export function sealModeOf(config: z.output<z.ZodObject<typeof SealSettings>>): { readonly mode: SealMode; readonly devInProduction: boolean } {
  const production = config.SEALBOX_ENV === 'production';
  const mode = config.SEALBOX_SEAL_MODE ?? (production ? 'operator' : 'dev');
  return { mode, devInProduction: production && mode === 'dev' };
}
