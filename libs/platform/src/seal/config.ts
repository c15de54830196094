import { z } from 'zod';

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
