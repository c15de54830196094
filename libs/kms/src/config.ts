import { DatabaseSettings, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { KmsModuleOptions } from './kms.module.js';

/** Configuration of apps/kms (distributed: keys in a PKCS#11 token). */
export const KmsAppConfig = z.object({
  ...ServiceSettings,
  ...DatabaseSettings,
  SEALBOX_PKCS11_LIBRARY: z
    .string()
    .default('/usr/lib/softhsm/libsofthsm2.so')
    .describe('PKCS#11 module of the HSM (SoftHSM2 by default)'),
  SEALBOX_PKCS11_TOKEN_LABEL: z.string().default('sealbox').describe('Label of the token that holds the keys'),
  SEALBOX_PKCS11_PIN: z.string().min(4).describe('User PIN of the token (required, no default)'),
});
export type KmsAppConfig = z.output<typeof KmsAppConfig>;

export function kmsOptionsFrom(config: KmsAppConfig): KmsModuleOptions {
  return {
    database: { type: 'postgres', url: config.SEALBOX_DATABASE_URL },
    hsm: {
      backend: 'pkcs11',
      library: config.SEALBOX_PKCS11_LIBRARY,
      tokenLabel: config.SEALBOX_PKCS11_TOKEN_LABEL,
      pin: config.SEALBOX_PKCS11_PIN,
    },
  };
}
