import { DatabaseSettings, ServiceSettings } from '@sealbox/platform';
import { z } from 'zod';
import type { IamModuleOptions } from './iam.module.js';

/** Configuration of apps/iam. */
export const IamAppConfig = z.object({
  ...ServiceSettings,
  ...DatabaseSettings,
  SEALBOX_IAM_ADMIN_KEY_FILE: z
    .string()
    .optional()
    .describe('Also write the first-start admin API key to this file (mode 0600)'),
});
export type IamAppConfig = z.output<typeof IamAppConfig>;

export function iamOptionsFrom(config: IamAppConfig): IamModuleOptions {
  return {
    database: { type: 'postgres', url: config.SEALBOX_DATABASE_URL },
    bootstrap: config.SEALBOX_IAM_ADMIN_KEY_FILE ? { adminKeyFile: config.SEALBOX_IAM_ADMIN_KEY_FILE } : {},
  };
}
